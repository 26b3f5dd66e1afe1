/**
 * The OpenAI family's model families: one. OpenAI's API limits are per model, but the resets it
 * names are seconds to minutes away, and Codex and Azure limits cover the whole account or
 * deployment, so no 429 of this family is scoped narrower than the account (see
 * openai.health-rules.ts); a finer split would only add coordination keys.
 */
export const OPENAI_MODEL_FAMILIES = ['other'] as const;
export type OpenAIModelFamily = (typeof OPENAI_MODEL_FAMILIES)[number];

export function openAIModelFamily(_model: string): OpenAIModelFamily {
  return 'other';
}
