import type { Kysely } from 'kysely';

/**
 * The transactional outbox (src/infra/outbox): domain events written in the same transaction or
 * write-behind batch as their cause, delivered later, off the request path, by one instance at a
 * time. Rows are kept after processing (processed_at set) and pruned by age.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('outbox_events')
    // A time-ordered UUID (UUID v7): the delivery order within a topic.
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // `notification` (webhooks and the other targets) | `usage` (the billing stream).
    .addColumn('topic', 'varchar(32)', (c) => c.notNull())
    // The event type, e.g. `account.auth_failed`, `usage.recorded`.
    .addColumn('type', 'varchar(64)', (c) => c.notNull())
    // Ordering scope: events of one partition are delivered in id order (an API key id for usage).
    .addColumn('partition_key', 'varchar(200)')
    // At most one event per dedupe key, ever (e.g. `key.budget_100:<key>:<period start>`).
    .addColumn('dedupe_key', 'varchar(200)', (c) => c.unique())
    // JSON of the event's data; never a secret.
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    // Null until the topic's consumer has handed the event on.
    .addColumn('processed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('outbox_events_pending_idx')
    .on('outbox_events')
    .columns(['topic', 'processed_at', 'id'])
    .execute();
  await db.schema
    .createIndex('outbox_events_created_idx')
    .on('outbox_events')
    .columns(['created_at'])
    .execute();
}
