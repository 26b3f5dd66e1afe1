import type { Kysely } from 'kysely';

/**
 * The audit trail: one row per admin-API mutation, CLI mutation and login event (see
 * src/modules/audit). Snapshots and the diff are sanitized JSON text: no secret is ever stored.
 * The indexes serve the admin list's filters, each ordered by time as the list is.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    // A time-ordered UUID: appends at the end of the primary-key index; ties on `at` sort by it.
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    // A username, `cli`, or `anonymous` (a failed login).
    .addColumn('actor', 'varchar(200)', (c) => c.notNull())
    .addColumn('actor_id', 'varchar(64)')
    .addColumn('actor_role', 'varchar(32)')
    // The TCP peer address, or `local` for the CLI.
    .addColumn('source', 'varchar(64)', (c) => c.notNull())
    .addColumn('action', 'varchar(120)', (c) => c.notNull())
    .addColumn('target_type', 'varchar(64)')
    .addColumn('target_id', 'varchar(200)')
    // `success`, or the error code the caller was answered with.
    .addColumn('outcome', 'varchar(64)', (c) => c.notNull())
    .addColumn('status', 'integer')
    .addColumn('request_id', 'varchar(64)')
    .addColumn('diff', 'text')
    .addColumn('before', 'text')
    .addColumn('after', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at_idx').on('audit_log').columns(['at', 'id']).execute();
  await db.schema
    .createIndex('audit_log_actor_idx')
    .on('audit_log')
    .columns(['actor', 'at'])
    .execute();
  await db.schema
    .createIndex('audit_log_action_idx')
    .on('audit_log')
    .columns(['action', 'at'])
    .execute();
  await db.schema
    .createIndex('audit_log_target_idx')
    .on('audit_log')
    .columns(['target_type', 'target_id', 'at'])
    .execute();
}
