/**
 * The model families metrics are labelled with: a small fixed set across every platform, so a
 * label never carries a raw model string (clients can name any model; a label per name would let
 * them grow the series without bound). The Anthropic and Gemini splits follow the account types'
 * own families (accounts/types/*.model-families.ts), which is how upstream limits are scoped.
 */
export const MODEL_FAMILIES = [
  'opus',
  'sonnet',
  'haiku',
  'gpt',
  'o-series',
  'codex',
  'gemini-pro',
  'gemini-flash',
  'gemini-flash-lite',
  'other',
] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** `o1`, `o3-mini`, `o4-mini-2025-04-16`, `openai/o3`: OpenAI's reasoning series. */
const O_SERIES = /(?:^|[/.:])o\d/;

/** The family of a model name (any spelling: Bedrock ids, vendor prefixes, dated snapshots). */
export function modelFamily(model: string): ModelFamily {
  const name = model.toLowerCase();
  if (name.includes('opus')) return 'opus';
  if (name.includes('sonnet')) return 'sonnet';
  if (name.includes('haiku')) return 'haiku';
  if (name.includes('gemini')) {
    if (name.includes('flash-lite')) return 'gemini-flash-lite';
    if (name.includes('flash')) return 'gemini-flash';
    if (name.includes('pro')) return 'gemini-pro';
    return 'other';
  }
  if (name.includes('codex')) return 'codex';
  if (O_SERIES.test(name)) return 'o-series';
  if (name.includes('gpt')) return 'gpt';
  return 'other';
}
