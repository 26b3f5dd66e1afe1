import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';

/**
 * Gemini's `usageMetadata` (the Gemini API's and, inside `response`, Code Assist's):
 * `promptTokenCount` includes `cachedContentTokenCount`; `thoughtsTokenCount` is billed as output
 * beside `candidatesTokenCount`; `toolUsePromptTokenCount` is prompt too.
 */
export interface GeminiUsageMetadata {
  promptTokenCount?: unknown;
  candidatesTokenCount?: unknown;
  cachedContentTokenCount?: unknown;
  thoughtsTokenCount?: unknown;
  toolUsePromptTokenCount?: unknown;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** usageMetadata → Switchyard's token split (cached prompt tokens read from the cache). */
export function geminiUsageToTokens(metadata: GeminiUsageMetadata): TokenUsage {
  const prompt = count(metadata.promptTokenCount) + count(metadata.toolUsePromptTokenCount);
  const cached = Math.min(count(metadata.cachedContentTokenCount), prompt);
  return {
    ...emptyUsage(),
    inputTokens: prompt - cached,
    cacheReadTokens: cached,
    outputTokens: count(metadata.candidatesTokenCount) + count(metadata.thoughtsTokenCount),
  };
}

/** A GenerateContentResponse's usage and whether a candidate finished, read from one object. */
export function readGeminiResponse(response: unknown): {
  usage: TokenUsage | null;
  finished: boolean;
} {
  if (!isJsonObject(response)) return { usage: null, finished: false };
  const usage = isJsonObject(response.usageMetadata)
    ? geminiUsageToTokens(response.usageMetadata)
    : null;
  const candidates = Array.isArray(response.candidates) ? response.candidates : [];
  const finished = candidates.some(
    (c) => isJsonObject(c) && typeof c.finishReason === 'string' && c.finishReason !== '',
  );
  return { usage, finished };
}
