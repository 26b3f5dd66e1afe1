import type { Platform } from 'src/common/platform';
import type {
  AccountModels,
  AccountStatus,
  AccountSubscription,
  AccountType,
  HealthState,
} from '../account.types';
import type { CredentialsSummary } from '../account-masking';

/** One usage window of a subscription account, as its latest response reported it. */
export class UsageWindowDto {
  /** '5h', 'weekly', or the window's length ('1d', '90m') when it is neither. */
  name!: string;
  /** 0–100. */
  usedPercent!: number;
  /** When the window resets; null when the upstream did not say. */
  resetsAt!: string | null;
  windowMinutes!: number | null;
}

/** An account as the admin API shows it: no secret, only hints. Times are ISO 8601. */
export class AccountResponseDto {
  id!: string;
  name!: string;
  platform!: Platform;
  type!: AccountType;
  /** The account's own base URL; null when it uses the provider default. */
  baseUrl!: string | null;
  /** The URL requests actually go to. */
  effectiveBaseUrl!: string;
  priority!: number;
  weight!: number;
  enabled!: boolean;
  schedulable!: boolean;
  models!: AccountModels;
  credentials!: CredentialsSummary;
  /** Proxy URL with the password masked. */
  proxy!: string | null;
  concurrencyLimit!: number | null;
  subscription!: AccountSubscription | null;
  status!: AccountStatus;
  statusReason!: string | null;
  groupIds!: string[];
  lastUsedAt!: string | null;
  createdAt!: string;
  updatedAt!: string;
  /** Whether the scheduler may pick this account now (for some model). */
  routable!: boolean;
  /** Why it may not: disabled, unschedulable, auth failed, blocked, cooling, rate limited. */
  notRoutableBecause!: string | null;
  /**
   * The usage windows (Claude's and Codex's 5-hour and weekly limits) its latest response
   * reported; empty when none did or every one has reset since.
   */
  usageWindows!: UsageWindowDto[];
}

export class HealthStateDto {
  state!: Exclude<HealthState['state'], 'ok'>;
  /** 'account' or a model family for time-bound states; null for persistent ones. */
  scope!: string | null;
  until!: string | null;
  reason!: string;
}

export class HealthEventDto {
  at!: string;
  state!: HealthState['state'];
  scope!: string | null;
  until!: string | null;
  reason!: string;
}

export class AccountDetailResponseDto extends AccountResponseDto {
  /** Every current non-ok state, including those of single model families. */
  healthStates!: HealthStateDto[];
  /** The latest transitions, newest first. */
  recentHealthEvents!: HealthEventDto[];
}

export class AccountListResponseDto {
  items!: AccountResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}

export class HealthHistoryResponseDto {
  items!: HealthEventDto[];
}

export class AccountTestResponseDto {
  ok!: boolean;
  status!: number | null;
  latencyMs!: number;
  model!: string | null;
  message!: string;
}
