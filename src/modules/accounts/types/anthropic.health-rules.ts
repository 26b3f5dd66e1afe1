import type { HealthRules, ResponseHeaders, UsageWindow } from './account-type.descriptor';
import type { AnthropicModelFamily } from './anthropic.model-families';
import {
  decimal,
  epochSeconds,
  errorMessage,
  header,
  isoDate,
  latestFuture,
  oneLine,
  retryAfter,
} from './health-readings';

/**
 * Pure readings of Anthropic responses for the health machine, shared by every account type that
 * speaks the Anthropic API: when a rate limit resets, which scope it covers, and whether a
 * refusal means the account is banned. No I/O, no clock.
 */

const WINDOW_STATUS = /^anthropic-ratelimit-unified-(.+)-status$/;
const TOKEN_BUCKETS = ['requests', 'tokens', 'input-tokens', 'output-tokens'] as const;

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
  const windows = latestFuture(rejectedWindows, now);
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
  return latestFuture(exhausted, now) ?? latestFuture(all, now);
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

export function isBlockedResponse(status: number, bodyText: string): boolean {
  if (status !== 400 && status !== 401 && status !== 403) return false;
  const message = errorMessage(bodyText);
  if (BLOCKED_PATTERNS.some((pattern) => pattern.test(message))) return true;
  return status === 403 && BLOCKED_ON_403.some((pattern) => pattern.test(message));
}

/** The upstream's own words for a blocked account, shortened and single-line, for the history. */
export function blockedReason(bodyText: string): string {
  return oneLine(errorMessage(bodyText));
}

/** The subscription windows Claude reports, by header infix. */
const UNIFIED_WINDOWS = [
  { infix: '5h', name: '5h', windowMinutes: 300 },
  { infix: '7d', name: 'weekly', windowMinutes: 10_080 },
] as const;

/**
 * The 5-hour and weekly windows of a subscription (OAuth) account:
 * `anthropic-ratelimit-unified-{5h,7d}-utilization` (a fraction, 0–1) and `-reset` (epoch
 * seconds). API-key accounts get none of these headers: null.
 */
export function anthropicUsageWindows(headers: ResponseHeaders): UsageWindow[] | null {
  let windows: UsageWindow[] | null = null;
  for (const { infix, name, windowMinutes } of UNIFIED_WINDOWS) {
    const used = decimal(header(headers, `anthropic-ratelimit-unified-${infix}-utilization`));
    if (used === null) continue;
    (windows ??= []).push({
      name,
      usedPercent: Math.round(used * 10_000) / 100,
      resetsAt: epochSeconds(header(headers, `anthropic-ratelimit-unified-${infix}-reset`)),
      windowMinutes,
    });
  }
  return windows;
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
  usageWindows: anthropicUsageWindows,
};
