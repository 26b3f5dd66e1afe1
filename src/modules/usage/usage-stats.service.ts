import { Injectable } from '@nestjs/common';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import type { RequestLogTable } from 'src/infra/database/database.types';
import type { SortOrder } from 'src/common/http/list-query.dto';
import { csvRow } from 'src/common/text/csv';
import type {
  RequestLogExportQueryDto,
  RequestLogQueryDto,
  TimeRangeQueryDto,
  UsageBreakdownQueryDto,
  UsagePerformanceQueryDto,
  UsageSummaryQueryDto,
  UsageTimeseriesQueryDto,
} from './dto/usage-query.dto';
import type {
  KeyUsageDto,
  RequestLogEntryDto,
  RequestLogPageDto,
  UsageBreakdownDto,
  UsagePerformanceDto,
  UsagePointDto,
  UsageSummaryDto,
  UsageTimeseriesDto,
  UsageTotalsDto,
} from './dto/usage-response.dto';
import { ALL_DIM_ID, type UsageDim } from './usage-batch';
import {
  bucketCount,
  bucketStart,
  bucketStarts,
  DAY_MS,
  retentionHorizon,
  splitRetained,
  type RangeSplit,
  type TimeRange,
  type UsageBucket,
} from './usage-range';
import {
  addTotals,
  emptyTotals,
  UsageStatsRepository,
  type GroupDim,
  type BucketTotals,
  type GroupTotals,
  type RequestFilter,
  type UsageTotals,
} from './usage-stats.repository';
import { UsageException, UsageExceptionCode } from './usage.exception';

const DEFAULT_RANGE_MS = DAY_MS;
const KEY_USAGE_DAYS = 30;
/** A year of hours and then some; longer series must use day buckets. */
export const MAX_SERIES_POINTS = 10_000;
const DEFAULT_BREAKDOWN_LIMIT = 20;
const DEFAULT_PAGE_SIZE = 50;
const EXPORT_CHUNK = 1000;
const PERCENTILES = [0.5, 0.95, 0.99] as const;

/** Columns of the request-log CSV export, in order. */
export const REQUEST_CSV_COLUMNS = [
  'id',
  'at',
  'apiKeyId',
  'accountId',
  'platform',
  'model',
  'status',
  'outcome',
  'stream',
  'inputTokens',
  'outputTokens',
  'cacheCreation5mTokens',
  'cacheCreation1hTokens',
  'cacheReadTokens',
  'costUsd',
  'priceKnown',
  'latencyMs',
  'ttfbMs',
  'attempts',
  'errorCode',
  'ruleId',
  'ruleName',
] as const;

function requestCsvLine(entry: RequestLogEntryDto): string {
  return csvRow([
    entry.id,
    entry.at,
    entry.apiKeyId,
    entry.accountId,
    entry.platform,
    entry.model,
    entry.status,
    entry.outcome,
    entry.stream,
    entry.inputTokens,
    entry.outputTokens,
    entry.cacheCreation5mTokens,
    entry.cacheCreation1hTokens,
    entry.cacheReadTokens,
    // Dollars with every micro-dollar: exact, and what a spreadsheet sums directly.
    (entry.costMicros / 1_000_000).toFixed(6),
    entry.priceKnown,
    entry.latencyMs,
    entry.ttfbMs,
    entry.attempts,
    entry.errorCode,
    entry.ruleId,
    entry.ruleName,
  ]);
}

interface DimFilter {
  keyId?: string;
  /** A set of keys (a user's own); empty matches nothing. */
  keyIds?: readonly string[];
  accountId?: string;
  model?: string;
  platform?: string;
}

/** What a scoped (self-service) summary may filter on, within its set of keys. */
export interface KeysUsageQuery extends TimeRangeQueryDto {
  model?: string;
  platform?: string;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function totalsDto(t: UsageTotals): UsageTotalsDto {
  return {
    requests: t.requests,
    errors: t.errors,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    cacheCreation5mTokens: t.cacheCreation5mTokens,
    cacheCreation1hTokens: t.cacheCreation1hTokens,
    cacheReadTokens: t.cacheReadTokens,
    totalTokens:
      t.inputTokens +
      t.outputTokens +
      t.cacheCreation5mTokens +
      t.cacheCreation1hTokens +
      t.cacheReadTokens,
    costMicros: t.costMicros,
    unpricedRequests: t.unpricedRequests,
  };
}

function entryDto(row: RequestLogTable): RequestLogEntryDto {
  return {
    id: row.id,
    at: iso(Number(row.at)),
    apiKeyId: row.api_key_id,
    accountId: row.account_id,
    platform: row.platform,
    model: row.model,
    status: row.status,
    outcome: row.outcome,
    stream: Number(row.stream) === 1,
    inputTokens: Number(row.input_tokens),
    outputTokens: Number(row.output_tokens),
    cacheCreation5mTokens: Number(row.cache_5m_tokens),
    cacheCreation1hTokens: Number(row.cache_1h_tokens),
    cacheReadTokens: Number(row.cache_read_tokens),
    costMicros: Number(row.cost_micros),
    priceKnown: Number(row.price_known) === 1,
    latencyMs: row.latency_ms,
    ttfbMs: row.ttfb_ms,
    attempts: row.attempts,
    errorCode: row.error_code,
    ruleId: row.rule_id ?? null,
    ruleName: row.rule_name ?? null,
  };
}

function sumOf(groups: Map<string, GroupTotals>): UsageTotals {
  const sum = emptyTotals();
  for (const group of groups.values()) addTotals(sum, group);
  return sum;
}

/** The one dimension the aggregates can answer a filter with, or undefined when they cannot. */
function singleDim(
  filter: DimFilter,
): { dim: UsageDim; dimId?: string; dimIds?: readonly string[] } | undefined {
  if (filter.keyIds !== undefined) {
    const alone =
      filter.keyId === undefined &&
      filter.accountId === undefined &&
      filter.model === undefined &&
      filter.platform === undefined;
    return alone ? { dim: 'key', dimIds: filter.keyIds } : undefined;
  }
  const set: { dim: UsageDim; dimId: string }[] = [];
  if (filter.keyId !== undefined) set.push({ dim: 'key', dimId: filter.keyId });
  if (filter.accountId !== undefined) set.push({ dim: 'account', dimId: filter.accountId });
  if (filter.model !== undefined) set.push({ dim: 'model', dimId: filter.model });
  if (filter.platform !== undefined) set.push({ dim: 'platform', dimId: filter.platform });
  if (set.length === 0) return { dim: 'all', dimId: ALL_DIM_ID };
  return set.length === 1 ? set[0] : undefined;
}

/**
 * Usage statistics for the admin API and for a key's own usage.
 *
 * Time is UTC throughout. Aggregates exist per hour (bucket start = a whole UTC hour) and per
 * UTC day. Totals (summary, breakdown, a key's usage) are exact for any range `[from, to)`: the
 * range is cut into whole days (day aggregates), whole hours at the edges (hour aggregates) and
 * the remaining minutes (request log), so they always equal the request log's own sums. Time
 * series report whole buckets: the first point starts at `from` rounded down to its bucket.
 *
 * Request-log rows older than REQUEST_LOG_RETENTION_DAYS are pruned (UsageRetentionService),
 * aggregates are not. Before that horizon a range's minutes at an edge are answered by their
 * whole hour, and a query only the log can answer (two filters) starts at the horizon; the
 * `from` and `to` of the answer say which range was totalled.
 */
@Injectable()
export class UsageStatsService {
  constructor(
    private readonly repository: UsageStatsRepository,
    private readonly settings: RuntimeSettings,
  ) {}

  async summary(query: UsageSummaryQueryDto): Promise<UsageSummaryDto> {
    const { range, groups } = await this.grouped(this.range(query), query);
    return { from: iso(range.from), to: iso(range.to), ...totalsDto(sumOf(groups)) };
  }

  async timeseries(query: UsageTimeseriesQueryDto): Promise<UsageTimeseriesDto> {
    const range = this.range(query);
    const bucket = query.bucket ?? 'hour';
    const dim = query.dim ?? 'all';
    if (dim !== 'all' && query.dimId === undefined) {
      throw new UsageException(UsageExceptionCode.DIM_ID_REQUIRED, `dim=${dim} needs a dimId`);
    }
    const dimId = dim === 'all' ? ALL_DIM_ID : (query.dimId as string);
    return {
      bucket,
      dim,
      dimId,
      from: iso(range.from),
      to: iso(range.to),
      points: await this.points(range, bucket, dim, dimId),
    };
  }

  async breakdown(query: UsageBreakdownQueryDto): Promise<UsageBreakdownDto> {
    const { range, groups } = await this.grouped(this.range(query), {}, query.dim);
    const items = [...groups.values()]
      .sort(
        (a, b) => b.costMicros - a.costMicros || b.requests - a.requests || (a.id < b.id ? -1 : 1),
      )
      .slice(0, query.limit ?? DEFAULT_BREAKDOWN_LIMIT)
      .map((g) => ({ id: g.id, ...totalsDto(g) }));
    return { dim: query.dim, from: iso(range.from), to: iso(range.to), items };
  }

  async requests(query: RequestLogQueryDto): Promise<RequestLogPageDto> {
    const range = this.range(query);
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
    const { rows, total } = await this.repository.listRequests(
      {
        range,
        keyId: query.keyId,
        accountId: query.accountId,
        model: query.model,
        platform: query.platform,
        status: query.status,
        outcome: query.outcome,
      },
      {
        offset: (page - 1) * pageSize,
        limit: pageSize,
        sortBy: query.sortBy ?? 'at',
        sortOrder: query.sortOrder ?? 'desc',
      },
    );
    return { items: rows.map(entryDto), page, pageSize, total };
  }

  /** One request-log entry; 404 REQUEST_NOT_FOUND when there is none (or it was pruned). */
  async request(id: string): Promise<RequestLogEntryDto> {
    const row = await this.repository.findRequest(id);
    if (row === undefined) {
      throw new UsageException(
        UsageExceptionCode.REQUEST_NOT_FOUND,
        `no request ${JSON.stringify(id)} in the request log`,
      );
    }
    return entryDto(row);
  }

  /**
   * The request log's filters as CSV: a header row, then every match in time order. The range is
   * checked before the first row, so a bad one is answered as an error rather than a broken file.
   */
  exportCsv(query: RequestLogExportQueryDto): AsyncGenerator<string> {
    const filter = {
      range: this.range(query),
      keyId: query.keyId,
      accountId: query.accountId,
      model: query.model,
      platform: query.platform,
      status: query.status,
      outcome: query.outcome,
    };
    return this.csvRows(filter, query.sortOrder ?? 'desc');
  }

  private async *csvRows(
    filter: RequestFilter & { range: TimeRange },
    order: SortOrder,
  ): AsyncGenerator<string> {
    yield csvRow(REQUEST_CSV_COLUMNS);
    let cursor: { at: number; id: string } | null = null;
    for (;;) {
      const rows = await this.repository.requestsAfter(filter, cursor, EXPORT_CHUNK, order);
      if (rows.length > 0) yield rows.map((row) => requestCsvLine(entryDto(row))).join('');
      if (rows.length < EXPORT_CHUNK) return;
      const last = rows[rows.length - 1];
      cursor = { at: Number(last.at), id: last.id };
    }
  }

  /**
   * Error and failover rates and time-to-first-byte and latency percentiles over the range, from
   * the request log: a range reaching before the retention horizon starts there (the answer's
   * `from` says so).
   */
  async performance(query: UsagePerformanceQueryDto): Promise<UsagePerformanceDto> {
    const requested = this.range(query);
    const horizon = retentionHorizon(Date.now(), this.settings.get('requestLogRetentionDays'));
    const range = {
      from: Math.max(requested.from, horizon),
      to: Math.max(requested.to, horizon),
    };
    const filter: RequestFilter = {
      keyId: query.keyId,
      accountId: query.accountId,
      model: query.model,
      platform: query.platform,
    };
    const [counts, ttfb, latency] = await Promise.all([
      this.repository.outcomeCounts(range, filter),
      this.repository.percentiles(range, filter, 'ttfb_ms', PERCENTILES),
      this.repository.percentiles(range, filter, 'latency_ms', PERCENTILES),
    ]);
    const outcomes = { ok: 0, error: 0, truncated: 0, aborted: 0 };
    let failovers = 0;
    for (const row of counts) {
      if (row.outcome in outcomes) outcomes[row.outcome as keyof typeof outcomes] += row.requests;
      failovers += row.failovers;
    }
    const requests = outcomes.ok + outcomes.error + outcomes.truncated + outcomes.aborted;
    const errors = requests - outcomes.ok;
    const rate = (n: number): number | null => (requests === 0 ? null : n / requests);
    const percentiles = (p: { samples: number; values: (number | null)[] }) => ({
      samples: p.samples,
      p50: p.values[0],
      p95: p.values[1],
      p99: p.values[2],
    });
    return {
      from: iso(range.from),
      to: iso(range.to),
      requests,
      outcomes,
      errors,
      errorRate: rate(errors),
      failovers,
      failoverRate: rate(failovers),
      ttfbMs: percentiles(ttfb),
      latencyMs: percentiles(latency),
    };
  }

  /**
   * Totals over a set of keys only (a user's own keys). Nothing outside the set is read: an
   * empty set totals zero.
   */
  async summaryOfKeys(keyIds: readonly string[], query: KeysUsageQuery): Promise<UsageSummaryDto> {
    const { range, groups } = await this.grouped(this.range(query), {
      keyIds,
      model: query.model,
      platform: query.platform,
    });
    return { from: iso(range.from), to: iso(range.to), ...totalsDto(sumOf(groups)) };
  }

  /** A time series summed over a set of keys only (`dim` `key`, `dimId` `*`). */
  async timeseriesOfKeys(
    keyIds: readonly string[],
    query: TimeRangeQueryDto & { bucket?: UsageBucket },
  ): Promise<UsageTimeseriesDto> {
    const range = this.range(query);
    const bucket = query.bucket ?? 'hour';
    this.checkPoints(range, bucket);
    const rows = await this.repository.seriesOfKeys({
      bucket,
      keyIds,
      range: { from: bucketStart(range.from, bucket), to: range.to },
    });
    return {
      bucket,
      dim: 'key',
      dimId: ALL_DIM_ID,
      from: iso(range.from),
      to: iso(range.to),
      points: this.fill(range, bucket, rows),
    };
  }

  /** The request log of a set of keys only, newest first. */
  async requestsOfKeys(
    keyIds: readonly string[],
    query: Omit<RequestLogQueryDto, 'accountId'>,
  ): Promise<RequestLogPageDto> {
    const range = this.range(query);
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
    const { rows, total } = await this.repository.listRequests(
      {
        range,
        keyIds,
        keyId: query.keyId,
        model: query.model,
        platform: query.platform,
        status: query.status,
        outcome: query.outcome,
      },
      {
        offset: (page - 1) * pageSize,
        limit: pageSize,
        sortBy: query.sortBy ?? 'at',
        sortOrder: query.sortOrder ?? 'desc',
      },
    );
    return { items: rows.map(entryDto), page, pageSize, total };
  }

  /**
   * One key's usage, for its holder: totals over the range and one point per UTC day. Default
   * range: the last 30 UTC days, today included.
   */
  async keyUsage(keyId: string, range: { from?: number; to?: number } = {}): Promise<KeyUsageDto> {
    const to = range.to ?? Date.now();
    const from = range.from ?? bucketStart(to, 'day') - (KEY_USAGE_DAYS - 1) * DAY_MS;
    const checked = this.range({ from, to });
    const [totals, daily] = await Promise.all([
      this.grouped(checked, { keyId }),
      this.points(checked, 'day', 'key', keyId),
    ]);
    return {
      keyId,
      from: iso(totals.range.from),
      to: iso(totals.range.to),
      totals: totalsDto(sumOf(totals.groups)),
      daily,
    };
  }

  private range(query: TimeRangeQueryDto): TimeRange {
    const to = query.to ?? Date.now();
    const from = query.from ?? to - DEFAULT_RANGE_MS;
    if (from >= to) {
      throw new UsageException(UsageExceptionCode.INVALID_RANGE, '`from` must be before `to`', {
        from,
        to,
      });
    }
    return { from, to };
  }

  /**
   * Exact totals over the range, per id of `groupBy` (or one group `*`). Aggregates answer
   * whatever they can: no filter, or a filter on the same single dimension that is not grouped;
   * anything else (two filters, say key and model) is summed from the request log. Returns the
   * range actually totalled (see the class comment on retention).
   */
  private async grouped(
    requested: TimeRange,
    filter: DimFilter,
    groupBy?: GroupDim,
  ): Promise<{ range: TimeRange; groups: Map<string, GroupTotals> }> {
    const requestFilter: RequestFilter = {
      keyId: filter.keyId,
      keyIds: filter.keyIds,
      accountId: filter.accountId,
      model: filter.model,
      platform: filter.platform,
    };
    const single = singleDim(filter);
    const aggregateDim =
      groupBy === undefined ? single : single?.dim === 'all' ? { dim: groupBy } : undefined;
    const horizon = retentionHorizon(Date.now(), this.settings.get('requestLogRetentionDays'));
    let range: TimeRange;
    let split: RangeSplit;
    if (aggregateDim === undefined) {
      // Only the log can answer: what it may have lost is left out, and the answer says so.
      range = { from: Math.max(requested.from, horizon), to: Math.max(requested.to, horizon) };
      split = { days: null, hours: [], raw: range.from < range.to ? [range] : [] };
    } else {
      ({ split, range } = splitRetained(requested, horizon));
    }
    const [fromAggregates, fromLog] = await Promise.all([
      aggregateDim === undefined
        ? Promise.resolve([])
        : this.repository.aggregateTotals({
            ...aggregateDim,
            days: split.days,
            hours: split.hours,
          }),
      this.repository.requestLogTotals(split.raw, requestFilter, groupBy),
    ]);
    const groups = new Map<string, GroupTotals>();
    for (const part of [...fromAggregates, ...fromLog]) {
      const id = groupBy === undefined ? ALL_DIM_ID : part.id;
      let group = groups.get(id);
      if (group === undefined) {
        group = { id, ...emptyTotals() };
        groups.set(id, group);
      }
      addTotals(group, part);
    }
    return { range, groups };
  }

  private async points(
    range: TimeRange,
    bucket: UsageBucket,
    dim: UsageDim,
    dimId: string,
  ): Promise<UsagePointDto[]> {
    this.checkPoints(range, bucket);
    const rows = await this.repository.series({
      bucket,
      dim,
      dimId,
      range: { from: bucketStart(range.from, bucket), to: range.to },
    });
    return this.fill(range, bucket, rows);
  }

  private checkPoints(range: TimeRange, bucket: UsageBucket): void {
    const count = bucketCount(range, bucket);
    if (count > MAX_SERIES_POINTS) {
      throw new UsageException(
        UsageExceptionCode.RANGE_TOO_LARGE,
        `the range holds ${count} ${bucket} buckets; at most ${MAX_SERIES_POINTS} (use bucket=day)`,
      );
    }
  }

  /** One point per bucket of the range, zeros where no row is. */
  private fill(range: TimeRange, bucket: UsageBucket, rows: BucketTotals[]): UsagePointDto[] {
    const byStart = new Map(rows.map((row) => [row.bucketStart, row]));
    return bucketStarts(range, bucket).map((start) => ({
      start: iso(start),
      ...totalsDto(byStart.get(start) ?? emptyTotals()),
    }));
  }
}
