import { Injectable } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { sqliteHandleOf } from 'src/infra/database/database.factory';
import { InjectDb, pingDatabase } from 'src/infra/database/database.module';
import type { Db, RequestLogTable, UsageAggregatesTable } from 'src/infra/database/database.types';
import { aggregateRows, toRequestLogRow, uniqueById } from './usage-batch';
import type { UsageEvent } from './usage.types';

/** Rows per INSERT: 21 columns x 1000 stays under SQLite's 32766 and PostgreSQL's 65535 bind limit. */
const ROWS_PER_STATEMENT = 1000;

/** Where the usage recorder writes; a port so its queueing can be tested without a database. */
export interface UsageBatchWriter {
  /**
   * Stores a batch in one transaction: its request-log rows and the aggregates of the rows that
   * were new. Idempotent: events already stored (same request id) change nothing. Resolves with
   * the number of rows newly stored.
   */
  writeBatch(events: readonly UsageEvent[]): Promise<number>;
  /** Rejects when the database does not answer. */
  ping(): Promise<void>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const LOG_COLUMNS = [
  'id',
  'at',
  'api_key_id',
  'account_id',
  'platform',
  'model',
  'status',
  'outcome',
  'stream',
  'input_tokens',
  'output_tokens',
  'cache_5m_tokens',
  'cache_1h_tokens',
  'cache_read_tokens',
  'cost_micros',
  'price_known',
  'latency_ms',
  'ttfb_ms',
  'attempts',
  'error_code',
] as const satisfies readonly (keyof RequestLogTable)[];

const AGGREGATE_KEY = ['bucket', 'bucket_start', 'dim', 'dim_id'] as const;
const AGGREGATE_SUMS = [
  'requests',
  'errors',
  'input_tokens',
  'output_tokens',
  'cache_5m_tokens',
  'cache_1h_tokens',
  'cache_read_tokens',
  'cost_micros',
  'unpriced_requests',
] as const satisfies readonly (keyof UsageAggregatesTable)[];
const AGGREGATE_COLUMNS = [...AGGREGATE_KEY, ...AGGREGATE_SUMS];

/** True when the list names every column of the table; a new column fails to compile below. */
type ListsEvery<Table, List extends readonly unknown[]> = [
  Exclude<keyof Table, List[number]>,
] extends [never]
  ? true
  : false;
const _everyColumnListed: [
  ListsEvery<RequestLogTable, typeof LOG_COLUMNS>,
  ListsEvery<UsageAggregatesTable, typeof AGGREGATE_COLUMNS>,
] = [true, true];

type SqliteBatchWrite = (rows: readonly RequestLogTable[]) => number;

/**
 * The same write as the Kysely path, as two statements prepared once and run row by row in one
 * transaction: SQLite executes in-process, so building, compiling and preparing a 500-row
 * statement for every batch cost more than the rows themselves.
 */
function sqliteBatchWrite(sqlite: BetterSqlite3.Database): SqliteBatchWrite {
  const insertLog = sqlite.prepare(
    `INSERT INTO request_log (${LOG_COLUMNS.join(', ')}) ` +
      `VALUES (${LOG_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`,
  );
  const upsertAggregate = sqlite.prepare(
    `INSERT INTO usage_aggregates (${AGGREGATE_COLUMNS.join(', ')}) ` +
      `VALUES (${AGGREGATE_COLUMNS.map(() => '?').join(', ')}) ` +
      `ON CONFLICT (${AGGREGATE_KEY.join(', ')}) DO UPDATE SET ` +
      AGGREGATE_SUMS.map((c) => `${c} = usage_aggregates.${c} + excluded.${c}`).join(', '),
  );
  const logValues = new Array<unknown>(LOG_COLUMNS.length);
  const aggregateValues = new Array<unknown>(AGGREGATE_COLUMNS.length);
  return sqlite.transaction((rows: readonly RequestLogTable[]): number => {
    // Only rows this transaction inserted are aggregated (see writeBatch).
    const fresh: RequestLogTable[] = [];
    for (const row of rows) {
      for (let i = 0; i < LOG_COLUMNS.length; i++) logValues[i] = row[LOG_COLUMNS[i]];
      if (insertLog.run(logValues).changes === 1) fresh.push(row);
    }
    for (const aggregate of aggregateRows(fresh)) {
      for (let i = 0; i < AGGREGATE_COLUMNS.length; i++) {
        aggregateValues[i] = aggregate[AGGREGATE_COLUMNS[i]];
      }
      upsertAggregate.run(aggregateValues);
    }
    return fresh.length;
  });
}

@Injectable()
export class UsageRepository implements UsageBatchWriter {
  private readonly sqlite: BetterSqlite3.Database | undefined;
  /** Prepared on the first write, once migrations have created the tables. */
  private sqliteWrite: SqliteBatchWrite | undefined;

  constructor(@InjectDb() private readonly db: Db) {
    this.sqlite = sqliteHandleOf(db);
  }

  async writeBatch(events: readonly UsageEvent[]): Promise<number> {
    const rows = uniqueById(events.map(toRequestLogRow));
    if (rows.length === 0) return 0;
    const sqlite = this.sqlite;
    if (sqlite !== undefined) {
      // Holding Kysely's one SQLite connection: no Kysely transaction is open on it meanwhile,
      // so this transaction is never nested in (and rolled back with) someone else's.
      return this.db.connection().execute(async () => {
        this.sqliteWrite ??= sqliteBatchWrite(sqlite);
        return this.sqliteWrite(rows);
      });
    }
    return this.db.transaction().execute(async (trx) => {
      const inserted = new Set<string>();
      for (const chunk of chunks(rows, ROWS_PER_STATEMENT)) {
        const result = await trx
          .insertInto('request_log')
          .values(chunk)
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        for (const { id } of result) inserted.add(id);
      }
      // Only rows this transaction inserted are aggregated: a batch delivered twice (a commit
      // whose acknowledgement was lost, then retried) must not count twice.
      const fresh: RequestLogTable[] = rows.filter((row) => inserted.has(row.id));
      for (const chunk of chunks(aggregateRows(fresh), ROWS_PER_STATEMENT)) {
        await trx
          .insertInto('usage_aggregates')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['bucket', 'bucket_start', 'dim', 'dim_id']).doUpdateSet((eb) => ({
              requests: eb('usage_aggregates.requests', '+', eb.ref('excluded.requests')),
              errors: eb('usage_aggregates.errors', '+', eb.ref('excluded.errors')),
              input_tokens: eb(
                'usage_aggregates.input_tokens',
                '+',
                eb.ref('excluded.input_tokens'),
              ),
              output_tokens: eb(
                'usage_aggregates.output_tokens',
                '+',
                eb.ref('excluded.output_tokens'),
              ),
              cache_5m_tokens: eb(
                'usage_aggregates.cache_5m_tokens',
                '+',
                eb.ref('excluded.cache_5m_tokens'),
              ),
              cache_1h_tokens: eb(
                'usage_aggregates.cache_1h_tokens',
                '+',
                eb.ref('excluded.cache_1h_tokens'),
              ),
              cache_read_tokens: eb(
                'usage_aggregates.cache_read_tokens',
                '+',
                eb.ref('excluded.cache_read_tokens'),
              ),
              cost_micros: eb('usage_aggregates.cost_micros', '+', eb.ref('excluded.cost_micros')),
              unpriced_requests: eb(
                'usage_aggregates.unpriced_requests',
                '+',
                eb.ref('excluded.unpriced_requests'),
              ),
            })),
          )
          .execute();
      }
      return fresh.length;
    });
  }

  async ping(): Promise<void> {
    await pingDatabase(this.db);
  }
}
