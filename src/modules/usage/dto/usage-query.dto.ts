import { Transform, Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { USAGE_DIMS, type UsageDim } from '../usage-batch';
import { USAGE_BUCKETS, type UsageBucket } from '../usage-range';
import type { UsageOutcome } from '../usage.types';
import { SORT_ORDERS, type SortOrder } from 'src/common/http/list-query.dto';
import { PLATFORMS, type Platform } from 'src/common/platform';

const OUTCOMES: readonly UsageOutcome[] = ['ok', 'error', 'truncated', 'aborted'];
export const GROUP_DIMS = ['key', 'account', 'model', 'platform'] as const;

/** Accepts epoch milliseconds or an ISO 8601 time (`2025-06-01`, `2025-06-01T12:00:00Z`). */
function toEpochMs({ value }: { value: unknown }): unknown {
  if (typeof value !== 'string') return value;
  if (/^\d+$/.test(value)) return Number(value);
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? value : parsed;
}

const TIME_MESSAGE = '$property must be an ISO 8601 time or epoch milliseconds';

/**
 * A half-open time range `[from, to)`. Defaults: `to` = now, `from` = 24 hours before `to`.
 * Totals are exact for any range; time-series points are whole UTC buckets.
 */
export class TimeRangeQueryDto {
  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: TIME_MESSAGE })
  from?: number;

  @IsOptional()
  @Transform(toEpochMs)
  @IsInt({ message: TIME_MESSAGE })
  to?: number;
}

export class UsageSummaryQueryDto extends TimeRangeQueryDto {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(36)
  keyId?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(36)
  accountId?: string;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  model?: string;

  @IsOptional()
  @IsIn(PLATFORMS)
  platform?: Platform;
}

/** Error, failover and latency figures: the same filters as the summary. */
export class UsagePerformanceQueryDto extends UsageSummaryQueryDto {}

export class UsageTimeseriesQueryDto extends TimeRangeQueryDto {
  /** Default `hour`. */
  @IsOptional()
  @IsIn(USAGE_BUCKETS)
  bucket?: UsageBucket;

  /** Default `all`; any other dimension needs `dimId`. */
  @IsOptional()
  @IsIn(USAGE_DIMS)
  dim?: UsageDim;

  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  dimId?: string;
}

export class UsageBreakdownQueryDto extends TimeRangeQueryDto {
  @IsIn(GROUP_DIMS)
  dim!: (typeof GROUP_DIMS)[number];

  /** Top N by cost; default 20. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  limit?: number;
}

export const REQUEST_LOG_SORT_FIELDS = [
  'at',
  'costMicros',
  'latencyMs',
  'inputTokens',
  'outputTokens',
] as const;
export type RequestLogSortField = (typeof REQUEST_LOG_SORT_FIELDS)[number];

/** The filters of the request log (its page and the CSV export). */
export class RequestLogFilterQueryDto extends UsageSummaryQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(999)
  status?: number;

  @IsOptional()
  @IsIn(OUTCOMES)
  outcome?: UsageOutcome;
}

/** Query string of the CSV export: the log's filters, every matching row in time order. */
export class RequestLogExportQueryDto extends RequestLogFilterQueryDto {
  /** Default `desc` (newest first). */
  @IsOptional()
  @IsIn(SORT_ORDERS)
  sortOrder?: SortOrder;
}

export class RequestIdParamDto {
  @IsString()
  @MinLength(1)
  @MaxLength(64)
  id!: string;
}

export class RequestLogQueryDto extends RequestLogFilterQueryDto {
  /** 1-based; default 1. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  page?: number;

  /** Default 50. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(500)
  pageSize?: number;

  /** Default `at` (newest first with the default order). */
  @IsOptional()
  @IsIn(REQUEST_LOG_SORT_FIELDS)
  sortBy?: RequestLogSortField;

  /** Default `desc`. */
  @IsOptional()
  @IsIn(SORT_ORDERS)
  sortOrder?: SortOrder;
}
