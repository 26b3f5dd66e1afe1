import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import type { ApiKeyLimits } from 'src/modules/api-keys/api-key.types';
import { ApiKeyLimitsDto } from 'src/modules/api-keys/dto/api-key-fields.dto';

export type SettingType = 'integer' | 'boolean' | 'key-limits';

/** A value checked against a setting's definition: the value to apply, or why it cannot be. */
export type SettingCheck<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SettingBounds {
  min: number;
  max: number;
}

/**
 * One runtime setting: what it is, where its default comes from, and what values it takes. The
 * same check applies to a value sent to the admin API, typed on the CLI, and read back from the
 * table (a hand-edited row that fails it is ignored, with a log line, for the default).
 */
export interface SettingDefinition<T> {
  readonly type: SettingType;
  readonly description: string;
  /** The environment variable that holds the default; null for a built-in default. */
  readonly env: keyof EnvironmentSchema | null;
  readonly bounds: SettingBounds | null;
  /** The unit of an integer (`ms`, `seconds`, `days`, …); null when it has none. */
  readonly unit: string | null;
  /** The default on this instance: the environment's value (validated at start), else built in. */
  defaultFrom(env: EnvironmentSchema): T;
  check(value: unknown): SettingCheck<T>;
}

interface IntegerOptions {
  env: keyof EnvironmentSchema | null;
  min: number;
  max: number;
  unit: string | null;
  description: string;
  /** Without `env`: the built-in default. */
  fallback?: number;
}

function integer(options: IntegerOptions): SettingDefinition<number> {
  const { min, max } = options;
  return {
    type: 'integer',
    description: options.description,
    env: options.env,
    bounds: { min, max },
    unit: options.unit,
    defaultFrom: (env) => {
      const value = options.env === null ? options.fallback : env[options.env];
      if (typeof value !== 'number') {
        throw new TypeError(`setting default ${String(options.env)} is not a number`);
      }
      return value;
    },
    check: (value) =>
      typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max
        ? { ok: true, value }
        : { ok: false, error: `must be a whole number from ${min} to ${max}` },
  };
}

function boolean(options: {
  env: keyof EnvironmentSchema;
  description: string;
}): SettingDefinition<boolean> {
  return {
    type: 'boolean',
    description: options.description,
    env: options.env,
    bounds: null,
    unit: null,
    defaultFrom: (env) => env[options.env] === true,
    check: (value) =>
      typeof value === 'boolean'
        ? { ok: true, value }
        : { ok: false, error: 'must be true or false' },
  };
}

const WINDOW_LIMIT_FIELDS = ['windowRequests', 'windowTokens', 'windowCostMicros'] as const;

function validationMessages(errors: ValidationError[]): string[] {
  return errors.flatMap((error) => Object.values(error.constraints ?? {}));
}

/**
 * A key's `limits` object, checked by the admin API's own DTO (ApiKeyLimitsDto: the same fields
 * and bounds a key accepts) plus the rule across fields that the key service applies: window
 * limits need a window length. Null fields are refused: a default either sets a limit or not.
 */
export function checkKeyLimits(value: unknown): SettingCheck<ApiKeyLimits> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'must be an object of key limits such as {"concurrency":4}' };
  }
  const nulls = Object.entries(value).filter(([, v]) => v === null);
  if (nulls.length > 0) {
    return { ok: false, error: `${nulls[0][0]} must be a number (leave it out for no limit)` };
  }
  const errors = validateSync(plainToInstance(ApiKeyLimitsDto, value), {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (errors.length > 0) return { ok: false, error: validationMessages(errors).join('; ') };
  const limits = { ...value } as ApiKeyLimits;
  if (limits.windowMinutes === undefined) {
    const orphan = WINDOW_LIMIT_FIELDS.find((field) => limits[field] !== undefined);
    if (orphan !== undefined) return { ok: false, error: `${orphan} needs windowMinutes` };
  }
  return { ok: true, value: limits };
}

function keyLimits(options: {
  env: 'API_KEY_DEFAULT_LIMITS';
  description: string;
}): SettingDefinition<ApiKeyLimits> {
  return {
    type: 'key-limits',
    description: options.description,
    env: options.env,
    bounds: null,
    unit: null,
    defaultFrom: (env) => {
      const raw = env[options.env];
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw new SettingDefaultError(options.env, 'is not JSON');
      }
      const checked = checkKeyLimits(parsed);
      if (!checked.ok) throw new SettingDefaultError(options.env, checked.error);
      return checked.value;
    },
    check: checkKeyLimits,
  };
}

/** An environment default a setting cannot take (found at start, so startup fails). */
export class SettingDefaultError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'SettingDefaultError';
  }
}

const DAY_MS = 86_400_000;

/**
 * The settings operators change at run time. Each defaults to its environment variable; a value
 * stored through the admin API (or `switchyard settings set`) overrides it on every instance
 * without a restart. Bounds match the environment schema's where it has them.
 */
export const SETTINGS = {
  relayMaxAttempts: integer({
    env: 'RELAY_MAX_ATTEMPTS',
    min: 1,
    max: 10,
    unit: 'accounts',
    description:
      'Accounts tried per request (the first try plus failovers), all before the first byte ' +
      'reaches the client.',
  }),
  stickySessionTtlSeconds: integer({
    env: 'STICKY_SESSION_TTL_SECONDS',
    min: 1,
    max: 30 * 86_400,
    unit: 'seconds',
    description:
      'How long a conversation stays on its account after its last request (new and renewed ' +
      'pins take it; existing pins keep their expiry until renewed).',
  }),
  stickyContentHash: boolean({
    env: 'STICKY_CONTENT_HASH',
    description:
      'Derive a conversation id from the first message when the client sends neither ' +
      'metadata.user_id nor a session header.',
  }),
  bindingFallbackToPool: boolean({
    env: 'BINDING_FALLBACK_TO_POOL',
    description:
      "When a key's dedicated account or group cannot serve: true uses the shared pool, false " +
      'fails the request.',
  }),
  routingLongContextThreshold: integer({
    env: 'ROUTING_LONG_CONTEXT_THRESHOLD',
    min: 1,
    max: 100_000_000,
    unit: 'tokens',
    description:
      'Estimated input tokens above which a long_context routing rule that sets no threshold ' +
      'holds.',
  }),
  accountCooldownOverloadedMs: integer({
    env: 'ACCOUNT_COOLDOWN_OVERLOADED_MS',
    min: 0,
    max: DAY_MS,
    unit: 'ms',
    description: 'Cooldown of an account after a 529 (overloaded); 0 turns it off.',
  }),
  accountCooldownServerErrorMs: integer({
    env: 'ACCOUNT_COOLDOWN_SERVER_ERROR_MS',
    min: 0,
    max: DAY_MS,
    unit: 'ms',
    description: 'Cooldown of an account after a 5xx; 0 turns it off.',
  }),
  accountCooldownTimeoutMs: integer({
    env: 'ACCOUNT_COOLDOWN_TIMEOUT_MS',
    min: 0,
    max: DAY_MS,
    unit: 'ms',
    description:
      'Cooldown of an account after a connect error or a first-byte timeout; 0 turns it off.',
  }),
  accountRateLimitFallbackMs: integer({
    env: 'ACCOUNT_RATE_LIMIT_FALLBACK_MS',
    min: 0,
    max: DAY_MS,
    unit: 'ms',
    description: 'How long an account rests after a 429 that names no reset time.',
  }),
  apiKeyDefaultLimits: keyLimits({
    env: 'API_KEY_DEFAULT_LIMITS',
    description:
      "Limits every new key starts with (a key's limits object); a create request's own limits " +
      'override them field by field, and null there removes one. Existing keys keep theirs.',
  }),
  requestLogRetentionDays: integer({
    env: 'REQUEST_LOG_RETENTION_DAYS',
    min: 0,
    max: 36_500,
    unit: 'days',
    description:
      'Days of request-log rows kept; older rows are pruned hourly, aggregates stay. 0 keeps ' +
      'them forever.',
  }),
  auditRetentionDays: integer({
    env: 'AUDIT_RETENTION_DAYS',
    min: 0,
    max: 36_500,
    unit: 'days',
    description: 'Days of audit-log entries kept; 0 keeps them forever.',
  }),
} satisfies Record<string, SettingDefinition<unknown>>;

export type SettingKey = keyof typeof SETTINGS;

type ValueOf<D> = D extends SettingDefinition<infer T> ? T : never;

/** Every setting's value, as the hot path reads them. */
export type SettingValues = { readonly [K in SettingKey]: ValueOf<(typeof SETTINGS)[K]> };

export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.prototype.hasOwnProperty.call(SETTINGS, key);
}

export function settingDefinition(key: SettingKey): SettingDefinition<unknown> {
  return SETTINGS[key];
}

/** The defaults of every setting on this instance; throws SettingDefaultError on a bad one. */
export function settingDefaults(env: EnvironmentSchema): SettingValues {
  const values: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) values[key] = settingDefinition(key).defaultFrom(env);
  return values as SettingValues;
}
