import { BoundedMemo } from 'src/common/text/bounded-memo';
import { WildcardPattern } from 'src/common/text/wildcard';
import type { AccountModels } from './account.types';

// Patterns come from admins (a handful per account); the models matched against them come from
// clients, so matching must stay linear in the model name (see WildcardPattern).
const patternCache = new BoundedMemo<WildcardPattern>({
  maxEntries: 1024,
  maxKeyLength: 1024,
  maxKeyChars: 256 * 1024,
});

function compiled(pattern: string): WildcardPattern {
  return patternCache.getOrCompute(pattern, (p) => new WildcardPattern(p));
}

/**
 * Whether an account serves a model: null serves every model; a list names them (`*` matches any
 * run of characters, case-insensitive); a mapping serves exactly its keys.
 */
export function accountServesModel(models: AccountModels, model: string): boolean {
  if (models === null) return true;
  if (Array.isArray(models)) {
    const lowered = model.toLowerCase();
    return models.some((pattern) => compiled(pattern).matchesPrepared(lowered));
  }
  return Object.prototype.hasOwnProperty.call(models, model);
}

/** The model name to send upstream: renamed by a mapping, unchanged otherwise. */
export function upstreamModelName(models: AccountModels, model: string): string {
  if (models === null || Array.isArray(models)) return model;
  return Object.prototype.hasOwnProperty.call(models, model) ? (models[model] ?? model) : model;
}
