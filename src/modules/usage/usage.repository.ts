import { Inject, Injectable, Optional } from '@nestjs/common';
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
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import type { OutboxTopic } from 'src/infra/outbox/outbox.types';
import { BILLING_EVENT_TYPE, toBillingOutboxRow, type BillingEventExtras } from './billing-event';
import { aggregateRows, toRequestLogRow, uniqueById } from './usage-batch';
import type { UsageEvent } from './usage.types';

/** How the usage writer is set up; provided by UsageModule from the configuration. */
export interface UsageWriteOptions {
  /**
   * Also append a billing event (outbox topic `usage`) for every newly stored row, in the same
   * transaction: on when AMQP_URL is set. Off, the batch writes nothing more than before.
   */
  billingStream: boolean;
}
export const USAGE_WRITE_OPTIONS = Symbol('USAGE_WRITE_OPTIONS');

/** The billing extras (key name, user) of a batch's events, by request-log row id. */
type BillingExtrasById = ReadonlyMap<string, BillingEventExtras>;

/** The outbox topic billing events go to (see OutboxTopic; read by the billing stream). */
const OUTBOX_TOPIC: OutboxTopic = 'usage';

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

/**
 * Billing events of the fresh rows, one array parameter per column like the request log. `ON
 * CONFLICT DO NOTHING`: an event already in the outbox (same id) stays as it was.
 */
const PG_INSERT_BILLING_EVENTS =
  'INSERT INTO outbox_events (id, topic, type, partition_key, payload, created_at) ' +
  'SELECT e.id, $4::text, $5::text, e.partition_key, e.payload, $6::int8 ' +
  'FROM unnest($1::text[], $2::text[], $3::text[]) AS e(id, partition_key, payload) ' +
  'ON CONFLICT DO NOTHING';

async function postgresBatchWrite(
  trx: Transaction<Database>,
  rows: readonly RequestLogTable[],
  billing: BillingExtrasById | null,
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
  if (billing !== null && fresh.length > 0) {
    const ids = new Array<string>(fresh.length);
    const partitions = new Array<string | null>(fresh.length);
    const payloads = new Array<string>(fresh.length);
    for (let i = 0; i < fresh.length; i++) {
      const event = toBillingOutboxRow(fresh[i], billing.get(fresh[i].id), timeOrderedId);
      ids[i] = event.id;
      partitions[i] = event.partitionKey;
      payloads[i] = event.payload;
    }
    await trx.executeQuery(
      CompiledQuery.raw(PG_INSERT_BILLING_EVENTS, [
        ids,
        partitions,
        payloads,
        OUTBOX_TOPIC,
        BILLING_EVENT_TYPE,
        Date.now(),
      ]),
    );
  }
  return fresh.length;
}

type SqliteBatchWrite = (
  rows: readonly RequestLogTable[],
  billing: BillingExtrasById | null,
) => number;

/**
 * The same write as the Kysely path, as two statements prepared once and run row by row in one
 * transaction: SQLite executes in-process, so building, compiling and preparing a 500-row
 * statement for every batch cost more than the rows themselves.
 */
function sqliteBatchWrite(
  sqlite: BetterSqlite3.Database,
  billingStream: boolean,
): SqliteBatchWrite {
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
  // Prepared only with the stream on: the embedded default never touches the outbox.
  const insertBillingEvent = billingStream
    ? sqlite.prepare(
        'INSERT INTO outbox_events (id, topic, type, partition_key, payload, created_at) ' +
          'VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      )
    : null;
  const logValues = new Array<unknown>(LOG_COLUMNS.length);
  const aggregateValues = new Array<unknown>(AGGREGATE_COLUMNS.length);
  return sqlite.transaction(
    (rows: readonly RequestLogTable[], billing: BillingExtrasById | null): number => {
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
      if (insertBillingEvent !== null && billing !== null) {
        const now = Date.now();
        for (const row of fresh) {
          const event = toBillingOutboxRow(row, billing.get(row.id), timeOrderedId);
          insertBillingEvent.run(
            event.id,
            OUTBOX_TOPIC,
            BILLING_EVENT_TYPE,
            event.partitionKey,
            event.payload,
            now,
          );
        }
      }
      return fresh.length;
    },
  );
}

/** The first event of each row id (the one uniqueById keeps) holds that row's extras. */
function billingExtras(
  events: readonly UsageEvent[],
  rows: readonly RequestLogTable[],
): BillingExtrasById {
  const extras = new Map<string, BillingEventExtras>();
  for (let i = 0; i < rows.length; i++) {
    if (!extras.has(rows[i].id)) extras.set(rows[i].id, events[i]);
  }
  return extras;
}

@Injectable()
export class UsageRepository implements UsageBatchWriter {
  private readonly sqlite: BetterSqlite3.Database | undefined;
  /** Prepared on the first write, once migrations have created the tables. */
  private sqliteWrite: SqliteBatchWrite | undefined;

  private readonly billingStream: boolean;

  constructor(
    @InjectDb() private readonly db: Db,
    @Optional() @Inject(USAGE_WRITE_OPTIONS) options?: UsageWriteOptions,
  ) {
    this.sqlite = sqliteHandleOf(db);
    this.billingStream = options?.billingStream ?? false;
  }

  /**
   * With the billing stream on, the same transaction also appends one outbox event per row it
   * newly stored: a batch delivered twice (journal replay, a retry after a lost commit) adds no
   * second event, and an event exists exactly when its row does.
   */
  async writeBatch(events: readonly UsageEvent[]): Promise<number> {
    const all = events.map(toRequestLogRow);
    const rows = uniqueById(all);
    if (rows.length === 0) return 0;
    const billing = this.billingStream ? billingExtras(events, all) : null;
    const sqlite = this.sqlite;
    if (sqlite !== undefined) {
      // Holding Kysely's one SQLite connection: no Kysely transaction is open on it meanwhile,
      // so this transaction is never nested in (and rolled back with) someone else's.
      return this.db.connection().execute(async () => {
        this.sqliteWrite ??= sqliteBatchWrite(sqlite, this.billingStream);
        return this.sqliteWrite(rows, billing);
      });
    }
    return this.db.transaction().execute((trx) => postgresBatchWrite(trx, rows, billing));
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
