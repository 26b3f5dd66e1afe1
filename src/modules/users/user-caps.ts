import { appLogger } from 'src/common/logging/app-logger';
import { PLATFORMS, type Platform } from 'src/common/platform';
import { matchesWildcard } from 'src/common/text/wildcard';
import type { ApiKeyLimits, KeyScope } from 'src/modules/api-keys/api-key.types';
import { UsersException, UsersExceptionCode } from './users.exception';

/** The key limits a cap can bound: a user's key may set each no higher than the cap. */
export const CAPPED_LIMITS = [
  'windowRequests',
  'windowTokens',
  'windowCostMicros',
  'concurrency',
  'dailyCostMicros',
  'weeklyCostMicros',
  'totalCostMicros',
] as const satisfies readonly (keyof ApiKeyLimits)[];
export type CappedLimit = (typeof CAPPED_LIMITS)[number];

const WINDOW_LIMITS: readonly CappedLimit[] = [
  'windowRequests',
  'windowTokens',
  'windowCostMicros',
];

export type CapLimits = Partial<Record<CappedLimit | 'windowMinutes', number>>;

/**
 * What a user's own keys may not exceed. Set by an admin per user; keys created by an admin
 * through `/admin/api/keys` are not bound by any user's caps.
 */
export interface UserCaps {
  /** Keys (not deleted) the user may hold at once. */
  maxKeys: number;
  /**
   * Ceilings of key limits. A key without a limit the cap has gets the cap's value; a key above
   * it is refused. Window ceilings count in `windowMinutes`, which the key's window must equal.
   */
  limits: CapLimits;
  /** Model patterns (`*` wildcards) the keys may allow; null: any model. */
  models: string[] | null;
  /** Platforms the keys may use; null: every platform. */
  platforms: Platform[] | null;
}

/** Caps of a new user, and of users stored before caps existed: 5 keys, no other ceiling. */
export const DEFAULT_USER_CAPS: Readonly<UserCaps> = Object.freeze({
  maxKeys: 5,
  limits: {},
  models: null,
  platforms: null,
});

/** One cap a key would exceed. */
export interface CapViolation {
  /** `maxKeys`, `platforms`, `models` or `limits.<field>`. */
  cap: string;
  limit: unknown;
  requested: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonNegativeInt(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * The stored caps (JSON text), or the defaults for null. An unreadable value (a hand-edited
 * row) is no keys at all rather than no ceilings.
 */
export function parseCaps(text: string | null, userId = 'unknown'): UserCaps {
  if (text === null) return { ...DEFAULT_USER_CAPS, limits: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (!isObject(value) || !nonNegativeInt(value.maxKeys)) {
    appLogger.error({ userId }, 'users row holds unreadable caps; the user may hold no keys');
    return { maxKeys: 0, limits: {}, models: [], platforms: [] };
  }
  const limits: CapLimits = {};
  if (isObject(value.limits)) {
    for (const field of [...CAPPED_LIMITS, 'windowMinutes'] as const) {
      const n = value.limits[field];
      if (nonNegativeInt(n)) limits[field] = n;
    }
  }
  const strings = (v: unknown): string[] | null =>
    Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : null;
  const platforms = strings(value.platforms);
  return {
    maxKeys: value.maxKeys,
    limits,
    models: strings(value.models),
    platforms: platforms && PLATFORMS.filter((p) => platforms.includes(p)),
  };
}

/** Rules across the fields of caps, checked whenever an admin sets them. */
export function assertCapsConsistent(caps: UserCaps): void {
  const windowCeiling = WINDOW_LIMITS.find((field) => caps.limits[field] !== undefined);
  if (windowCeiling !== undefined && caps.limits.windowMinutes === undefined) {
    throw new UsersException(
      UsersExceptionCode.INVALID_CAPS,
      `caps.limits.${windowCeiling} needs caps.limits.windowMinutes`,
    );
  }
}

/**
 * Whether every model the key pattern can name is one the cap pattern allows. The key pattern is
 * read as plain text against the cap pattern: its `*` can then only fall inside a `*` of the cap
 * (no literal holds one), so whatever that `*` stands for the name still matches. Sound, and
 * exact for the usual cases (`claude-sonnet-*` under `claude-*`, a name under a pattern).
 */
export function patternWithin(keyPattern: string, capPattern: string): boolean {
  return matchesWildcard(capPattern, keyPattern);
}

/**
 * The key's scope fitted to the user's caps: what the key leaves out it gets from the caps (no
 * platform listed: the caps' platforms; no model policy: the caps' models; a missing limit: the
 * cap's ceiling), and what goes beyond a cap is refused with every violation named.
 */
export function fitKeyToCaps(scope: KeyScope, caps: UserCaps): KeyScope {
  const violations: CapViolation[] = [];

  let permissions = scope.permissions;
  const allowedPlatforms = caps.platforms ?? [...PLATFORMS];
  if (permissions.length === 0) {
    permissions = allowedPlatforms;
  } else {
    const outside = permissions.filter((p) => !allowedPlatforms.includes(p));
    if (outside.length > 0) {
      violations.push({ cap: 'platforms', limit: allowedPlatforms, requested: outside });
    }
  }

  let modelPolicy = scope.modelPolicy;
  if (caps.models !== null) {
    const capModels = caps.models;
    if (modelPolicy === null) {
      modelPolicy = { mode: 'allow', patterns: [...capModels] };
    } else if (modelPolicy.mode === 'deny') {
      violations.push({ cap: 'models', limit: capModels, requested: { mode: 'deny' } });
    } else {
      const outside = modelPolicy.patterns.filter(
        (pattern) => !capModels.some((cap) => patternWithin(pattern, cap)),
      );
      if (outside.length > 0) {
        violations.push({ cap: 'models', limit: capModels, requested: outside });
      }
    }
  }

  const limits: ApiKeyLimits = { ...scope.limits };
  const hasWindowCeiling = WINDOW_LIMITS.some((field) => caps.limits[field] !== undefined);
  if (hasWindowCeiling) {
    const window = caps.limits.windowMinutes as number;
    if (limits.windowMinutes === undefined) limits.windowMinutes = window;
    else if (limits.windowMinutes !== window) {
      violations.push({
        cap: 'limits.windowMinutes',
        limit: window,
        requested: limits.windowMinutes,
      });
    }
  }
  for (const field of CAPPED_LIMITS) {
    const ceiling = caps.limits[field];
    if (ceiling === undefined) continue;
    const requested = limits[field];
    if (requested === undefined) limits[field] = ceiling;
    else if (requested > ceiling) {
      violations.push({ cap: `limits.${field}`, limit: ceiling, requested });
    }
  }

  if (violations.length > 0) throw capExceeded(violations);
  return { permissions, modelPolicy, limits };
}

export function capExceeded(violations: CapViolation[]): UsersException {
  const named = violations
    .map((v) =>
      v.cap === 'maxKeys'
        ? `maxKeys: the user already holds ${Number(v.requested) - 1} keys, the cap is ${String(v.limit)} (delete one first)`
        : v.cap === 'limits.windowMinutes'
          ? `limits.windowMinutes must be ${String(v.limit)} (the window the caps count in)`
          : v.cap === 'models' && isObject(v.requested)
            ? 'models: the caps allow a list of models, so the key must list allowed models, not denied ones'
            : `${v.cap}: ${JSON.stringify(v.requested)} is above the cap ${JSON.stringify(v.limit)}`,
    )
    .join('; ');
  return new UsersException(
    UsersExceptionCode.USER_CAP_EXCEEDED,
    `the key exceeds the caps set for this user: ${named}`,
    { violations },
  );
}
