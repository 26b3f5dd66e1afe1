/**
 * When a failed delivery is tried again: exponential backoff with jitter. Attempt n (1-based,
 * the one that just failed) waits base * 2^(n-1), capped at max, then scaled by a random factor
 * in [1 - jitter, 1 + jitter] so many deliveries that failed together do not retry together.
 * With the defaults: about 5 s, 10 s, 20 s, 40 s, ... up to 15 min.
 */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** 0..1; default 0.2. */
  jitter?: number;
}

export function backoffDelayMs(
  attempts: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const jitter = options.jitter ?? 0.2;
  const exponent = Math.max(0, attempts - 1);
  // 2^40 already exceeds any cap; avoids Infinity for absurd attempt counts.
  const raw = options.baseMs * 2 ** Math.min(exponent, 40);
  const capped = Math.min(options.maxMs, raw);
  const factor = 1 - jitter + 2 * jitter * random();
  return Math.max(1, Math.round(Math.min(options.maxMs, capped * factor)));
}

export interface RetryPolicy extends BackoffOptions {
  maxAttempts: number;
  /** A delivery older than this (since created) is given up after a failed attempt. */
  maxAgeMs: number;
}

/**
 * What happens after a failed attempt: the next attempt time, or null to give up (attempts
 * exhausted, too old, or the failure is final).
 */
export function nextAttemptAt(
  attempts: number,
  createdAt: number,
  now: number,
  retryable: boolean,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number | null {
  if (!retryable || attempts >= policy.maxAttempts) return null;
  const at = now + backoffDelayMs(attempts, policy, random);
  if (at - createdAt > policy.maxAgeMs) return null;
  return at;
}
