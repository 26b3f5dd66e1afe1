import { randomUUID } from 'node:crypto';
import type { RequestLogTable, UsageAggregatesTable } from 'src/infra/database/database.types';
import { bucketStart, USAGE_BUCKETS } from './usage-range';
import type { UsageEvent, UsageOutcome } from './usage.types';

export const USAGE_DIMS = ['key', 'account', 'model', 'platform', 'all'] as const;
export type UsageDim = (typeof USAGE_DIMS)[number];

/** `dim_id` of the `all` dimension: one row per bucket for the whole relay. */
export const ALL_DIM_ID = '*';

const OUTCOMES: readonly UsageOutcome[] = ['ok', 'error', 'truncated', 'aborted'];
const INT32_MAX = 2_147_483_647;

// Column widths of migrations 0004 and 0009. PostgreSQL refuses longer strings, and one refused row would
// fail its whole batch again on every retry, so values are cut to fit before they are written.
const WIDTH = { id: 64, ref: 36, platform: 16, model: 128, errorCode: 64, ruleName: 100 } as const;

function text(value: unknown, width: number): string {
  // PostgreSQL text cannot hold NUL; a client-chosen model name could carry one.
  const raw = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  const s = raw.replaceAll('\u0000', '');
  return s.length > width ? s.slice(0, width) : s;
}

function optionalText(value: string | null | undefined, width: number): string | null {
  return value === null || value === undefined ? null : text(value, width);
}

/** A non-negative integer no larger than max; anything else (NaN, negative, fractional) mended. */
function count(value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), max);
}

/**
 * The request-log row for an event, with every value made storable on both engines. The relay
 * builds events from upstream data; a malformed one must still be recorded rather than poison
 * its batch.
 */
export function toRequestLogRow(event: UsageEvent): RequestLogTable {
  const usage = event.usage;
  const at = typeof event.at === 'number' && Number.isFinite(event.at) ? event.at : Date.now();
  const id = text(event.requestId, WIDTH.id);
  return {
    id: id.length > 0 ? id : randomUUID(),
    at: Math.trunc(at),
    api_key_id: optionalText(event.apiKeyId, WIDTH.ref),
    account_id: optionalText(event.accountId, WIDTH.ref),
    platform: text(event.platform, WIDTH.platform),
    model: text(event.model, WIDTH.model),
    status: count(event.status, 999),
    outcome: OUTCOMES.includes(event.outcome) ? event.outcome : 'error',
    stream: event.stream ? 1 : 0,
    input_tokens: count(usage?.inputTokens),
    output_tokens: count(usage?.outputTokens),
    cache_5m_tokens: count(usage?.cacheCreation5mTokens),
    cache_1h_tokens: count(usage?.cacheCreation1hTokens),
    cache_read_tokens: count(usage?.cacheReadTokens),
    cost_micros: count(event.costMicros),
    price_known: event.priceKnown === false ? 0 : 1,
    latency_ms: count(event.latencyMs, INT32_MAX),
    ttfb_ms:
      event.ttfbMs === null || event.ttfbMs === undefined ? null : count(event.ttfbMs, INT32_MAX),
    attempts: count(event.attempts, INT32_MAX),
    error_code: optionalText(event.errorCode, WIDTH.errorCode),
    rule_id: optionalText(event.ruleId, WIDTH.ref),
    rule_name: optionalText(event.ruleName, WIDTH.ruleName),
  };
}

/** Keeps the first row of each id: the log's primary key, and what makes redelivery harmless. */
export function uniqueById(rows: RequestLogTable[]): RequestLogTable[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    if (seen.has(row.id)) return false;
    seen.add(row.id);
    return true;
  });
}

function dimIds(row: RequestLogTable): [UsageDim, string][] {
  const ids: [UsageDim, string][] = [
    ['model', row.model],
    ['platform', row.platform],
    ['all', ALL_DIM_ID],
  ];
  if (row.api_key_id !== null) ids.push(['key', row.api_key_id]);
  if (row.account_id !== null) ids.push(['account', row.account_id]);
  return ids;
}

function emptyAggregate(
  bucket: string,
  start: number,
  dim: UsageDim,
  dimId: string,
): UsageAggregatesTable {
  return {
    bucket,
    bucket_start: start,
    dim,
    dim_id: dimId,
    requests: 0,
    errors: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_5m_tokens: 0,
    cache_1h_tokens: 0,
    cache_read_tokens: 0,
    cost_micros: 0,
    unpriced_requests: 0,
  };
}

function compareKeys(a: UsageAggregatesTable, b: UsageAggregatesTable): number {
  if (a.bucket !== b.bucket) return a.bucket < b.bucket ? -1 : 1;
  if (a.bucket_start !== b.bucket_start) return a.bucket_start - b.bucket_start;
  if (a.dim !== b.dim) return a.dim < b.dim ? -1 : 1;
  if (a.dim_id !== b.dim_id) return a.dim_id < b.dim_id ? -1 : 1;
  return 0;
}

/**
 * Sums rows into one aggregate row per (bucket, bucket start, dimension, id), so a batch costs a
 * few upserts instead of ten per event. Rows without a key or an account count only towards
 * the other dimensions. The result is sorted by primary key: every instance then locks aggregate
 * rows in the same order, so concurrent batches on PostgreSQL wait for each other instead of
 * deadlocking.
 */
export function aggregateRows(rows: readonly RequestLogTable[]): UsageAggregatesTable[] {
  // Rows of one batch mostly share their hour, model, key and account: sum them per such group
  // first (one key string per row), then spread each group over buckets and dimensions.
  const groups = new Map<string, { row: RequestLogTable; sum: UsageAggregatesTable }>();
  for (const row of rows) {
    const hour = bucketStart(row.at, 'hour');
    const key = `${hour}\u0000${row.model}\u0000${row.platform}\u0000${row.api_key_id ?? '\u0001'}\u0000${row.account_id ?? '\u0001'}`;
    let group = groups.get(key);
    if (group === undefined) {
      group = { row, sum: emptyAggregate('hour', hour, 'all', ALL_DIM_ID) };
      groups.set(key, group);
    }
    const sum = group.sum;
    sum.requests += 1;
    sum.errors += row.outcome === 'ok' ? 0 : 1;
    sum.input_tokens += row.input_tokens;
    sum.output_tokens += row.output_tokens;
    sum.cache_5m_tokens += row.cache_5m_tokens;
    sum.cache_1h_tokens += row.cache_1h_tokens;
    sum.cache_read_tokens += row.cache_read_tokens;
    sum.cost_micros += row.cost_micros;
    sum.unpriced_requests += row.price_known === 0 ? 1 : 0;
  }
  const sums = new Map<string, UsageAggregatesTable>();
  for (const { row, sum: part } of groups.values()) {
    for (const bucket of USAGE_BUCKETS) {
      const start = bucketStart(row.at, bucket);
      for (const [dim, dimId] of dimIds(row)) {
        const key = `${bucket}\u0000${start}\u0000${dim}\u0000${dimId}`;
        let sum = sums.get(key);
        if (sum === undefined) {
          sum = emptyAggregate(bucket, start, dim, dimId);
          sums.set(key, sum);
        }
        sum.requests += part.requests;
        sum.errors += part.errors;
        sum.input_tokens += part.input_tokens;
        sum.output_tokens += part.output_tokens;
        sum.cache_5m_tokens += part.cache_5m_tokens;
        sum.cache_1h_tokens += part.cache_1h_tokens;
        sum.cache_read_tokens += part.cache_read_tokens;
        sum.cost_micros += part.cost_micros;
        sum.unpriced_requests += part.unpriced_requests;
      }
    }
  }
  return [...sums.values()].sort(compareKeys);
}
