import type { Platform } from 'src/common/platform';

/** Clients recognised by User-Agent. */
export const CLIENT_IDS = ['claude-code', 'gemini-cli', 'codex-cli', 'droid'] as const;
export type ClientId = (typeof CLIENT_IDS)[number];

export interface ApiKeyLimits {
  /** Fixed window length for the window limits below. */
  windowMinutes?: number;
  windowRequests?: number;
  windowTokens?: number;
  windowCostMicros?: number;
  /** Requests in flight at once. */
  concurrency?: number;
  dailyCostMicros?: number;
  weeklyCostMicros?: number;
  /** 0 = Sunday … 6 = Saturday (UTC); default 1 (Monday). */
  weeklyResetDay?: number;
  /** 0-23 UTC; default 0. */
  weeklyResetHour?: number;
  totalCostMicros?: number;
}

/**
 * How a key reserves against its cost caps before a request runs.
 * - `strict`: the request's worst case (every prompt token at the highest prompt rate, all of
 *   max_tokens as output); recorded spend never passes a cap.
 * - `estimate`: what the key's recent requests actually cost relative to their worst case; lets
 *   a small budget serve large max_tokens, and may pass a cap by at most the unreserved part of
 *   the worst case of each request in flight when the cap is reached.
 */
export const RESERVATION_POLICIES = ['strict', 'estimate'] as const;
export type ReservationPolicy = (typeof RESERVATION_POLICIES)[number];

export type ApiKeyBinding = { accountId: string } | { groupId: string };

export interface ModelPolicy {
  mode: 'allow' | 'deny';
  /** Model names; `*` matches any run of characters (`claude-*-4*`). */
  patterns: string[];
}

/** A key as the hot path sees it (cached in process; never holds the secret). */
export interface ApiKeyPolicy {
  id: string;
  name: string;
  enabled: boolean;
  deleted: boolean;
  expiresAt: number | null;
  expiresAfterDays: number | null;
  firstUsedAt: number | null;
  permissions: Platform[];
  modelPolicy: ModelPolicy | null;
  allowedClients: ClientId[] | null;
  bindings: Partial<Record<Platform, ApiKeyBinding>>;
  limits: ApiKeyLimits;
  priceMultiplier: number;
  reservationPolicy: ReservationPolicy;
  /** The user who owns the key (self-service), or null for a key an admin created. */
  userId: string | null;
  /**
   * The owning user is disabled (or gone): the key is refused as disabled until the user is
   * enabled again. Read with the key from SQL, so the hot path needs nothing more.
   */
  userDisabled: boolean;
}

/** What a key may reach and spend: the part of its policy a user's caps bound. */
export interface KeyScope {
  permissions: Platform[];
  modelPolicy: ModelPolicy | null;
  limits: ApiKeyLimits;
}

/** Rejections of the key and its policy; the relay renders them in the caller's dialect. */
export enum KeyRejectionCode {
  MISSING_KEY = 'MISSING_KEY',
  INVALID_KEY = 'INVALID_KEY',
  KEY_DISABLED = 'KEY_DISABLED',
  KEY_EXPIRED = 'KEY_EXPIRED',
  PLATFORM_NOT_ALLOWED = 'PLATFORM_NOT_ALLOWED',
  MODEL_NOT_ALLOWED = 'MODEL_NOT_ALLOWED',
  CLIENT_NOT_ALLOWED = 'CLIENT_NOT_ALLOWED',
  WINDOW_LIMIT = 'WINDOW_LIMIT',
  CONCURRENCY_LIMIT = 'CONCURRENCY_LIMIT',
  BUDGET_EXHAUSTED = 'BUDGET_EXHAUSTED',
  /** The key is not cached here and SQL cannot be read: neither accepted nor refused yet. */
  KEY_STORE_UNAVAILABLE = 'KEY_STORE_UNAVAILABLE',
}

/** A rejection of the key or of what it asked for; null from a check means "allowed". */
export interface KeyRejection {
  code: KeyRejectionCode;
  message: string;
}

/** Which limit a 429 is about; `x-ratelimit-limit` is in this unit. */
export type RateLimitMetric = 'requests' | 'tokens' | 'cost' | 'concurrency';

/** Values for the 429 rate-limit headers (`x-ratelimit-*`, `retry-after`). */
export interface RateLimitInfo {
  metric: RateLimitMetric;
  limit: number;
  remaining: number;
  /** Epoch ms when the window resets or a slot frees (best known). */
  resetAtMs: number;
}

/** For 402: which cap, what was spent, when it resets. */
export interface BudgetInfo {
  cap: 'daily' | 'weekly' | 'total' | 'window';
  limitMicros: number;
  /** Spent plus reserved by requests still in flight. */
  spentMicros: number;
  /** What the refused request would have reserved (its worst-case cost). */
  requestMicros: number;
  resetAtMs: number | null;
}
