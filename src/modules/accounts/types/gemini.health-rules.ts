import type { HealthRules } from './account-type.descriptor';
import {
  googleBlockedReason,
  googleErrorMessage,
  googleErrorReasons,
  googleRateLimitReset,
  googleRateLimitScope,
} from './google-error-body';

/**
 * Pure readings of Gemini API responses (`gemini-api` accounts) for the health machine. Quotas
 * are Google's (google-error-body.ts: RetryInfo, per-minute or per-day QuotaFailure, per-model
 * scope); a bad key is 400 `INVALID_ARGUMENT` with an ErrorInfo reason `API_KEY_INVALID`.
 */

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
  if (googleErrorReasons(bodyText).some((reason) => BLOCKED_REASONS.has(reason))) return true;
  const message = googleErrorMessage(bodyText);
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
    googleErrorReasons(bodyText).includes('API_KEY_INVALID') ||
    /API key (not valid|expired)/i.test(googleErrorMessage(bodyText))
  );
}

export const geminiHealthRules: HealthRules = {
  rateLimitReset: googleRateLimitReset,
  rateLimitScope: googleRateLimitScope,
  isBlocked: isGeminiBlockedResponse,
  blockedReason: googleBlockedReason,
  isAuthFailed: isGeminiAuthFailed,
};
