import type { Kysely } from 'kysely';

/** Upstream accounts, their groups, and each account's health transitions. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('accounts')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('platform', 'varchar(16)', (c) => c.notNull())
    .addColumn('type', 'varchar(32)', (c) => c.notNull())
    .addColumn('base_url', 'varchar(512)')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(50))
    .addColumn('weight', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('schedulable', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('models', 'text')
    .addColumn('credentials', 'text', (c) => c.notNull())
    .addColumn('proxy', 'text')
    .addColumn('concurrency_limit', 'integer')
    .addColumn('subscription', 'text')
    .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('active'))
    .addColumn('status_reason', 'text')
    .addColumn('last_used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_platform_idx').on('accounts').column('platform').execute();
  // Names are how admins and the CLI (`accounts disable <name>`) address accounts.
  await db.schema.createIndex('accounts_name_uq').on('accounts').column('name').unique().execute();

  await db.schema
    .createTable('account_groups')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(128)', (c) => c.notNull().unique())
    .addColumn('platform', 'varchar(16)', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('account_group_members')
    .addColumn('group_id', 'varchar(36)', (c) =>
      c.notNull().references('account_groups.id').onDelete('cascade'),
    )
    .addColumn('account_id', 'varchar(36)', (c) =>
      c.notNull().references('accounts.id').onDelete('cascade'),
    )
    .addPrimaryKeyConstraint('account_group_members_pk', ['group_id', 'account_id'])
    .execute();

  await db.schema
    .createTable('account_health_events')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('account_id', 'varchar(36)', (c) =>
      c.notNull().references('accounts.id').onDelete('cascade'),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('scope', 'varchar(64)')
    .addColumn('until', 'bigint')
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('account_health_events_account_idx')
    .on('account_health_events')
    .columns(['account_id', 'at'])
    .execute();
}
