/** Anthropic's model families; upstream limits (e.g. a weekly Opus cap) apply per family. */
export const ANTHROPIC_MODEL_FAMILIES = ['opus', 'sonnet', 'haiku', 'other'] as const;
export type AnthropicModelFamily = (typeof ANTHROPIC_MODEL_FAMILIES)[number];

/** The family of a model name: `claude-opus-4-1` → opus, `claude-3-5-haiku-latest` → haiku. */
export function anthropicModelFamily(model: string): AnthropicModelFamily {
  const name = model.toLowerCase();
  if (name.includes('opus')) return 'opus';
  if (name.includes('sonnet')) return 'sonnet';
  if (name.includes('haiku')) return 'haiku';
  return 'other';
}
