import { PLATFORMS, type Platform } from 'src/common/platform';
import { appLogger } from 'src/common/logging/app-logger';
import type { ApiKeysTable } from 'src/infra/database/database.types';
import { checkKey, effectiveExpiry } from './api-key-policy';
import {
  CLIENT_IDS,
  KeyRejectionCode,
  type ApiKeyBinding,
  type ApiKeyLimits,
  type ApiKeyPolicy,
  type ClientId,
  type ModelPolicy,
  RESERVATION_POLICIES,
  type ReservationPolicy,
} from './api-key.types';
import type { ApiKeyResponseDto, ApiKeyStatus } from './dto/api-key-response.dto';

/** A row of `api_keys` as stored (booleans 0/1, JSON text, epoch ms). */
export type ApiKeyRecord = ApiKeysTable;

/**
 * A row as the repository reads it for use: with whether its owning user is disabled or gone
 * (1), joined from `users`. Absent on rows read without the join (insert, update): usable.
 */
export type ApiKeyRow = ApiKeyRecord & { user_disabled?: number | null };

const LIMIT_FIELDS = [
  'windowMinutes',
  'windowRequests',
  'windowTokens',
  'windowCostMicros',
  'concurrency',
  'dailyCostMicros',
  'weeklyCostMicros',
  'weeklyResetDay',
  'weeklyResetHour',
  'totalCostMicros',
] as const satisfies readonly (keyof ApiKeyLimits)[];

function parseJson(text: string | null, column: string, id: string): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A hand-edited row must not take the relay down; the key falls back to the strict default.
    appLogger.error({ keyId: id, column }, 'api_keys row holds invalid JSON');
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function parseTags(record: ApiKeyRecord): string[] {
  return stringArray(parseJson(record.tags, 'tags', record.id));
}

export function parsePermissions(record: ApiKeyRecord): Platform[] {
  const values = stringArray(parseJson(record.permissions, 'permissions', record.id));
  return PLATFORMS.filter((p) => values.includes(p));
}

export function parseModelPolicy(record: ApiKeyRecord): ModelPolicy | null {
  const value = parseJson(record.model_policy, 'model_policy', record.id);
  if (value === null) return null;
  if (!isObject(value) || (value.mode !== 'allow' && value.mode !== 'deny')) {
    // Unreadable policy: allow nothing rather than everything.
    return { mode: 'allow', patterns: [] };
  }
  return { mode: value.mode, patterns: stringArray(value.patterns) };
}

export function parseAllowedClients(record: ApiKeyRecord): ClientId[] | null {
  const value = parseJson(record.allowed_clients, 'allowed_clients', record.id);
  if (value === null) return null;
  const values = stringArray(value);
  return CLIENT_IDS.filter((c) => values.includes(c));
}

export function parseBindings(record: ApiKeyRecord): Partial<Record<Platform, ApiKeyBinding>> {
  const value = parseJson(record.bindings, 'bindings', record.id);
  const bindings: Partial<Record<Platform, ApiKeyBinding>> = {};
  if (!isObject(value)) return bindings;
  for (const platform of PLATFORMS) {
    const binding = value[platform];
    if (!isObject(binding)) continue;
    if (typeof binding.accountId === 'string')
      bindings[platform] = { accountId: binding.accountId };
    else if (typeof binding.groupId === 'string') bindings[platform] = { groupId: binding.groupId };
  }
  return bindings;
}

export function parseLimits(record: ApiKeyRecord): ApiKeyLimits {
  const value = parseJson(record.limits, 'limits', record.id);
  const limits: ApiKeyLimits = {};
  if (value === undefined) {
    // Unreadable limits: refuse every request (a zero window) rather than lift every cap.
    return { windowMinutes: 1, windowRequests: 0 };
  }
  if (!isObject(value)) return limits;
  for (const field of LIMIT_FIELDS) {
    const n = value[field];
    if (typeof n === 'number' && Number.isSafeInteger(n) && n >= 0) limits[field] = n;
  }
  return limits;
}

/** Anything but a known value (a hand-edited row) is the strict default. */
export function parseReservationPolicy(record: ApiKeyRecord): ReservationPolicy {
  const value = record.reservation_policy;
  return (RESERVATION_POLICIES as readonly string[]).includes(value)
    ? (value as ReservationPolicy)
    : 'strict';
}

/** The hot path's view of a key. Frozen: it is shared by every request through the cache. */
export function toPolicy(record: ApiKeyRow): ApiKeyPolicy {
  const modelPolicy = parseModelPolicy(record);
  const allowedClients = parseAllowedClients(record);
  return Object.freeze({
    id: record.id,
    name: record.name,
    enabled: record.enabled === 1,
    deleted: record.deleted_at !== null,
    expiresAt: record.expires_at,
    expiresAfterDays: record.expires_after_days,
    firstUsedAt: record.first_used_at,
    permissions: Object.freeze(parsePermissions(record)) as Platform[],
    modelPolicy:
      modelPolicy &&
      Object.freeze({ ...modelPolicy, patterns: Object.freeze(modelPolicy.patterns) as string[] }),
    allowedClients: allowedClients && (Object.freeze(allowedClients) as ClientId[]),
    bindings: Object.freeze(parseBindings(record)),
    limits: Object.freeze(parseLimits(record)),
    priceMultiplier: record.price_multiplier,
    reservationPolicy: parseReservationPolicy(record),
    userId: record.user_id ?? null,
    userDisabled: Number(record.user_disabled ?? 0) === 1,
  });
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function statusOf(policy: ApiKeyPolicy, now: number): ApiKeyStatus {
  const rejection = checkKey(policy, now);
  if (rejection === null) return 'active';
  if (rejection.code === KeyRejectionCode.INVALID_KEY) return 'deleted';
  if (rejection.code === KeyRejectionCode.KEY_DISABLED) return 'disabled';
  return 'expired';
}

export function toResponse(record: ApiKeyRow, now: number): ApiKeyResponseDto {
  const policy = toPolicy(record);
  return {
    id: record.id,
    name: record.name,
    description: record.description,
    tags: parseTags(record),
    owner: record.owner,
    userId: record.user_id ?? null,
    keyHint: record.key_hint,
    enabled: policy.enabled,
    status: statusOf(policy, now),
    expiresAt: iso(record.expires_at),
    expiresAfterDays: record.expires_after_days,
    effectiveExpiresAt: iso(effectiveExpiry(policy)),
    firstUsedAt: iso(record.first_used_at),
    lastUsedAt: iso(record.last_used_at),
    permissions: [...policy.permissions],
    modelPolicy: policy.modelPolicy && {
      mode: policy.modelPolicy.mode,
      patterns: [...policy.modelPolicy.patterns],
    },
    allowedClients: policy.allowedClients && [...policy.allowedClients],
    bindings: { ...policy.bindings },
    limits: { ...policy.limits },
    priceMultiplier: record.price_multiplier,
    reservationPolicy: policy.reservationPolicy,
    createdAt: new Date(record.created_at).toISOString(),
    updatedAt: new Date(record.updated_at).toISOString(),
    deletedAt: iso(record.deleted_at),
  };
}
