import type { Kysely } from 'kysely';

/**
 * How a key reserves against its cost caps: `strict` (the request's worst case, never over the
 * cap) or `estimate` (from the key's recent requests, with a bounded overshoot). Existing keys
 * keep the strict behaviour they had.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('api_keys')
    .addColumn('reservation_policy', 'varchar(16)', (c) => c.notNull().defaultTo('strict'))
    .execute();
}
