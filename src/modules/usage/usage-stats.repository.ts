import { Injectable } from '@nestjs/common';
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import type { SortOrder } from 'src/common/http/list-query.dto';
import { InjectDb } from 'src/infra/database/database.module';
import type { Database, Db, RequestLogTable } from 'src/infra/database/database.types';
import type { UsageDim } from './usage-batch';
import type { TimeRange, UsageBucket } from './usage-range';
import type { RequestLogSortField } from './dto/usage-query.dto';
import type { UsageOutcome } from './usage.types';

/** Sums over a set of requests. */
export interface UsageTotals {
  requests: number;
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
  cacheReadTokens: number;
  costMicros: number;
  /** Requests priced with the UNKNOWN_MODEL_* default. */
  unpricedRequests: number;
}

export interface GroupTotals extends UsageTotals {
  /** The key, account or model id; `*` when not grouped. */
  id: string;
}

export interface BucketTotals extends UsageTotals {
  bucketStart: number;
}

export interface RequestFilter {
  keyId?: string;
  /**
   * Only rows of these keys (a user's own). An empty list matches no row: it never widens into
   * "no filter".
   */
  keyIds?: readonly string[];
  accountId?: string;
  model?: string;
  platform?: string;
  status?: number;
  outcome?: UsageOutcome;
}

const REQUEST_SORT_COLUMN = {
  at: 'at',
  costMicros: 'cost_micros',
  latencyMs: 'latency_ms',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
} as const satisfies Record<RequestLogSortField, keyof RequestLogTable>;

/** The request-log column holding each dimension's id. */
export const DIM_COLUMN = {
  key: 'api_key_id',
  account: 'account_id',
  model: 'model',
  platform: 'platform',
} as const satisfies Record<Exclude<UsageDim, 'all'>, keyof RequestLogTable>;

export type GroupDim = keyof typeof DIM_COLUMN;

export function emptyTotals(): UsageTotals {
  return {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreation5mTokens: 0,
    cacheCreation1hTokens: 0,
    cacheReadTokens: 0,
    costMicros: 0,
    unpricedRequests: 0,
  };
}

export function addTotals(into: UsageTotals, from: UsageTotals): void {
  into.requests += from.requests;
  into.errors += from.errors;
  into.inputTokens += from.inputTokens;
  into.outputTokens += from.outputTokens;
  into.cacheCreation5mTokens += from.cacheCreation5mTokens;
  into.cacheCreation1hTokens += from.cacheCreation1hTokens;
  into.cacheReadTokens += from.cacheReadTokens;
  into.costMicros += from.costMicros;
  into.unpricedRequests += from.unpricedRequests;
}

type SumRow = {
  requests: unknown;
  errors: unknown;
  input_tokens: unknown;
  output_tokens: unknown;
  cache_5m_tokens: unknown;
  cache_1h_tokens: unknown;
  cache_read_tokens: unknown;
  cost_micros: unknown;
  unpriced_requests: unknown;
};

/** PostgreSQL returns sum(bigint) as a numeric string, and an empty sum as null. */
function num(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

function toTotals(row: SumRow): UsageTotals {
  return {
    requests: num(row.requests),
    errors: num(row.errors),
    inputTokens: num(row.input_tokens),
    outputTokens: num(row.output_tokens),
    cacheCreation5mTokens: num(row.cache_5m_tokens),
    cacheCreation1hTokens: num(row.cache_1h_tokens),
    cacheReadTokens: num(row.cache_read_tokens),
    costMicros: num(row.cost_micros),
    unpricedRequests: num(row.unpriced_requests),
  };
}

function aggregateSums(eb: ExpressionBuilder<Database, 'usage_aggregates'>) {
  return [
    eb.fn.sum<string>('requests').as('requests'),
    eb.fn.sum<string>('errors').as('errors'),
    eb.fn.sum<string>('input_tokens').as('input_tokens'),
    eb.fn.sum<string>('output_tokens').as('output_tokens'),
    eb.fn.sum<string>('cache_5m_tokens').as('cache_5m_tokens'),
    eb.fn.sum<string>('cache_1h_tokens').as('cache_1h_tokens'),
    eb.fn.sum<string>('cache_read_tokens').as('cache_read_tokens'),
    eb.fn.sum<string>('cost_micros').as('cost_micros'),
    eb.fn.sum<string>('unpriced_requests').as('unpriced_requests'),
  ] as const;
}

function requestLogSums(eb: ExpressionBuilder<Database, 'request_log'>) {
  return [
    eb.fn.countAll<string>().as('requests'),
    eb.fn.sum<string>(eb.case().when('outcome', '<>', 'ok').then(1).else(0).end()).as('errors'),
    eb.fn.sum<string>('input_tokens').as('input_tokens'),
    eb.fn.sum<string>('output_tokens').as('output_tokens'),
    eb.fn.sum<string>('cache_5m_tokens').as('cache_5m_tokens'),
    eb.fn.sum<string>('cache_1h_tokens').as('cache_1h_tokens'),
    eb.fn.sum<string>('cache_read_tokens').as('cache_read_tokens'),
    eb.fn.sum<string>('cost_micros').as('cost_micros'),
    eb.fn
      .sum<string>(eb.case().when('price_known', '=', 0).then(1).else(0).end())
      .as('unpriced_requests'),
  ] as const;
}

function filterRequests<O>(
  query: SelectQueryBuilder<Database, 'request_log', O>,
  filter: RequestFilter,
): SelectQueryBuilder<Database, 'request_log', O> {
  let q = query;
  if (filter.keyId !== undefined) q = q.where('api_key_id', '=', filter.keyId);
  if (filter.keyIds !== undefined) {
    q =
      filter.keyIds.length === 0
        ? q.where(sql<boolean>`1 = 0`)
        : q.where('api_key_id', 'in', filter.keyIds);
  }
  if (filter.accountId !== undefined) q = q.where('account_id', '=', filter.accountId);
  if (filter.model !== undefined) q = q.where('model', '=', filter.model);
  if (filter.platform !== undefined) q = q.where('platform', '=', filter.platform);
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (filter.outcome !== undefined) q = q.where('outcome', '=', filter.outcome);
  return q;
}

/** Read side of usage: aggregate and request-log queries, the same SQL on both engines. */
@Injectable()
export class UsageStatsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /**
   * Totals from the aggregates of one dimension over whole day and hour buckets, per id (or for
   * one id). The ranges must be aligned to their buckets.
   */
  async aggregateTotals(query: {
    dim: UsageDim;
    dimId?: string;
    /** Only these ids (none: no rows). */
    dimIds?: readonly string[];
    days: TimeRange | null;
    hours: TimeRange[];
  }): Promise<GroupTotals[]> {
    const pieces: [UsageBucket, TimeRange][] = query.hours.map((r) => ['hour', r]);
    if (query.days !== null) pieces.push(['day', query.days]);
    if (pieces.length === 0 || query.dimIds?.length === 0) return [];
    let q = this.db
      .selectFrom('usage_aggregates')
      .select((eb) => [eb.ref('dim_id').as('id'), ...aggregateSums(eb)])
      .where('dim', '=', query.dim)
      .where((eb) =>
        eb.or(
          pieces.map(([bucket, range]) =>
            eb.and([
              eb('bucket', '=', bucket),
              eb('bucket_start', '>=', range.from),
              eb('bucket_start', '<', range.to),
            ]),
          ),
        ),
      )
      .groupBy('dim_id');
    if (query.dimId !== undefined) q = q.where('dim_id', '=', query.dimId);
    if (query.dimIds !== undefined) q = q.where('dim_id', 'in', query.dimIds);
    const rows = await q.execute();
    return rows.map((row) => ({ id: row.id, ...toTotals(row) }));
  }

  /**
   * Totals straight from the request log over the given ranges, optionally per key, account or
   * model (rows without that id are left out, as in the aggregates).
   */
  async requestLogTotals(
    ranges: TimeRange[],
    filter: RequestFilter,
    groupBy?: GroupDim,
  ): Promise<GroupTotals[]> {
    if (ranges.length === 0) return [];
    const column = groupBy === undefined ? undefined : DIM_COLUMN[groupBy];
    let q = this.db
      .selectFrom('request_log')
      .select((eb) => [
        column === undefined ? sql<string | null>`'*'`.as('id') : eb.ref(column).as('id'),
        ...requestLogSums(eb),
      ])
      .where((eb) =>
        eb.or(ranges.map((r) => eb.and([eb('at', '>=', r.from), eb('at', '<', r.to)]))),
      );
    q = filterRequests(q, filter);
    if (column !== undefined) q = q.where(column, 'is not', null).groupBy(column);
    const rows = await q.execute();
    // Without GROUP BY an empty range still yields one row of zeros/nulls: keep the shape.
    return rows
      .filter((row) => num(row.requests) > 0)
      .map((row) => ({ id: String(row.id), ...toTotals(row) }));
  }

  /** One row per bucket that has data, oldest first. */
  async series(query: {
    bucket: UsageBucket;
    dim: UsageDim;
    dimId: string;
    range: TimeRange;
  }): Promise<BucketTotals[]> {
    const rows = await this.db
      .selectFrom('usage_aggregates')
      .selectAll()
      .where('bucket', '=', query.bucket)
      .where('dim', '=', query.dim)
      .where('dim_id', '=', query.dimId)
      .where('bucket_start', '>=', query.range.from)
      .where('bucket_start', '<', query.range.to)
      .orderBy('bucket_start')
      .execute();
    return rows.map((row) => ({ bucketStart: num(row.bucket_start), ...toTotals(row) }));
  }

  /** One row per bucket that has data for any of these keys, summed over them, oldest first. */
  async seriesOfKeys(query: {
    bucket: UsageBucket;
    keyIds: readonly string[];
    range: TimeRange;
  }): Promise<BucketTotals[]> {
    if (query.keyIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('usage_aggregates')
      .select((eb) => [eb.ref('bucket_start').as('bucket_start'), ...aggregateSums(eb)])
      .where('bucket', '=', query.bucket)
      .where('dim', '=', 'key')
      .where('dim_id', 'in', query.keyIds)
      .where('bucket_start', '>=', query.range.from)
      .where('bucket_start', '<', query.range.to)
      .groupBy('bucket_start')
      .orderBy('bucket_start')
      .execute();
    return rows.map((row) => ({ bucketStart: num(row.bucket_start), ...toTotals(row) }));
  }

  /** A page of the request log (newest first by default) and the number of rows matching. */
  async listRequests(
    filter: RequestFilter & { range: TimeRange },
    page: { offset: number; limit: number; sortBy: RequestLogSortField; sortOrder: SortOrder },
  ): Promise<{ rows: RequestLogTable[]; total: number }> {
    const base = filterRequests(
      this.db
        .selectFrom('request_log')
        .where('at', '>=', filter.range.from)
        .where('at', '<', filter.range.to),
      filter,
    );
    const [rows, count] = await Promise.all([
      base
        .selectAll()
        .orderBy(REQUEST_SORT_COLUMN[page.sortBy], page.sortOrder)
        // Ids are time-ordered: the tie-breaker keeps equal values in request order, and pages stable.
        .orderBy('id', page.sortOrder)
        .offset(page.offset)
        .limit(page.limit)
        .execute(),
      base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { rows, total: num(count.n) };
  }
  /** One request-log row, or undefined. */
  async findRequest(id: string): Promise<RequestLogTable | undefined> {
    return this.db.selectFrom('request_log').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The rows after `cursor` in time order (then id), for streaming every match of a filter
   * without an offset scan.
   */
  async requestsAfter(
    filter: RequestFilter & { range: TimeRange },
    cursor: { at: number; id: string } | null,
    limit: number,
    order: SortOrder,
  ): Promise<RequestLogTable[]> {
    let q = filterRequests(
      this.db
        .selectFrom('request_log')
        .where('at', '>=', filter.range.from)
        .where('at', '<', filter.range.to),
      filter,
    );
    if (cursor !== null) {
      const past = order === 'desc' ? '<' : '>';
      q = q.where((eb) =>
        eb.or([
          eb('at', past, cursor.at),
          eb.and([eb('at', '=', cursor.at), eb('id', past, cursor.id)]),
        ]),
      );
    }
    return q.selectAll().orderBy('at', order).orderBy('id', order).limit(limit).execute();
  }

  /** Requests per outcome and those that failed over (more than one attempt) in the range. */
  async outcomeCounts(
    range: TimeRange,
    filter: RequestFilter,
  ): Promise<{ outcome: string; requests: number; failovers: number }[]> {
    if (range.from >= range.to) return [];
    const rows = await filterRequests(
      this.db.selectFrom('request_log').where('at', '>=', range.from).where('at', '<', range.to),
      filter,
    )
      .select((eb) => [
        'outcome',
        eb.fn.countAll<string>().as('requests'),
        eb.fn.sum<string>(eb.case().when('attempts', '>', 1).then(1).else(0).end()).as('failovers'),
      ])
      .groupBy('outcome')
      .execute();
    return rows.map((row) => ({
      outcome: row.outcome,
      requests: num(row.requests),
      failovers: num(row.failovers),
    }));
  }

  /**
   * Nearest-rank percentiles of a duration column over the rows of the range that have a value:
   * for each fraction p, the value at rank ceil(p * n) in ascending order. Exact on both engines
   * (SQLite has no percentile function): one count, then one indexed-range sort per fraction.
   */
  async percentiles(
    range: TimeRange,
    filter: RequestFilter,
    column: 'ttfb_ms' | 'latency_ms',
    fractions: readonly number[],
  ): Promise<{ samples: number; values: (number | null)[] }> {
    if (range.from >= range.to) return { samples: 0, values: fractions.map(() => null) };
    const base = filterRequests(
      this.db.selectFrom('request_log').where('at', '>=', range.from).where('at', '<', range.to),
      filter,
    ).where(column, 'is not', null);
    const count = await base
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const samples = num(count.n);
    if (samples === 0) return { samples, values: fractions.map(() => null) };
    const values = await Promise.all(
      fractions.map(async (fraction) => {
        const rank = Math.min(samples, Math.max(1, Math.ceil(fraction * samples)));
        const row = await base
          .select(column)
          .orderBy(column)
          .offset(rank - 1)
          .limit(1)
          .executeTakeFirst();
        const value = row?.[column];
        return value === null || value === undefined ? null : Number(value);
      }),
    );
    return { samples, values };
  }
}
