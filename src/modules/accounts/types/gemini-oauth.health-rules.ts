import type { HealthRules } from './account-type.descriptor';
import {
  googleBlockedReason,
  googleErrorReasons,
  googleRateLimitReset,
  googleRateLimitScope,
} from './google-error-body';

/** ErrorInfo reasons that mean the Google account or its project is disabled (final). */
const BLOCKED_REASONS = new Set(['ACCOUNT_DISABLED', 'USER_DISABLED', 'CONSUMER_SUSPENDED']);

/**
 * The health rules of Google accounts through Code Assist (`gemini-oauth`). A 429
 * RESOURCE_EXHAUSTED is read as the Gemini API's (google-error-body.ts): until the RetryInfo
 * delay, the next Pacific midnight for a per-day quota, a minute for a per-minute one without a
 * delay, else `retry-after`; scoped to the model's family when the QuotaFailure names a model.
 * A 403 PERMISSION_DENIED whose ErrorInfo names a disabled account or consumer is blocked; any
 * other 403 and every 401 are refused credentials (a refresh, then a new login or onboarding,
 * may help).
 */
export const geminiOAuthHealthRules: HealthRules = {
  rateLimitReset: googleRateLimitReset,
  rateLimitScope: googleRateLimitScope,
  isBlocked(status: number, bodyText: string): boolean {
    if (status !== 403) return false;
    return googleErrorReasons(bodyText).some((r) => BLOCKED_REASONS.has(r));
  },
  blockedReason: googleBlockedReason,
  isAuthFailed(status: number): boolean {
    return status === 401 || status === 403;
  },
};
