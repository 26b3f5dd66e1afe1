import { Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { checkAccess } from 'src/modules/api-keys/api-key-policy';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { Scheduler } from 'src/modules/scheduler/scheduler.service';

/** Served when some account accepts every model: the current Claude models. */
const DEFAULT_MODELS: Partial<Record<Platform, readonly string[]>> = {
  claude: [
    'claude-opus-4-1',
    'claude-opus-4-5',
    'claude-sonnet-4-5',
    'claude-sonnet-4',
    'claude-haiku-4-5',
    'claude-3-5-haiku-latest',
  ],
  gemini: [
    'gemini-2.5-pro',
    'gemini-2.5-flash',
    'gemini-2.5-flash-lite',
    'gemini-2.0-flash',
    'gemini-3-pro-preview',
  ],
};

/** One entry of Gemini's `GET /v1beta/models`. */
export interface GeminiModelEntry {
  name: string;
  baseModelId: string;
  version: string;
  displayName: string;
  description: string;
  supportedGenerationMethods: string[];
}

const OWNER: Record<Platform, string> = {
  claude: 'anthropic',
  openai: 'openai',
  gemini: 'google',
  droid: 'factory',
};

/** A fixed date for listings: accounts do not say when a model was released. */
const LISTED_AT = '2025-01-01T00:00:00Z';

/** Answers model listings from what the scheduler's accounts serve (no upstream call). */
@Injectable()
export class ModelCatalog {
  constructor(private readonly scheduler: Scheduler) {}

  /**
   * The models a key may use on one platform: what its enabled accounts serve, by name. A key
   * restricted to some clients lists models only for a caller whose User-Agent is one of them.
   */
  platformModelIds(policy: ApiKeyPolicy, platform: Platform, userAgent?: string): string[] {
    if (checkAccess(policy, { platform, userAgent }) !== null) return [];
    const served = this.scheduler.servedModels(platform);
    const ids = new Set(served.names);
    if (served.servesAny) (DEFAULT_MODELS[platform] ?? []).forEach((m) => ids.add(m));
    return [...ids]
      .filter((model) => checkAccess(policy, { platform, model, userAgent }) === null)
      .sort();
  }

  /** Every model a key may use, on every platform it may use. */
  modelIds(policy: ApiKeyPolicy, userAgent?: string): string[] {
    return this.entries(policy, userAgent).map((e) => e.id);
  }

  /** The Anthropic `GET /v1/models` shape (Claude models). */
  anthropicModels(
    policy: ApiKeyPolicy,
    userAgent?: string,
  ): {
    data: { type: 'model'; id: string; display_name: string; created_at: string }[];
    has_more: boolean;
    first_id: string | null;
    last_id: string | null;
  } {
    const ids = this.platformModelIds(policy, 'claude', userAgent);
    return {
      data: ids.map((id) => ({ type: 'model', id, display_name: id, created_at: LISTED_AT })),
      has_more: false,
      first_id: ids[0] ?? null,
      last_id: ids[ids.length - 1] ?? null,
    };
  }

  /** The OpenAI `GET /v1/models` shape: every model the key may use, whoever serves it. */
  openAIModels(
    policy: ApiKeyPolicy,
    userAgent?: string,
  ): {
    object: 'list';
    data: { id: string; object: 'model'; created: number; owned_by: string }[];
  } {
    const created = Math.floor(Date.parse(LISTED_AT) / 1000);
    return {
      object: 'list',
      data: this.entries(policy, userAgent).map(({ id, platform }) => ({
        id,
        object: 'model',
        created,
        owned_by: OWNER[platform],
      })),
    };
  }

  /**
   * The Gemini `GET /v1beta/models` shape: the Gemini models this key may use, named
   * `models/<id>`, each with the methods Switchyard relays (`@google/genai`'s `models.list` and
   * Gemini CLI read `name` and `supportedGenerationMethods`).
   */
  geminiModels(policy: ApiKeyPolicy, userAgent?: string): { models: GeminiModelEntry[] } {
    return {
      models: this.platformModelIds(policy, 'gemini', userAgent).map((id) => ({
        name: `models/${id}`,
        baseModelId: id,
        version: '001',
        displayName: id,
        description: `${id}, served by Switchyard`,
        supportedGenerationMethods: ['generateContent', 'streamGenerateContent', 'countTokens'],
      })),
    };
  }

  private entries(policy: ApiKeyPolicy, userAgent?: string): { id: string; platform: Platform }[] {
    const seen = new Map<string, Platform>();
    for (const platform of policy.permissions) {
      for (const id of this.platformModelIds(policy, platform, userAgent))
        if (!seen.has(id)) seen.set(id, platform);
    }
    return [...seen.entries()]
      .map(([id, platform]) => ({ id, platform }))
      .sort((a, b) => a.id.localeCompare(b.id));
  }
}
