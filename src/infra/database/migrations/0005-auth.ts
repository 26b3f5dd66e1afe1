import type { Kysely } from 'kysely';

/**
 * Revocable admin sessions: every session token carries the user's token version, and a token
 * whose version is not the user's current one is refused. Logout, a password reset and disabling
 * the user bump it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('token_version', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}
