import type { Kysely } from 'kysely';

/**
 * Self-service users: each user carries the caps their own keys must fit in (JSON, null = the
 * defaults), and a key may belong to a user (null for keys an admin created). No foreign key:
 * deleting a user detaches their keys in the same transaction (see UsersService.remove).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('caps', 'text').execute();
  await db.schema.alterTable('api_keys').addColumn('user_id', 'varchar(36)').execute();
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').column('user_id').execute();
}
