import type { HealthRules, ResponseHeaders } from './account-type.descriptor';
import { header, retryAfter } from './health-readings';

/**
 * Pure readings of Factory's LLM API (`api.factory.ai/api/llm`) for the health machine. Factory
 * answers in the format of the endpoint called (Anthropic's or OpenAI's error shape) and names
 * no reset but `retry-after`. A Droid key draws on its organisation's token allowance: when that
 * runs out Factory answers 402 (payment required), or a 429 / 403 whose message speaks of
 * credits, quota or billing. That is not final (the allowance renews with the billing period, or
 * an admin tops it up), so it cools the account for an hour rather than blocking it; a plain 429
 * cools it until `retry-after`, or for the scheduler's default when none is sent. Every other
 * 401 / 403 means the key cannot serve.
 */

/** How long an account whose credits ran out rests before it is tried again. */
export const DROID_CREDITS_COOLDOWN_MS = 60 * 60 * 1000;

const CREDITS_WORDS = /credit|quota|billing|allowance|payment|insufficient|token limit/i;

/** Factory's words for an organisation whose token allowance or credits ran out. */
export function isDroidCreditsExhausted(status: number, bodyText: string): boolean {
  if (status === 402) return true;
  return (status === 429 || status === 403) && CREDITS_WORDS.test(bodyText);
}

export const droidHealthRules: HealthRules = {
  rateLimitReset(headers: ResponseHeaders, now: number, bodyText?: string): number | null {
    const named = retryAfter(header(headers, 'retry-after'), now);
    if (named !== null) return named;
    return bodyText !== undefined && isDroidCreditsExhausted(429, bodyText)
      ? now + DROID_CREDITS_COOLDOWN_MS
      : null;
  },
  rateLimitScope(): string {
    // Factory's limits and allowance are the organisation's, whatever the model.
    return 'account';
  },
  isBlocked(): boolean {
    return false;
  },
  blockedReason(): string {
    return '';
  },
  isAuthFailed(status: number, bodyText: string): boolean {
    return (status === 401 || status === 403) && !isDroidCreditsExhausted(status, bodyText);
  },
};
