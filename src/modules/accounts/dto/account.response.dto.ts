import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import type { Platform } from 'src/common/platform';
import type {
  AccountModels,
  AccountStatus,
  AccountSubscription,
  AccountType,
  HealthState,
} from '../account.types';
import type { CredentialsSummary } from '../account-masking';

/**
 * The OpenAPI shape of an account's `models`: null (every model), a list of names (`*`
 * wildcards), or a mapping of client names to upstream names. Shared by the request DTOs.
 */
export const ACCOUNT_MODELS_SCHEMA = {
  nullable: true,
  description:
    'null: every model; a list of model names (`*` wildcards); or a mapping of the names clients ' +
    'ask for to the names sent upstream.',
  oneOf: [
    { type: 'array', items: { type: 'string' } },
    { type: 'object', additionalProperties: { type: 'string' } },
  ],
};

/**
 * What the admin API shows of an account's credentials: hints and flags, never a secret. `type`
 * and `readable` always; the other fields where the account's type has them (one schema for every
 * type, so clients need no per-type union).
 */
export class CredentialsSummaryDto {
  /** The account type the credentials belong to. */
  type!: string;
  /** false when the stored credentials cannot be decrypted (then only `type` is given). */
  readable!: boolean;
  /** The API key, masked (`sk-ant-…abcd`); null where the type's key is optional and absent. */
  apiKeyHint?: string | null;
  /** The OAuth access token, masked. */
  accessTokenHint?: string;
  hasRefreshToken?: boolean;
  /** codex-oauth: whether an id_token is held. */
  hasIdToken?: boolean;
  /** ISO 8601: when the access token expires; null when unknown. */
  expiresAt?: string | null;
  /** claude-console, ccr: `x-api-key` or `bearer`. */
  authScheme?: string;
  /** codex-oauth: the ChatGPT account id. */
  accountId?: string;
  /** gemini-oauth: the Google Cloud project. */
  projectId?: string;
  /** openai: the organization header sent, if any. */
  organization?: string | null;
  /** openai: the project header sent, if any. */
  project?: string | null;
  /** azure-openai: `api-key` or `entra-token`; bedrock: `sigv4` or `api-key`. */
  auth?: string;
  /** azure-openai: the Entra token, masked. */
  entraTokenHint?: string | null;
  /** azure-openai: how request URLs are built. */
  urlShape?: string;
  /** azure-openai: the api-version sent, null when none is. */
  apiVersion?: string | null;
  /** azure-openai: model → deployment. */
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string' },
    nullable: true,
  })
  deployments?: Record<string, string> | null;
  /** bedrock: the AWS region. */
  region?: string;
  /** bedrock: the access key id, masked. */
  accessKeyIdHint?: string | null;
  /** bedrock: whether a session token is held. */
  hasSessionToken?: boolean;
  /** bedrock: which inference profile prefix model ids get. */
  inferenceProfile?: string;
  /** bedrock: model → Bedrock model id overrides. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  modelIds?: Record<string, string>;
  /** droid: the User-Agent sent, if set. */
  userAgent?: string | null;
  /** openai-compatible: names of the extra headers sent (their values may be secret). */
  extraHeaderNames?: string[];
  /** openai-compatible: extra body fields merged into each request. */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, nullable: true })
  extraBody?: Record<string, unknown> | null;
  /** openai-compatible: the server's quirks as resolved (defaults filled in). */
  @ApiPropertyOptional({ type: 'object', additionalProperties: true })
  quirks?: Record<string, unknown>;
}

/** Subscription facts of an OAuth account (not secret), as its login or refresh learnt them. */
export class AccountSubscriptionDto implements AccountSubscription {
  /** The plan as the provider names it: pro, max, team, enterprise, plus … */
  plan?: string;
  email?: string;
  organizationName?: string;
  organizationUuid?: string;
  accountUuid?: string;
  /** The OAuth scopes granted. */
  scopes?: string[];
}

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

/** One current non-ok state of an account (persistent, or time-bound with its end). */
export class HealthStateDto {
  state!: Exclude<HealthState['state'], 'ok'>;
  /** 'account' or a model family for time-bound states; null for persistent ones. */
  scope!: string | null;
  /** ISO 8601: when a time-bound state ends; null for persistent ones. */
  until!: string | null;
  reason!: string;
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
  @ApiProperty(ACCOUNT_MODELS_SCHEMA)
  models!: AccountModels;
  @ApiProperty({ type: () => CredentialsSummaryDto })
  credentials!: CredentialsSummary;
  /** Proxy URL with the password masked. */
  proxy!: string | null;
  concurrencyLimit!: number | null;
  @ApiProperty({ type: () => AccountSubscriptionDto, nullable: true })
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
  /**
   * Every current non-ok state (auth_failed or blocked, cooling, rate limited for the account or
   * one model family), with its reason and end; empty when the account is healthy.
   */
  healthStates!: HealthStateDto[];
}

export class HealthEventDto {
  at!: string;
  state!: HealthState['state'];
  scope!: string | null;
  until!: string | null;
  reason!: string;
}

export class AccountDetailResponseDto extends AccountResponseDto {
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
