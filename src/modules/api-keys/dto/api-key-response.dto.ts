import type { Platform } from 'src/common/platform';
import type {
  ApiKeyBinding,
  ApiKeyLimits,
  ClientId,
  ModelPolicy,
  ReservationPolicy,
} from '../api-key.types';

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
  modelPolicy!: ModelPolicy | null;
  allowedClients!: ClientId[] | null;
  bindings!: Partial<Record<Platform, ApiKeyBinding>>;
  limits!: ApiKeyLimits;
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
