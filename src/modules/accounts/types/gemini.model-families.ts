/**
 * Gemini's model families, for both Google account types (`gemini-api` and `gemini-oauth`).
 * Google's quotas are per model (a QuotaFailure names the model in its `quotaDimensions`), so a
 * 429 for one model family leaves the others usable on the same account: `gemini-2.5-pro`
 * exhausted does not stop `gemini-2.5-flash`.
 */
export const GEMINI_MODEL_FAMILIES = ['pro', 'flash', 'flash-lite', 'other'] as const;
export type GeminiModelFamily = (typeof GEMINI_MODEL_FAMILIES)[number];

export function geminiModelFamily(model: string): GeminiModelFamily {
  const name = model.toLowerCase();
  if (name.includes('flash-lite')) return 'flash-lite';
  if (name.includes('flash')) return 'flash';
  if (name.includes('pro')) return 'pro';
  return 'other';
}
