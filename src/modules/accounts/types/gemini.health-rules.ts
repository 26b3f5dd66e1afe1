import type { HealthRules, ResponseHeaders } from './account-type.descriptor';
import {
  header,
  jsonObject,
  latestFuture,
  MAX_INSPECTED,
  nestedString,
  oneLine,
  retryAfter,
} from './health-readings';

/**
 * Pure readings of Gemini API responses for the health machine. Google answers a spent quota
 * with 429 `RESOURCE_EXHAUSTED` whose `details` may carry a `google.rpc.RetryInfo`
 * (`retryDelay: "37s"`) and a `google.rpc.QuotaFailure` naming the quota that ran out
 * (`quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"`,
 * `quotaMetric: "generativelanguage.googleapis.com/generate_content_free_tier_requests"`,
 * `quotaDimensions: {"model": "gemini-2.5-pro", "location": "global"}`); a bad key is 400
 * `INVALID_ARGUMENT` with an ErrorInfo reason `API_KEY_INVALID`.
 */

const RPC = 'type.googleapis.com/google.rpc.';
/** Per-minute quotas without a retry delay: wait the rest of a minute. */
const MINUTE_MS = 60_000;

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `error.details` entries of a Google error body, by their short type name. */
function details(bodyText: string | undefined, type: string): Json[] {
  if (bodyText === undefined || bodyText === '') return [];
  const list = (jsonObject(bodyText)?.error as Json | undefined)?.details;
  if (!Array.isArray(list)) return [];
  return list.filter((d): d is Json => isJson(d) && d['@type'] === `${RPC}${type}`);
}

/**
 * A google.protobuf.Duration as JSON writes it (`"37s"`, `"0.5s"`, `"1.234567s"`), or an object
 * `{seconds, nanos}`; ms rounded up, null when it is neither.
 */
export function parseGoogleDuration(value: unknown): number | null {
  if (typeof value === 'string') {
    const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
    return match === null ? null : Math.ceil(Number(match[1]) * 1000);
  }
  if (isJson(value)) {
    const seconds = Number(value.seconds ?? 0);
    const nanos = Number(value.nanos ?? 0);
    if (!Number.isFinite(seconds) || !Number.isFinite(nanos)) return null;
    return Math.ceil(seconds * 1000 + nanos / 1e6);
  }
  return null;
}

/** The RetryInfo delay of an error body, in ms, or null. */
export function geminiRetryDelayMs(bodyText: string | undefined): number | null {
  for (const info of details(bodyText, 'RetryInfo')) {
    const ms = parseGoogleDuration(info.retryDelay);
    if (ms !== null) return ms;
  }
  return null;
}

/** What a QuotaFailure says ran out. */
export interface GeminiQuotaViolation {
  period: 'minute' | 'day' | null;
  /** The model the quota is for (`quotaDimensions.model`), when it names one. */
  model: string | null;
}

function periodOf(text: string): 'minute' | 'day' | null {
  if (/per.?day|daily/i.test(text)) return 'day';
  if (/per.?minute/i.test(text)) return 'minute';
  return null;
}

/** The quota violations of an error body (none when it has no QuotaFailure). */
export function geminiQuotaViolations(bodyText: string | undefined): GeminiQuotaViolation[] {
  const out: GeminiQuotaViolation[] = [];
  for (const failure of details(bodyText, 'QuotaFailure')) {
    const violations = Array.isArray(failure.violations) ? failure.violations : [];
    for (const violation of violations) {
      if (!isJson(violation)) continue;
      const text = ['quotaId', 'quotaMetric', 'subject', 'description']
        .map((key) => (typeof violation[key] === 'string' ? violation[key] : ''))
        .join(' ');
      const dimensions = violation.quotaDimensions;
      const model =
        isJson(dimensions) && typeof dimensions.model === 'string' ? dimensions.model : null;
      out.push({ period: periodOf(text), model });
    }
  }
  return out;
}

/**
 * The next midnight in Pacific time after `now`, when Google's per-day quotas reset. Read from
 * the wall clock of America/Los_Angeles, so daylight saving time is honoured.
 */
export function nextPacificMidnight(now: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: 'America/Los_Angeles',
    hourCycle: 'h23',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(now));
  const part = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const elapsed =
    (part('hour') * 3600 + part('minute') * 60 + part('second')) * 1000 + (now % 1000);
  return now + 86_400_000 - elapsed;
}

/**
 * When a 429'd Gemini account may be used again (epoch ms), or null when the response does not
 * say: a per-day quota (QuotaFailure) waits for the next Pacific midnight, or a longer
 * RetryInfo; otherwise the RetryInfo delay, then `retry-after`; a per-minute quota without
 * either waits a minute.
 */
export function parseGeminiRateLimitReset(
  headers: ResponseHeaders,
  now: number,
  bodyText?: string,
): number | null {
  const delay = geminiRetryDelayMs(bodyText);
  const fromDelay = delay === null ? null : now + delay;
  const violations = geminiQuotaViolations(bodyText);
  if (violations.some((v) => v.period === 'day'))
    return latestFuture([nextPacificMidnight(now), fromDelay], now);
  if (fromDelay !== null && fromDelay > now) return fromDelay;
  const after = retryAfter(header(headers, 'retry-after'), now);
  if (after !== null && after > now) return after;
  if (violations.some((v) => v.period === 'minute')) return now + MINUTE_MS;
  return null;
}

/**
 * The scope of a Gemini 429: the requested model's family when the quota that ran out is a
 * per-model one (its QuotaFailure names a model), else the whole account (a project-wide
 * quota, or no detail at all).
 */
export function geminiRateLimitScope(_headers: ResponseHeaders, bodyText?: string): string {
  const violations = geminiQuotaViolations(bodyText);
  return violations.length > 0 && violations.every((v) => v.model !== null) ? 'model' : 'account';
}

/** The ErrorInfo reasons of an error body (`API_KEY_INVALID`, `CONSUMER_SUSPENDED`, …). */
function reasons(bodyText: string): string[] {
  return details(bodyText, 'ErrorInfo')
    .map((info) => info.reason)
    .filter((reason): reason is string => typeof reason === 'string');
}

function messageOf(bodyText: string): string {
  const body = jsonObject(bodyText);
  return body === null
    ? bodyText.slice(0, MAX_INSPECTED)
    : (nestedString(body, 'error', 'message') ?? '');
}

/** Reasons that say the project or key is gone for good, not that this request was wrong. */
const BLOCKED_REASONS = new Set(['CONSUMER_SUSPENDED', 'SERVICE_DISABLED', 'BILLING_DISABLED']);
const BLOCKED_PATTERNS: RegExp[] = [
  /has been suspended/i,
  /project has been denied access/i,
  /user location is not supported/i,
];

/**
 * The project behind the key is suspended, the API or billing is disabled on it, or the
 * account's requests leave from a region Google does not serve.
 */
export function isGeminiBlockedResponse(status: number, bodyText: string): boolean {
  if (status !== 400 && status !== 403) return false;
  if (reasons(bodyText).some((reason) => BLOCKED_REASONS.has(reason))) return true;
  const message = messageOf(bodyText);
  return BLOCKED_PATTERNS.some((pattern) => pattern.test(message));
}

/**
 * The key was refused: 401; 403 PERMISSION_DENIED; 400 with reason `API_KEY_INVALID` (what
 * Google answers for a wrong, deleted or expired key: "API key not valid. Please pass a valid API
 * key.").
 */
export function isGeminiAuthFailed(status: number, bodyText: string): boolean {
  if (status === 401 || status === 403) return !isGeminiBlockedResponse(status, bodyText);
  if (status !== 400) return false;
  return (
    reasons(bodyText).includes('API_KEY_INVALID') ||
    /API key (not valid|expired)/i.test(messageOf(bodyText))
  );
}

export const geminiHealthRules: HealthRules = {
  rateLimitReset: parseGeminiRateLimitReset,
  rateLimitScope: geminiRateLimitScope,
  isBlocked: isGeminiBlockedResponse,
  blockedReason: (bodyText) => oneLine(messageOf(bodyText)),
  isAuthFailed: isGeminiAuthFailed,
};
