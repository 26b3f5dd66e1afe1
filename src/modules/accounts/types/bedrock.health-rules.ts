import type { HealthRules, ResponseHeaders } from './account-type.descriptor';
import { header, retryAfter } from './health-readings';

/**
 * Pure readings of Amazon Bedrock responses for the health machine. Bedrock names its error in
 * the `x-amzn-errortype` header (`ThrottlingException:http://internal.amazon.com/…`); the body
 * is `{"message": "…"}`. Throttling is a per-minute token or request bucket of one model in one
 * region, so a 429 without `retry-after` cools the model's family for a short while, not a
 * minute; every 401 / 403 (unknown key, bad signature, expired token, access denied) means the
 * credentials cannot serve.
 */

/** A throttled model without `retry-after`: Bedrock's buckets refill within seconds. */
export const BEDROCK_THROTTLE_COOLDOWN_MS = 10_000;

/** The AWS error code of a response (`ThrottlingException`), or undefined. */
export function bedrockErrorType(headers: ResponseHeaders): string | undefined {
  const value = header(headers, 'x-amzn-errortype');
  if (value === undefined || value === '') return undefined;
  const code = value.split(':')[0].trim();
  return code === '' ? undefined : code;
}

export const bedrockHealthRules: HealthRules = {
  rateLimitReset(headers: ResponseHeaders, now: number): number | null {
    return retryAfter(header(headers, 'retry-after'), now) ?? now + BEDROCK_THROTTLE_COOLDOWN_MS;
  },
  rateLimitScope(): string {
    return 'model';
  },
  isBlocked(): boolean {
    return false;
  },
  blockedReason(): string {
    return '';
  },
  isAuthFailed(status: number): boolean {
    return status === 401 || status === 403;
  },
};
