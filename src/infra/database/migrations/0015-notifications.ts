import type { Kysely } from 'kysely';

/**
 * Notification targets and their delivery log (src/modules/webhooks). A target is a custom
 * webhook, a chat/push platform or an SMTP mailbox; `secrets` is sealed with the SecretBox like
 * account credentials. One delivery row per (outbox event, target): the unique pair makes the
 * fan-out idempotent, and its status / attempts columns are the compare-and-set guard that keeps
 * two instances from sending one delivery twice.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('notification_targets')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(200)', (c) => c.notNull().unique())
    // `webhook` | `slack` | `discord` | `telegram` | `feishu` | `dingtalk` | `wecom` | `bark` | `email`
    .addColumn('kind', 'varchar(32)', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    // JSON list of event types; null: every event type.
    .addColumn('events', 'text')
    // JSON of the non-secret configuration fields.
    .addColumn('config', 'text', (c) => c.notNull())
    // SecretBox ciphertext of a JSON object of the secret fields; null when there are none.
    .addColumn('secrets', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('notification_deliveries')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    // The outbox event id (a fresh id for a test message); receivers dedupe on it.
    .addColumn('event_id', 'varchar(36)', (c) => c.notNull())
    .addColumn('target_id', 'varchar(36)', (c) =>
      c.notNull().references('notification_targets.id').onDelete('cascade'),
    )
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    // JSON of the NotificationMessage sent (the same bytes on every attempt); never a secret.
    .addColumn('message', 'text', (c) => c.notNull())
    // `pending` | `delivered` | `failed` (gave up)
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // When the next attempt is due; null once delivered or failed.
    .addColumn('next_attempt_at', 'bigint')
    // HTTP status of the last attempt (null: no answer, or email).
    .addColumn('last_status', 'integer')
    // Why the last attempt failed; never a secret or a URL.
    .addColumn('last_error', 'varchar(500)')
    .addColumn('last_duration_ms', 'integer')
    .addColumn('delivered_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('notification_deliveries_event_target_uq', ['event_id', 'target_id'])
    .execute();
  // Due work: pending rows by their next attempt.
  await db.schema
    .createIndex('notification_deliveries_due_idx')
    .on('notification_deliveries')
    .columns(['status', 'next_attempt_at'])
    .execute();
  // The delivery log, newest first, whole or per target.
  await db.schema
    .createIndex('notification_deliveries_log_idx')
    .on('notification_deliveries')
    .columns(['created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('notification_deliveries_target_idx')
    .on('notification_deliveries')
    .columns(['target_id', 'created_at'])
    .execute();
}
