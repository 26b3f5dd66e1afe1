import type { ResponseHeaders } from './account-type.descriptor';
import { header, latestFuture, MAX_INSPECTED, oneLine, retryAfter } from './health-readings';

/**
 * One reader of Google's error bodies, for every Google account type (`gemini-api` through the
 * Gemini API, `gemini-oauth` through Code Assist): `{"error":{"code","message","status",
 * "details":[…]}}` (google.rpc.Status; also as the one element of a streamed JSON array) whose
 * typed details say why: `google.rpc.RetryInfo` (`retryDelay: "37s"`), `google.rpc.QuotaFailure`
 * naming the quota that ran out (`quotaId: "GenerateRequestsPerDayPerProjectPerModel-FreeTier"`,
 * `quotaDimensions: {"model": "gemini-2.5-pro"}`) and `google.rpc.ErrorInfo` (`reason`).
 */

const RPC = 'type.googleapis.com/google.rpc.';
/** Per-minute quotas without a retry delay: wait the rest of a minute. */
const MINUTE_MS = 60_000;

type Json = Record<string, unknown>;

function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `error` object of a Google error body (bounded read), or null when it has none. */
export function googleErrorOf(bodyText: string | undefined): Json | null {
  if (bodyText === undefined || bodyText === '') return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText.slice(0, MAX_INSPECTED));
  } catch {
    // Not JSON (an HTML error page, a proxy's plain text, a truncated body).
    return null;
  }
  if (Array.isArray(parsed)) parsed = parsed[0];
  return isJson(parsed) && isJson(parsed.error) ? parsed.error : null;
}

/** The `error.details` entries of a Google error body, by their short type name. */
function details(bodyText: string | undefined, type: string): Json[] {
  const list = googleErrorOf(bodyText)?.details;
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
export function googleRetryDelayMs(bodyText: string | undefined): number | null {
  for (const info of details(bodyText, 'RetryInfo')) {
    const ms = parseGoogleDuration(info.retryDelay);
    if (ms !== null) return ms;
  }
  return null;
}

/** What a QuotaFailure says ran out. */
export interface GoogleQuotaViolation {
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
export function googleQuotaViolations(bodyText: string | undefined): GoogleQuotaViolation[] {
  const out: GoogleQuotaViolation[] = [];
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
 * When a 429'd Google account may be used again (epoch ms), or null when the response does not
 * say: a per-day quota (QuotaFailure) waits for the next Pacific midnight, or a longer
 * RetryInfo; otherwise the RetryInfo delay, then `retry-after`; a per-minute quota without
 * either waits a minute.
 */
export function googleRateLimitReset(
  headers: ResponseHeaders,
  now: number,
  bodyText?: string,
): number | null {
  const delay = googleRetryDelayMs(bodyText);
  const fromDelay = delay === null ? null : now + delay;
  const violations = googleQuotaViolations(bodyText);
  if (violations.some((v) => v.period === 'day'))
    return latestFuture([nextPacificMidnight(now), fromDelay], now);
  if (fromDelay !== null && fromDelay > now) return fromDelay;
  const after = retryAfter(header(headers, 'retry-after'), now);
  if (after !== null && after > now) return after;
  if (violations.some((v) => v.period === 'minute')) return now + MINUTE_MS;
  return null;
}

/**
 * The scope of a Google 429: the requested model's family when the quota that ran out is a
 * per-model one (its QuotaFailure names a model), else the whole account (a project-wide
 * quota, or no detail at all).
 */
export function googleRateLimitScope(_headers: ResponseHeaders, bodyText?: string): string {
  const violations = googleQuotaViolations(bodyText);
  return violations.length > 0 && violations.every((v) => v.model !== null) ? 'model' : 'account';
}

/** The ErrorInfo reasons of an error body (`API_KEY_INVALID`, `CONSUMER_SUSPENDED`, …). */
export function googleErrorReasons(bodyText: string): string[] {
  return details(bodyText, 'ErrorInfo')
    .map((info) => info.reason)
    .filter((reason): reason is string => typeof reason === 'string');
}

/** `error.message` of a Google error body; the (bounded) text itself when it is not one. */
export function googleErrorMessage(bodyText: string): string {
  const error = googleErrorOf(bodyText);
  if (error === null) return bodyText.slice(0, MAX_INSPECTED);
  return typeof error.message === 'string' ? error.message : '';
}

/** The upstream's words for a blocked account, for the health history. */
export function googleBlockedReason(bodyText: string): string {
  return oneLine(googleErrorMessage(bodyText));
}
