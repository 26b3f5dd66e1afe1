import type { HealthRules, ResponseHeaders } from './account-type.descriptor';
import type { AnthropicModelFamily } from './anthropic.model-families';

/**
 * Pure readings of Anthropic responses for the health machine, shared by every account type that
 * speaks the Anthropic API: when a rate limit resets, which scope it covers, and whether a
 * refusal means the account is banned. No I/O, no clock.
 */

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name] ?? findCaseInsensitive(headers, name);
  const first = Array.isArray(value) ? value[0] : value;
  const trimmed = first?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

function findCaseInsensitive(
  headers: ResponseHeaders,
  name: string,
): string | string[] | undefined {
  // Node lower-cases incoming header names; this only serves callers that build their own maps.
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

function epochSeconds(value: string | undefined): number | null {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value)) return null;
  return Math.round(Number(value) * 1000);
}

function isoDate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const parsed = Date.parse(value);
  return Number.isFinite(parsed) ? parsed : null;
}

function retryAfter(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return now + Math.ceil(Number(value) * 1000);
  return isoDate(value);
}

const WINDOW_STATUS = /^anthropic-ratelimit-unified-(.+)-status$/;
const TOKEN_BUCKETS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

function latest(values: (number | null)[], now: number): number | null {
  const future = values.filter((v): v is number => v !== null && v > now);
  return future.length === 0 ? null : Math.max(...future);
}

/**
 * When a 429'd account may be used again (epoch ms), or null when the response does not say.
 * The first source that yields a time in the future wins:
 *
 * 1. `anthropic-ratelimit-unified-reset` (epoch seconds): subscription (OAuth) accounts name the
 *    reset of the limit that refused the request here.
 * 2. `anthropic-ratelimit-unified-<window>-reset` of every window whose `-status` is `rejected`
 *    (e.g. `5h`, `7d`): the latest of them, since all must have reset before a request passes.
 * 3. `retry-after`: delay in seconds or an HTTP date.
 * 4. `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset` (RFC 3339): the
 *    latest among the buckets whose `-remaining` is 0; when no bucket says it is exhausted, the
 *    latest of all of them (a 429 means one of them is).
 *
 * Times in the past are ignored (clock skew, stale proxies), so they fall through to the next.
 */
export function parseRateLimitReset(headers: ResponseHeaders, now: number): number | null {
  const unified = epochSeconds(header(headers, 'anthropic-ratelimit-unified-reset'));
  if (unified !== null && unified > now) return unified;

  const rejectedWindows: (number | null)[] = [];
  for (const name of Object.keys(headers)) {
    const match = WINDOW_STATUS.exec(name.toLowerCase());
    if (match === null || header(headers, name)?.toLowerCase() !== 'rejected') continue;
    rejectedWindows.push(
      epochSeconds(header(headers, `anthropic-ratelimit-unified-${match[1]}-reset`)),
    );
  }
  const windows = latest(rejectedWindows, now);
  if (windows !== null) return windows;

  const after = retryAfter(header(headers, 'retry-after'), now);
  if (after !== null && after > now) return after;

  const all: (number | null)[] = [];
  const exhausted: (number | null)[] = [];
  for (const bucket of TOKEN_BUCKETS) {
    const reset = isoDate(header(headers, `anthropic-ratelimit-${bucket}-reset`));
    all.push(reset);
    if (header(headers, `anthropic-ratelimit-${bucket}-remaining`) === '0') exhausted.push(reset);
  }
  return latest(exhausted, now) ?? latest(all, now);
}

/**
 * The scope a 429 applies to: a model family when the upstream names a per-family limit (the
 * weekly Opus or Sonnet cap of subscription accounts), else the whole account.
 */
export function rateLimitScope(headers: ResponseHeaders): 'account' | AnthropicModelFamily {
  const claim = header(headers, 'anthropic-ratelimit-unified-representative-claim')?.toLowerCase();
  if (claim === undefined) return 'account';
  for (const family of ['opus', 'sonnet', 'haiku'] as const) {
    if (claim.endsWith(`_${family}`)) return family;
  }
  return 'account';
}

/**
 * Refusals that mean the organization or account behind the credentials is disabled or banned.
 * Anthropic answers a disabled organization with 400 `invalid_request_error` "This organization
 * has been disabled." (403 `permission_error` on some routes), and a subscription organization
 * that may not use OAuth with 403 "OAuth authentication is currently not allowed for this
 * organization." The bare word "banned" counts only on a 403, where it cannot come from a
 * validation message quoting the request.
 */
const BLOCKED_PATTERNS: RegExp[] = [
  /organi[sz]ation has been (disabled|suspended|banned|deactivated)/i,
  /oauth authentication is currently not allowed for this organi[sz]ation/i,
  /account has been (disabled|suspended|banned|terminated|deactivated)/i,
  /organi[sz]ation is (disabled|suspended|banned)/i,
];
const BLOCKED_ON_403: RegExp[] = [/\bbanned\b/i, /\bsuspended\b/i];

const MAX_INSPECTED = 4096;

function errorMessage(bodyText: string): string {
  const text = bodyText.slice(0, MAX_INSPECTED);
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const error = (parsed as { error?: unknown; message?: unknown }).error;
      if (typeof error === 'string') return error;
      if (typeof error === 'object' && error !== null) {
        const message = (error as { message?: unknown }).message;
        if (typeof message === 'string') return message;
      }
      const message = (parsed as { message?: unknown }).message;
      if (typeof message === 'string') return message;
    }
  } catch {
    // Not JSON (an HTML error page, a proxy's plain text): inspect the text itself.
  }
  return text;
}

export function isBlockedResponse(status: number, bodyText: string): boolean {
  if (status !== 400 && status !== 401 && status !== 403) return false;
  const message = errorMessage(bodyText);
  if (BLOCKED_PATTERNS.some((pattern) => pattern.test(message))) return true;
  return status === 403 && BLOCKED_ON_403.some((pattern) => pattern.test(message));
}

/** The upstream's own words for a blocked account, shortened and single-line, for the history. */
export function blockedReason(bodyText: string): string {
  return errorMessage(bodyText).replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * The health rules of the Anthropic account types. A 401 whose message says the organisation is
 * disabled is blocked (final), not an auth failure a token refresh could mend.
 */
export const anthropicHealthRules: HealthRules = {
  rateLimitReset: parseRateLimitReset,
  rateLimitScope,
  isBlocked: isBlockedResponse,
  blockedReason,
  isAuthFailed: (status, bodyText) => status === 401 && !isBlockedResponse(status, bodyText),
};
