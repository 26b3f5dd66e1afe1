/**
 * Claude model names → Amazon Bedrock model ids. Bedrock names each Claude model with its own id
 * (`anthropic.claude-sonnet-4-5-20250929-v1:0`) and serves most current models on demand only
 * through a cross-region inference profile: the id prefixed by the region group the request
 * starts in (`us.`, `eu.`, `apac.`) or `global.`. Ids as AWS and Anthropic publish them.
 */
export const BEDROCK_MODEL_IDS: Readonly<Record<string, string>> = {
  'claude-opus-4-7': 'anthropic.claude-opus-4-7',
  'claude-opus-4-6': 'anthropic.claude-opus-4-6-v1',
  'claude-sonnet-4-6': 'anthropic.claude-sonnet-4-6',
  'claude-opus-4-5': 'anthropic.claude-opus-4-5-20251101-v1:0',
  'claude-sonnet-4-5': 'anthropic.claude-sonnet-4-5-20250929-v1:0',
  'claude-haiku-4-5': 'anthropic.claude-haiku-4-5-20251001-v1:0',
  'claude-opus-4-1': 'anthropic.claude-opus-4-1-20250805-v1:0',
  'claude-opus-4': 'anthropic.claude-opus-4-20250514-v1:0',
  'claude-sonnet-4': 'anthropic.claude-sonnet-4-20250514-v1:0',
  'claude-3-7-sonnet': 'anthropic.claude-3-7-sonnet-20250219-v1:0',
  'claude-3-5-haiku': 'anthropic.claude-3-5-haiku-20241022-v1:0',
};

/** How a bedrock account names models: through a cross-region profile, or in its own region. */
export const BEDROCK_INFERENCE_PROFILES = ['regional', 'global', 'none'] as const;
export type BedrockInferenceProfile = (typeof BEDROCK_INFERENCE_PROFILES)[number];

/** `us-east-1` → `us`, `eu-west-3` → `eu`, `ap-northeast-1` → `apac`; null when unknown. */
export function bedrockRegionGroup(region: string): string | null {
  if (region.startsWith('us-') || region.startsWith('ca-')) return 'us';
  if (region.startsWith('eu-')) return 'eu';
  if (region.startsWith('ap-')) return 'apac';
  return null;
}

/** A date suffix (`-20250929`) or Claude Code's context marker (`[1m]`) is not part of the key. */
function baseName(model: string): string {
  return model
    .trim()
    .toLowerCase()
    .replace(/\[[^\]]*\]$/, '')
    .replace(/-\d{8}$/, '')
    .replace(/-latest$/, '');
}

/** Whether a name is already a Bedrock id, profile id or ARN (passed through as it is). */
function isBedrockId(model: string): boolean {
  return model.startsWith('arn:') || /^(?:[a-z]+\.)?anthropic\./.test(model) || model.includes(':');
}

export interface BedrockModelOptions {
  region: string;
  /** The account's own mapping: model name (exact, or without its date) → Bedrock id. */
  modelIds?: Readonly<Record<string, string>>;
  inferenceProfile?: BedrockInferenceProfile;
}

/**
 * The Bedrock id to invoke for a Claude model name: the account's mapping (by exact name, then
 * by name without its date suffix), else the default table with the region group's prefix; a
 * name that already is a Bedrock id, profile or ARN, and an unknown name, pass as they are.
 * Idempotent: an id it returns maps to itself.
 */
export function bedrockModelId(model: string, options: BedrockModelOptions): string {
  const own = options.modelIds;
  if (own !== undefined) {
    const exact = own[model] ?? own[baseName(model)];
    if (exact !== undefined) return exact;
  }
  if (isBedrockId(model)) return model;
  const id = BEDROCK_MODEL_IDS[baseName(model)];
  if (id === undefined) return model;
  switch (options.inferenceProfile ?? 'regional') {
    case 'none':
      return id;
    case 'global':
      return `global.${id}`;
    case 'regional': {
      const group = bedrockRegionGroup(options.region);
      return group === null ? id : `${group}.${id}`;
    }
  }
}
