import { Injectable } from '@nestjs/common';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { isModelAllowed } from 'src/modules/api-keys/api-key-policy';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';

/** Served when some account accepts every model: the current Claude models. */
const DEFAULT_CLAUDE_MODELS = [
  'claude-opus-4-1',
  'claude-opus-4-5',
  'claude-sonnet-4-5',
  'claude-sonnet-4',
  'claude-haiku-4-5',
  'claude-3-5-haiku-latest',
];

/** Answers model listings from the account pool (no upstream call). */
@Injectable()
export class ModelCatalog {
  constructor(private readonly pool: AccountPool) {}

  claudeModelIds(policy: ApiKeyPolicy): string[] {
    const ids = new Set<string>();
    for (const account of this.pool.forPlatform('claude')) {
      if (!account.enabled) continue;
      const models = account.models;
      if (models === null) DEFAULT_CLAUDE_MODELS.forEach((m) => ids.add(m));
      else if (Array.isArray(models))
        models.filter((m) => !m.includes('*')).forEach((m) => ids.add(m));
      else Object.keys(models).forEach((m) => ids.add(m));
    }
    return [...ids].filter((id) => isModelAllowed(policy.modelPolicy, id)).sort();
  }

  /** The Anthropic `GET /v1/models` shape. */
  anthropicModels(policy: ApiKeyPolicy): {
    data: { type: 'model'; id: string; display_name: string; created_at: string }[];
    has_more: boolean;
    first_id: string | null;
    last_id: string | null;
  } {
    const ids = this.claudeModelIds(policy);
    return {
      data: ids.map((id) => ({
        type: 'model',
        id,
        display_name: id,
        created_at: '2025-01-01T00:00:00Z',
      })),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids[ids.length - 1] ?? null,
    };
  }
}
