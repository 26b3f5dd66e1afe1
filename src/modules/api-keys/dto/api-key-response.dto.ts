import type { Platform } from 'src/common/platform';
import type { ClientId, ReservationPolicy } from '../api-key.types';

/**
 * The key's limits as stored (see ApiKeyLimitsDto for their meaning); costs in micro-dollars. A
 * limit the key does not have is absent. Described field by field so generated clients are typed.
 */
export class ApiKeyLimitsResponseDto {
  /** Length of the fixed window the three window limits count in. */
  windowMinutes?: number;
  windowRequests?: number;
  windowTokens?: number;
  windowCostMicros?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  dailyCostMicros?: number;
  weeklyCostMicros?: number;
  /** 0 = Sunday … 6 = Saturday (UTC); default 1. */
  weeklyResetDay?: number;
  /** 0-23 UTC; default 0. */
  weeklyResetHour?: number;
  totalCostMicros?: number;
}

export class ModelPolicyResponseDto {
  mode!: 'allow' | 'deny';
  /** Model names; `*` matches any run of characters (`claude-*-4*`). */
  patterns!: string[];
}

/** A dedicated account or a group: exactly one of the two is present. */
export class ApiKeyBindingResponseDto {
  accountId?: string;
  groupId?: string;
}

/** The key's binding per platform; a platform without one is absent. */
export class ApiKeyBindingsResponseDto {
  claude?: ApiKeyBindingResponseDto;
  gemini?: ApiKeyBindingResponseDto;
  openai?: ApiKeyBindingResponseDto;
  droid?: ApiKeyBindingResponseDto;
}

/** `disabled`: the key itself, or the user who owns it, is disabled. */
export type ApiKeyStatus = 'active' | 'disabled' | 'expired' | 'deleted';

/** A key as the admin API shows it: never the secret, never its digest. Times are ISO 8601. */
export class ApiKeyResponseDto {
  id!: string;
  name!: string;
  description!: string | null;
  tags!: string[];
  owner!: string | null;
  /** The user who owns the key (created through self-service), null for an admin's key. */
  userId!: string | null;
  /** `sk-sy-…a1b2`: enough to recognise a key, useless to use it. */
  keyHint!: string;
  enabled!: boolean;
  status!: ApiKeyStatus;
  expiresAt!: string | null;
  expiresAfterDays!: number | null;
  /** When the key stops working, counting a relative expiry from its first use. */
  effectiveExpiresAt!: string | null;
  firstUsedAt!: string | null;
  lastUsedAt!: string | null;
  permissions!: Platform[];
  /** null: every model. */
  modelPolicy!: ModelPolicyResponseDto | null;
  allowedClients!: ClientId[] | null;
  bindings!: ApiKeyBindingsResponseDto;
  limits!: ApiKeyLimitsResponseDto;
  priceMultiplier!: number;
  reservationPolicy!: ReservationPolicy;
  createdAt!: string;
  updatedAt!: string;
  deletedAt!: string | null;
}

/** Returned once, by create and rotate: the only time the secret is ever shown. */
export class CreatedApiKeyResponseDto extends ApiKeyResponseDto {
  secret!: string;
}

export class BatchCreatedApiKeysResponseDto {
  items!: CreatedApiKeyResponseDto[];
}

export class ApiKeyListResponseDto {
  items!: ApiKeyResponseDto[];
  total!: number;
  page!: number;
  pageSize!: number;
}
