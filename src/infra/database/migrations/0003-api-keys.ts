import type { Kysely } from 'kysely';

/** Switchyard API keys: stored as digests only, with their policy and limits. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('owner', 'varchar(128)')
    .addColumn('key_digest', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('key_hint', 'varchar(32)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('expires_at', 'bigint')
    .addColumn('expires_after_days', 'integer')
    .addColumn('first_used_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('permissions', 'text', (c) => c.notNull())
    .addColumn('model_policy', 'text')
    .addColumn('allowed_clients', 'text')
    .addColumn('bindings', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('limits', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('price_multiplier', 'double precision', (c) => c.notNull().defaultTo(1))
    .addColumn('deleted_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('api_keys_created_idx').on('api_keys').column('created_at').execute();
}
