import type { HealthRules, ResponseHeaders, UsageWindow } from './account-type.descriptor';
import {
  decimal,
  epochSeconds,
  header,
  jsonObject,
  MAX_INSPECTED,
  latestFuture,
  nestedString,
  oneLine,
  retryAfter,
} from './health-readings';

/**
 * Pure readings of OpenAI-family responses (the OpenAI API, the ChatGPT backend Codex uses, Azure
 * OpenAI) for the health machine: when a 429 ends, whether a refusal means the account is gone,
 * and the Codex usage windows. No I/O, no clock.
 */

const GO_DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|μs|ns)/g;
const GO_DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|μs|ns))+$/;
const UNIT_MS: Record<string, number> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  μs: 0.001,
  ns: 0.000_001,
};

/**
 * A Go `time.Duration` as OpenAI writes it in `x-ratelimit-reset-*` (`1s`, `6m0s`, `20ms`,
 * `1h2m3.5s`), in ms rounded up; null when the text is not one.
 */
export function parseGoDuration(text: string | undefined): number | null {
  if (text === undefined || !GO_DURATION.test(text)) return null;
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(GO_DURATION_PART)) {
    ms += Number(amount) * (UNIT_MS[unit] ?? 0);
  }
  return Math.ceil(ms);
}

/** The request and token buckets of the OpenAI API's rate-limit headers. */
const BUCKETS = ['requests', 'tokens'] as const;

/** A Codex usage-limit error's reset, from the body, or null when the body is not one. */
function usageLimitReset(bodyText: string | undefined, now: number): number | null {
  if (bodyText === undefined || bodyText === '') return null;
  const error = jsonObject(bodyText)?.error;
  if (typeof error !== 'object' || error === null) return null;
  const {
    type,
    resets_at: resetsAt,
    resets_in_seconds: resetsIn,
  } = error as Record<string, unknown>;
  if (type !== 'usage_limit_reached') return null;
  // codex-rs reads `resets_at` (epoch seconds); older backends sent `resets_in_seconds`.
  const at = typeof resetsAt === 'number' && resetsAt > 0 ? Math.round(resetsAt * 1000) : null;
  const after =
    typeof resetsIn === 'number' && resetsIn > 0 ? now + Math.ceil(resetsIn * 1000) : null;
  return latestFuture([at, after], now);
}

/**
 * When a 429'd account may be used again (epoch ms), or null when the response does not say.
 * The first source that yields a time in the future wins:
 *
 * 1. The body of a Codex usage-limit error (`{"error":{"type":"usage_limit_reached",
 *    "resets_at":<epoch s>}}`, or `resets_in_seconds` from older backends).
 * 2. The Codex windows (`x-codex-{primary,secondary}-*`) that are used up (≥ 100 %): the latest
 *    of their resets, since both must have reset before a request passes.
 * 3. `retry-after-ms` (ms), then `retry-after` (seconds or an HTTP date), as the OpenAI SDKs
 *    read them.
 * 4. `x-ratelimit-reset-{requests,tokens}` (Go durations, `6m0s`): the latest among the buckets
 *    whose `x-ratelimit-remaining-*` is 0; when none says it is exhausted, the latest of both.
 */
export function parseOpenAIRateLimitReset(
  headers: ResponseHeaders,
  now: number,
  bodyText?: string,
): number | null {
  const fromBody = usageLimitReset(bodyText, now);
  if (fromBody !== null) return fromBody;

  const spent = (codexUsageWindows(headers, now) ?? [])
    .filter((window) => window.usedPercent >= 100)
    .map((window) => window.resetsAt);
  const windows = latestFuture(spent, now);
  if (windows !== null) return windows;

  const afterMs = decimal(header(headers, 'retry-after-ms'));
  if (afterMs !== null && afterMs > 0) return now + Math.ceil(afterMs);
  const after = retryAfter(header(headers, 'retry-after'), now);
  if (after !== null && after > now) return after;

  const all: (number | null)[] = [];
  const exhausted: (number | null)[] = [];
  for (const bucket of BUCKETS) {
    const wait = parseGoDuration(header(headers, `x-ratelimit-reset-${bucket}`));
    const reset = wait === null ? null : now + wait;
    all.push(reset);
    if (header(headers, `x-ratelimit-remaining-${bucket}`) === '0') exhausted.push(reset);
  }
  return latestFuture(exhausted, now) ?? latestFuture(all, now);
}

/** Codex's usage windows; codex-rs reads `…-reset-at`, older backends sent `…-reset-after-seconds`. */
const CODEX_WINDOWS = ['primary', 'secondary'] as const;

/** A window's name from its length: the two Codex plans know, else the length itself. */
function windowName(minutes: number | null, fallback: string): string {
  if (minutes === null || minutes <= 0) return fallback;
  if (minutes === 300) return '5h';
  if (minutes === 10_080) return 'weekly';
  if (minutes % 1440 === 0) return `${minutes / 1440}d`;
  if (minutes % 60 === 0) return `${minutes / 60}h`;
  return `${minutes}m`;
}

/**
 * The usage windows the ChatGPT backend reports on every Codex response:
 * `x-codex-{primary,secondary}-used-percent` (0–100), `-window-minutes` (300 for the 5-hour
 * window, 10080 for the weekly one), `-reset-at` (epoch seconds) or `-reset-after-seconds`.
 * Like codex-rs, a window that reports 0 % and nothing else is left out. Only the default
 * `codex` limit is read (not the per-model `x-codex-<limit>-*` families).
 */
export function codexUsageWindows(headers: ResponseHeaders, now: number): UsageWindow[] | null {
  let windows: UsageWindow[] | null = null;
  for (const slot of CODEX_WINDOWS) {
    const used = decimal(header(headers, `x-codex-${slot}-used-percent`));
    if (used === null) continue;
    const minutes = decimal(header(headers, `x-codex-${slot}-window-minutes`));
    const resetAfter = decimal(header(headers, `x-codex-${slot}-reset-after-seconds`));
    const resetsAt =
      epochSeconds(header(headers, `x-codex-${slot}-reset-at`)) ??
      (resetAfter === null ? null : now + Math.round(resetAfter * 1000));
    if (used === 0 && (minutes === null || minutes === 0) && resetsAt === null) continue;
    (windows ??= []).push({
      name: windowName(minutes, slot),
      usedPercent: used,
      resetsAt,
      windowMinutes: minutes === null || minutes === 0 ? null : Math.round(minutes),
    });
  }
  return windows;
}

/**
 * Error codes that say the account itself cannot be used until someone acts (final until an
 * admin resets it or enters new credentials):
 *
 * - `account_deactivated` (401, "This key is associated with a deactivated account…"),
 *   `organization_deactivated`: the OpenAI platform closed the account or organisation.
 * - `deactivated_workspace` (402 from the ChatGPT backend, in `detail.code` or `error.code`):
 *   the ChatGPT workspace behind a Codex login is gone.
 * - `unsupported_country_region_territory` (403): not from where this account's requests leave.
 * - `insufficient_quota`, `billing_not_active` (429 on the OpenAI API): no credit left; waiting
 *   does not help, a top-up does.
 * - `usage_not_included` (429 from the ChatGPT backend): the plan does not include Codex.
 */
const BLOCKED_CODES = new Set([
  'account_deactivated',
  'organization_deactivated',
  'deactivated_workspace',
  'unsupported_country_region_territory',
  'insufficient_quota',
  'billing_not_active',
  'usage_not_included',
]);
/** Of the codes above, those that arrive as a 429 (every other 429 is a rate limit). */
const BLOCKED_ON_429 = new Set(['insufficient_quota', 'billing_not_active', 'usage_not_included']);

const BLOCKED_PATTERNS: RegExp[] = [
  /associated with a deactivated account/i,
  /(account|organi[sz]ation|workspace) has been (deactivated|disabled|suspended|banned|terminated)/i,
  /(account|organi[sz]ation|workspace) is (deactivated|disabled|suspended|banned)/i,
];

/** Every error code of an OpenAI-family body: `error.code`, `error.type`, `detail.code`. */
function errorCodes(bodyText: string): string[] {
  const body = jsonObject(bodyText);
  if (body === null) return [];
  return [
    nestedString(body, 'error', 'code'),
    nestedString(body, 'error', 'type'),
    nestedString(body, 'detail', 'code'),
  ].filter((code): code is string => code !== undefined);
}

/**
 * The message of a JSON error body: the OpenAI API's `error.message` (or `error` as a string,
 * or `message`), the ChatGPT backend's `detail` (a string or `detail.message`).
 */
function messageOf(body: Record<string, unknown>): string | undefined {
  if (typeof body.error === 'string') return body.error;
  if (typeof body.detail === 'string') return body.detail;
  return (
    nestedString(body, 'error', 'message') ??
    nestedString(body, 'detail', 'message') ??
    (typeof body.message === 'string' ? body.message : undefined)
  );
}

/** The message of an error body; the (bounded) text itself when it is not JSON. */
function openAIErrorMessage(bodyText: string): string {
  const body = jsonObject(bodyText);
  return body === null ? bodyText.slice(0, MAX_INSPECTED) : (messageOf(body) ?? '');
}

/**
 * Whether the refusal means the account (not the request) is unusable: a blocked code above, or
 * a message saying the account, organisation or workspace is deactivated, disabled, suspended or
 * banned. Some arrive as a 429 (no credit left, plan without Codex), so a provider asks this
 * before it treats a 429 as a rate limit.
 */
export function isOpenAIBlockedResponse(status: number, bodyText: string): boolean {
  if (![400, 401, 402, 403, 429].includes(status)) return false;
  const codes = errorCodes(bodyText);
  if (status === 429) return codes.some((code) => BLOCKED_ON_429.has(code));
  if (codes.some((code) => BLOCKED_CODES.has(code))) return true;
  const message = openAIErrorMessage(bodyText);
  return BLOCKED_PATTERNS.some((pattern) => pattern.test(message));
}

/** The upstream's words for the history; its error code when it gave no message. */
export function openAIBlockedReason(bodyText: string): string {
  const message = oneLine(openAIErrorMessage(bodyText));
  return message !== '' ? message : (errorCodes(bodyText)[0] ?? '');
}

/**
 * The health rules of the OpenAI-family account types (`openai`, `codex-oauth`,
 * `azure-openai`). OpenAI's own limits are per model, but the resets they name are seconds to
 * minutes away and Codex's are per account, so every 429 covers the whole account.
 */
export const openAIHealthRules: HealthRules = {
  rateLimitReset: parseOpenAIRateLimitReset,
  rateLimitScope: () => 'account',
  isBlocked: isOpenAIBlockedResponse,
  blockedReason: openAIBlockedReason,
  isAuthFailed: (status, bodyText) => status === 401 && !isOpenAIBlockedResponse(status, bodyText),
  usageWindows: codexUsageWindows,
};
