import type { HealthRules, ResponseHeaders } from './account-type.descriptor';
import { header, latestFuture, retryAfter } from './health-readings';

/**
 * How Google APIs (Code Assist, the Gemini API) say an account is limited, refused or disabled:
 * `{"error":{"code","message","status","details":[…]}}` (google.rpc.Status) with typed details:
 * `google.rpc.RetryInfo` (`retryDelay`: a protobuf duration such as `"37s"` or `"1.5s"`) and
 * `google.rpc.ErrorInfo` (`reason`).
 */
interface GoogleErrorDetail {
  '@type'?: unknown;
  retryDelay?: unknown;
  reason?: unknown;
}

interface GoogleError {
  code?: unknown;
  status?: unknown;
  message?: unknown;
  details?: unknown;
}

/** The `error` object of a Google error body (also inside a one-element array), or null. */
export function googleErrorOf(bodyText: string): GoogleError | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return null;
  }
  if (Array.isArray(parsed)) parsed = parsed[0];
  if (typeof parsed !== 'object' || parsed === null) return null;
  const error = (parsed as { error?: unknown }).error;
  return typeof error === 'object' && error !== null ? error : null;
}

function detailsOf(error: GoogleError | null): GoogleErrorDetail[] {
  if (error === null || !Array.isArray(error.details)) return [];
  return error.details.filter((d): d is GoogleErrorDetail => typeof d === 'object' && d !== null);
}

/** A protobuf JSON duration (`"37s"`, `"0.5s"`, `"1.250s"`) in ms, or null. */
export function protobufDurationMs(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const match = /^(\d+(?:\.\d+)?)s$/.exec(value.trim());
  return match === null ? null : Math.ceil(Number(match[1]) * 1000);
}

/** The RetryInfo delay of a Google error body in ms, or null when it names none. */
export function googleRetryDelayMs(bodyText: string): number | null {
  for (const detail of detailsOf(googleErrorOf(bodyText))) {
    if (typeof detail['@type'] === 'string' && detail['@type'].endsWith('google.rpc.RetryInfo')) {
      const ms = protobufDurationMs(detail.retryDelay);
      if (ms !== null) return ms;
    }
  }
  return null;
}

/** ErrorInfo reasons that mean the Google account or its project is disabled (final). */
const BLOCKED_REASONS = new Set(['ACCOUNT_DISABLED', 'USER_DISABLED', 'CONSUMER_SUSPENDED']);

function errorReasons(error: GoogleError | null): string[] {
  return detailsOf(error)
    .map((d) => d.reason)
    .filter((r): r is string => typeof r === 'string');
}

/**
 * The health rules of Google-account types (`gemini-oauth`): 429 RESOURCE_EXHAUSTED is a rate
 * limit until the RetryInfo delay (else `retry-after`); 403 PERMISSION_DENIED whose ErrorInfo
 * names a disabled account or consumer is blocked, any other 403 and every 401 are refused
 * credentials (a refresh, then a new login or onboarding, may help).
 */
export const googleHealthRules: HealthRules = {
  rateLimitReset(headers: ResponseHeaders, now: number, bodyText?: string): number | null {
    const delay = bodyText === undefined ? null : googleRetryDelayMs(bodyText);
    return latestFuture(
      [delay === null ? null : now + delay, retryAfter(header(headers, 'retry-after'), now)],
      now,
    );
  },
  rateLimitScope: () => 'account',
  isBlocked(status: number, bodyText: string): boolean {
    if (status !== 403) return false;
    return errorReasons(googleErrorOf(bodyText)).some((r) => BLOCKED_REASONS.has(r));
  },
  blockedReason(bodyText: string): string {
    const error = googleErrorOf(bodyText);
    const message = typeof error?.message === 'string' ? error.message : bodyText;
    return message.replace(/\s+/g, ' ').trim().slice(0, 200);
  },
  isAuthFailed(status: number): boolean {
    return status === 401 || status === 403;
  },
};
