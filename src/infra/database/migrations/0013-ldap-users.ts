import type { Kysely } from 'kysely';

/**
 * Directory (LDAP) users beside local ones: where a user authenticates, and for directory users
 * the DN their last login resolved to. Directory users are created by their first login and carry
 * no usable local password (`password_hash` holds a marker no bcrypt hash can equal).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('auth_source', 'varchar(16)', (c) => c.notNull().defaultTo('local'))
    .execute();
  await db.schema.alterTable('users').addColumn('ldap_dn', 'varchar(1024)').execute();
}
