/**
 * Token counts of one request, split the way Anthropic bills them. Other providers map onto it:
 * cached prompt tokens go to `cacheReadTokens`, the uncached remainder to `inputTokens`.
 */
export interface TokenUsage {
  /** Prompt tokens neither written to nor read from the cache. */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens written to the 5-minute cache (1.25x input on Anthropic). */
  cacheCreation5mTokens: number;
  /** Prompt tokens written to the 1-hour cache (2x input on Anthropic). */
  cacheCreation1hTokens: number;
  /** Prompt tokens served from the cache (0.1x input on Anthropic). */
  cacheReadTokens: number;
}

export const emptyUsage = (): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreation5mTokens: 0,
  cacheCreation1hTokens: 0,
  cacheReadTokens: 0,
});

/** Every prompt token, cached or not: what Anthropic compares with a long-context threshold. */
export function promptTokens(u: TokenUsage): number {
  return u.inputTokens + u.cacheCreation5mTokens + u.cacheCreation1hTokens + u.cacheReadTokens;
}

export function totalTokens(u: TokenUsage): number {
  return promptTokens(u) + u.outputTokens;
}
