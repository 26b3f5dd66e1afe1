import type { UsageDim } from '../usage-batch';
import type { UsageBucket } from '../usage-range';

/** Sums over a set of requests. Cost in integer micro-dollars (1e-6 USD). */
export class UsageTotalsDto {
  requests!: number;
  /** Requests whose outcome was not `ok` (error, truncated, aborted). */
  errors!: number;
  inputTokens!: number;
  outputTokens!: number;
  cacheCreation5mTokens!: number;
  cacheCreation1hTokens!: number;
  cacheReadTokens!: number;
  /** Every token kind together. */
  totalTokens!: number;
  costMicros!: number;
  /** Requests for models in no price table, charged at the UNKNOWN_MODEL_* default. */
  unpricedRequests!: number;
}

export class UsageSummaryDto extends UsageTotalsDto {
  from!: string;
  to!: string;
}

export class UsagePointDto extends UsageTotalsDto {
  /** Start of the UTC hour or day. */
  start!: string;
}

export class UsageTimeseriesDto {
  bucket!: UsageBucket;
  dim!: UsageDim;
  dimId!: string;
  from!: string;
  to!: string;
  /** Every bucket overlapping [from, to), oldest first, zeros included. */
  points!: UsagePointDto[];
}

export class UsageBreakdownItemDto extends UsageTotalsDto {
  id!: string;
}

export class UsageBreakdownDto {
  dim!: Exclude<UsageDim, 'all'>;
  from!: string;
  to!: string;
  /** Highest cost first. */
  items!: UsageBreakdownItemDto[];
}

export class RequestLogEntryDto {
  id!: string;
  at!: string;
  apiKeyId!: string | null;
  accountId!: string | null;
  platform!: string;
  model!: string;
  status!: number;
  outcome!: string;
  stream!: boolean;
  inputTokens!: number;
  outputTokens!: number;
  cacheCreation5mTokens!: number;
  cacheCreation1hTokens!: number;
  cacheReadTokens!: number;
  costMicros!: number;
  priceKnown!: boolean;
  latencyMs!: number;
  ttfbMs!: number | null;
  attempts!: number;
  errorCode!: string | null;
  /** The routing rule the request took, or null. */
  ruleId!: string | null;
  /** Its name when the request ran, or `override` for a `provider,model` override. */
  ruleName!: string | null;
}

export class RequestLogPageDto {
  items!: RequestLogEntryDto[];
  page!: number;
  pageSize!: number;
  /** Rows matching the filter, all pages. */
  total!: number;
}

/** A key's own usage, for the key holder (`GET /v1/usage`). */
export class KeyUsageDto {
  keyId!: string;
  from!: string;
  to!: string;
  totals!: UsageTotalsDto;
  /** One point per UTC day. */
  daily!: UsagePointDto[];
}

/** Nearest-rank percentiles of a duration in milliseconds; null when there are no samples. */
export class DurationPercentilesDto {
  /** Requests that have the duration (time to first byte: those that received a byte). */
  samples!: number;
  p50!: number | null;
  p95!: number | null;
  p99!: number | null;
}

export class OutcomeCountsDto {
  ok!: number;
  error!: number;
  truncated!: number;
  aborted!: number;
}

/** Error, failover and latency figures of a range, from the request log. */
export class UsagePerformanceDto {
  from!: string;
  to!: string;
  requests!: number;
  outcomes!: OutcomeCountsDto;
  /** Requests whose outcome was not `ok`. */
  errors!: number;
  /** errors / requests; null without requests. */
  errorRate!: number | null;
  /** Requests that took more than one attempt (failed over to another account). */
  failovers!: number;
  /** failovers / requests; null without requests. */
  failoverRate!: number | null;
  ttfbMs!: DurationPercentilesDto;
  latencyMs!: DurationPercentilesDto;
}
