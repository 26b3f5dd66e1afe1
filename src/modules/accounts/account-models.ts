import type { AccountModels } from './account.types';

/** Anthropic's model families; upstream limits (e.g. a weekly Opus cap) apply per family. */
export const MODEL_FAMILIES = ['opus', 'sonnet', 'haiku', 'other'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export function isModelFamily(value: string): value is ModelFamily {
  return (MODEL_FAMILIES as readonly string[]).includes(value);
}

/** The family of a model name: `claude-opus-4-1` → opus, `claude-3-5-haiku-latest` → haiku. */
export function modelFamily(model: string): ModelFamily {
  const name = model.toLowerCase();
  if (name.includes('opus')) return 'opus';
  if (name.includes('sonnet')) return 'sonnet';
  if (name.includes('haiku')) return 'haiku';
  return 'other';
}

function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 'i');
}

const patternCache = new Map<string, RegExp>();

function matches(pattern: string, model: string): boolean {
  if (!pattern.includes('*')) return pattern.toLowerCase() === model.toLowerCase();
  let regexp = patternCache.get(pattern);
  if (regexp === undefined) {
    regexp = globToRegExp(pattern);
    patternCache.set(pattern, regexp);
  }
  return regexp.test(model);
}

/**
 * Whether an account serves a model: null serves every model; a list names them (`*` matches any
 * run of characters, case-insensitive); a mapping serves exactly its keys.
 */
export function accountServesModel(models: AccountModels, model: string): boolean {
  if (models === null) return true;
  if (Array.isArray(models)) return models.some((pattern) => matches(pattern, model));
  return Object.prototype.hasOwnProperty.call(models, model);
}

/** The model name to send upstream: renamed by a mapping, unchanged otherwise. */
export function upstreamModelName(models: AccountModels, model: string): string {
  if (models === null || Array.isArray(models)) return model;
  return Object.prototype.hasOwnProperty.call(models, model) ? (models[model] ?? model) : model;
}
