import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import {
  PageQueryDto,
  SORT_ORDERS,
  toBoolean,
  TrimSearch,
  type SortOrder,
} from 'src/common/http/list-query.dto';
import { PLATFORMS, type Platform } from 'src/common/platform';
import {
  ACCOUNT_STATUSES,
  ACCOUNT_TYPES,
  type AccountStatus,
  type AccountType,
} from '../account.types';

export const TIMED_HEALTH_STATES = ['cooling', 'rate_limited'] as const;
export type TimedHealthState = (typeof TIMED_HEALTH_STATES)[number];

export const ACCOUNT_SORT_FIELDS = ['priority', 'name', 'createdAt', 'lastUsedAt'] as const;
export type AccountSortField = (typeof ACCOUNT_SORT_FIELDS)[number];

/** Query string of `GET /admin/api/accounts`; filters, sorting and paging all run in SQL. */
export class ListAccountsQueryDto extends PageQueryDto {
  @IsOptional()
  @IsIn(PLATFORMS)
  platform?: Platform;

  @IsOptional()
  @IsIn(ACCOUNT_TYPES)
  type?: AccountType;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean()
  enabled?: boolean;

  @IsOptional()
  @IsIn(ACCOUNT_STATUSES)
  status?: AccountStatus;

  /**
   * Accounts in a time-bound health state now: `cooling` (after overload, server errors,
   * timeouts) or `rate_limited` (for the account or one model family). The persistent states
   * are the `status` filter.
   */
  @IsOptional()
  @IsIn(TIMED_HEALTH_STATES)
  health?: TimedHealthState;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  groupId?: string;

  /** Case-insensitive substring of the name. */
  @IsOptional()
  @TrimSearch()
  @IsString()
  @MaxLength(128)
  search?: string;

  /** `priority` (then name) by default; accounts without a value for the field come last. */
  @IsIn(ACCOUNT_SORT_FIELDS)
  sortBy: AccountSortField = 'priority';

  @IsIn(SORT_ORDERS)
  sortOrder: SortOrder = 'asc';
}

export class HealthHistoryQueryDto {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
