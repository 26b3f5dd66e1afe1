import { Injectable } from '@nestjs/common';
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, type Transaction } from 'kysely';
import { sqliteHandleOf } from 'src/infra/database/database.factory';
import { InjectDb, pingDatabase } from 'src/infra/database/database.module';
import type {
  Database,
  Db,
  RequestLogTable,
  UsageAggregatesTable,
} from 'src/infra/database/database.types';
import { aggregateRows, toRequestLogRow, uniqueById } from './usage-batch';
import type { UsageEvent } from './usage.types';

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

/**
 * Every request-log column and its PostgreSQL type (for `unnest`), in insert order. A Record over
 * the table's keys: a new column fails to compile until it is listed here.
 */
const LOG_TYPES: Record<keyof RequestLogTable, string> = {
  id: 'text',
  at: 'int8',
  api_key_id: 'text',
  account_id: 'text',
  platform: 'text',
  model: 'text',
  status: 'int4',
  outcome: 'text',
  stream: 'int4',
  input_tokens: 'int8',
  output_tokens: 'int8',
  cache_5m_tokens: 'int8',
  cache_1h_tokens: 'int8',
  cache_read_tokens: 'int8',
  cost_micros: 'int8',
  price_known: 'int4',
  latency_ms: 'int4',
  ttfb_ms: 'int4',
  attempts: 'int4',
  error_code: 'text',
  rule_id: 'text',
  rule_name: 'text',
};
const LOG_COLUMNS = Object.keys(LOG_TYPES) as (keyof RequestLogTable)[];

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
const _everyColumnListed: ListsEvery<UsageAggregatesTable, typeof AGGREGATE_COLUMNS> = true;

function unnestOf(columns: readonly string[], types: (column: string) => string): string {
  return `SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${types(c)}[]`).join(', ')})`;
}

/**
 * PostgreSQL statements with one array parameter per column (`unnest`), whatever the batch size:
 * the text never changes, so nothing is built per batch, the server plans a short statement, and
 * there is no bind-parameter limit to chunk around.
 */
const PG_INSERT_LOG =
  `INSERT INTO request_log (${LOG_COLUMNS.join(', ')}) ` +
  unnestOf(LOG_COLUMNS, (c) => LOG_TYPES[c as keyof RequestLogTable]) +
  ' ON CONFLICT (id) DO NOTHING RETURNING id';
const PG_UPSERT_AGGREGATES =
  `INSERT INTO usage_aggregates (${AGGREGATE_COLUMNS.join(', ')}) ` +
  unnestOf(AGGREGATE_COLUMNS, (c) =>
    c === 'bucket' || c === 'dim' || c === 'dim_id' ? 'text' : 'int8',
  ) +
  ` ON CONFLICT (${AGGREGATE_KEY.join(', ')}) DO UPDATE SET ` +
  AGGREGATE_SUMS.map((c) => `${c} = usage_aggregates.${c} + excluded.${c}`).join(', ');

/** One array per column, in the order of `columns`. */
function columnArrays<Row>(rows: readonly Row[], columns: readonly (keyof Row)[]): unknown[][] {
  const arrays = columns.map(() => new Array<unknown>(rows.length));
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r];
    for (let c = 0; c < columns.length; c++) arrays[c][r] = row[columns[c]];
  }
  return arrays;
}

async function postgresBatchWrite(
  trx: Transaction<Database>,
  rows: readonly RequestLogTable[],
): Promise<number> {
  const result = await trx.executeQuery<{ id: string }>(
    CompiledQuery.raw(PG_INSERT_LOG, columnArrays(rows, LOG_COLUMNS)),
  );
  // Only rows this transaction inserted are aggregated: a batch delivered twice (a commit whose
  // acknowledgement was lost, then retried) must not count twice.
  const inserted = new Set(result.rows.map((r) => r.id));
  const fresh = inserted.size === rows.length ? rows : rows.filter((row) => inserted.has(row.id));
  const aggregates = aggregateRows(fresh);
  if (aggregates.length > 0) {
    await trx.executeQuery(
      CompiledQuery.raw(PG_UPSERT_AGGREGATES, columnArrays(aggregates, AGGREGATE_COLUMNS)),
    );
  }
  return fresh.length;
}

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
    return this.db.transaction().execute((trx) => postgresBatchWrite(trx, rows));
  }

  async ping(): Promise<void> {
    await pingDatabase(this.db);
  }

  /**
   * Deletes up to `limit` request-log rows older than `before` (through the `at` index); returns
   * how many went. Aggregates are left alone: they already hold these rows.
   */
  async pruneRequestLog(before: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('request_log')
      .where('id', 'in', (eb) =>
        eb.selectFrom('request_log').select('id').where('at', '<', before).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
