import type { Kysely } from 'kysely';

/** One row per relayed request, hourly and daily aggregates, and admin price overrides. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('request_log')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('api_key_id', 'varchar(36)')
    .addColumn('account_id', 'varchar(36)')
    .addColumn('platform', 'varchar(16)', (c) => c.notNull())
    .addColumn('model', 'varchar(128)', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('outcome', 'varchar(16)', (c) => c.notNull())
    .addColumn('stream', 'integer', (c) => c.notNull())
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_5m_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_1h_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('price_known', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('latency_ms', 'integer', (c) => c.notNull())
    .addColumn('ttfb_ms', 'integer')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('error_code', 'varchar(64)')
    .execute();
  for (const column of ['at', 'api_key_id', 'account_id', 'model'] as const) {
    const columns = column === 'at' ? ['at'] : [column, 'at'];
    await db.schema
      .createIndex(`request_log_${column}_idx`)
      .on('request_log')
      .columns(columns)
      .execute();
  }

  await db.schema
    .createTable('usage_aggregates')
    .addColumn('bucket', 'varchar(4)', (c) => c.notNull())
    .addColumn('bucket_start', 'bigint', (c) => c.notNull())
    .addColumn('dim', 'varchar(8)', (c) => c.notNull())
    .addColumn('dim_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('errors', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('input_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('output_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_5m_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_1h_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cache_read_tokens', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('cost_micros', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('unpriced_requests', 'bigint', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('usage_aggregates_pk', ['bucket', 'bucket_start', 'dim', 'dim_id'])
    .execute();
  // The primary key serves breakdowns (every id of a bucket range); time series and totals of
  // one key, account or model read that id's buckets through this one.
  await db.schema
    .createIndex('usage_aggregates_dim_idx')
    .on('usage_aggregates')
    .columns(['dim', 'dim_id', 'bucket', 'bucket_start'])
    .execute();

  await db.schema
    .createTable('pricing_overrides')
    .addColumn('model', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
