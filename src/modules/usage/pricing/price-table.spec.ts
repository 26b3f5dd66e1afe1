import {
  dollarsPerTokenToPico,
  LOOKUP_MEMO_LIMITS,
  lookupCandidates,
  ModelPrice,
  PriceTable,
} from './price-table';

/** A trimmed LiteLLM file: real key names, a few shapes the loader must handle. */
const liteLlm = {
  sample_spec: {
    input_cost_per_token: 0.0,
    output_cost_per_token: 0.0,
    litellm_provider: 'one of https://docs.litellm.ai/docs/providers',
    mode: 'one of: chat, embedding, ...',
  },
  'claude-sonnet-4-20250514': {
    input_cost_per_token: 3e-6,
    output_cost_per_token: 1.5e-5,
    cache_creation_input_token_cost: 3.75e-6,
    cache_creation_input_token_cost_above_1hr: 6e-6,
    cache_read_input_token_cost: 3e-7,
    input_cost_per_token_above_200k_tokens: 6e-6,
    output_cost_per_token_above_200k_tokens: 2.25e-5,
    cache_creation_input_token_cost_above_200k_tokens: 7.5e-6,
    cache_read_input_token_cost_above_200k_tokens: 6e-7,
    input_cost_per_token_above_200k_tokens_priority: 1e-5,
    litellm_provider: 'anthropic',
    mode: 'chat',
  },
  // Only input/output: cache prices must be derived with Anthropic's multipliers.
  'anthropic.claude-3-5-haiku-20241022-v1:0': {
    input_cost_per_token: 8e-7,
    output_cost_per_token: 4e-6,
    litellm_provider: 'bedrock',
    mode: 'chat',
  },
  'vertex_ai/claude-opus-4-1': {
    input_cost_per_token: 1.5e-5,
    output_cost_per_token: 7.5e-5,
    cache_creation_input_token_cost: 1.875e-5,
    litellm_provider: 'vertex_ai-anthropic_models',
    mode: 'chat',
  },
  'gpt-4o': {
    input_cost_per_token: 2.5e-6,
    output_cost_per_token: 1e-5,
    cache_read_input_token_cost: 1.25e-6,
    litellm_provider: 'openai',
    mode: 'chat',
  },
  'mistral-small': {
    input_cost_per_token: 1e-7,
    output_cost_per_token: 3e-7,
    litellm_provider: 'mistral',
    mode: 'chat',
  },
  'gemini-1.5-pro': {
    input_cost_per_token: 1.25e-6,
    output_cost_per_token: 5e-6,
    input_cost_per_token_above_128k_tokens: 2.5e-6,
    output_cost_per_token_above_128k_tokens: 1e-5,
    litellm_provider: 'vertex_ai-language-models',
    mode: 'chat',
  },
  'dall-e-3': { output_cost_per_image: 0.04, litellm_provider: 'openai', mode: 'image_generation' },
  'text-embedding-no-output': { input_cost_per_token: 2e-8, litellm_provider: 'openai' },
  'negative-price': { input_cost_per_token: -1, output_cost_per_token: 1e-6 },
  _meta: { note: 'ignored' },
  'not-an-object': 42,
};

const MTOK = 1_000_000; // pico$ per token for $1 / MTok

describe('dollarsPerTokenToPico', () => {
  it('should convert exactly when float multiplication would not', () => {
    expect(3e-8 * 1e12).toBe(29999.999999999996); // the float artefact this function avoids
    expect(dollarsPerTokenToPico(3e-8)).toBe(30_000);
    expect(dollarsPerTokenToPico(3e-6)).toBe(3_000_000);
    expect(dollarsPerTokenToPico(3.75e-6)).toBe(3_750_000);
    expect(dollarsPerTokenToPico(1.875e-5)).toBe(18_750_000);
    expect(dollarsPerTokenToPico(5.46875e-7)).toBe(546_875);
    expect(dollarsPerTokenToPico(0.0000225)).toBe(22_500_000);
    expect(dollarsPerTokenToPico(0)).toBe(0);
  });

  it('should round half up when the price has sub-pico digits', () => {
    expect(dollarsPerTokenToPico(1.5e-12)).toBe(2);
    expect(dollarsPerTokenToPico(1.49e-12)).toBe(1);
    expect(dollarsPerTokenToPico(4e-13)).toBe(0);
  });

  it('should reject when the price is negative or not finite', () => {
    expect(dollarsPerTokenToPico(-1e-6)).toBeUndefined();
    expect(dollarsPerTokenToPico(Number.NaN)).toBeUndefined();
    expect(dollarsPerTokenToPico(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe(PriceTable.name, () => {
  const table = PriceTable.fromLiteLlm(liteLlm);

  describe('fromLiteLlm', () => {
    it('should keep only chat-priced model entries when the file has other keys', () => {
      expect(table.modelNames()).toEqual([
        'anthropic.claude-3-5-haiku-20241022-v1:0',
        'claude-sonnet-4-20250514',
        'gemini-1.5-pro',
        'gpt-4o',
        'mistral-small',
        'vertex_ai/claude-opus-4-1',
      ]);
    });

    it('should convert every given price and the 200k tier when all are present', () => {
      expect(table.lookup('claude-sonnet-4-20250514')?.price).toEqual({
        input: 3 * MTOK,
        output: 15 * MTOK,
        cacheWrite5m: 3.75 * MTOK,
        cacheWrite1h: 6 * MTOK,
        cacheRead: 0.3 * MTOK,
        longContext: {
          thresholdTokens: 200_000,
          input: 6 * MTOK,
          output: 22.5 * MTOK,
          cacheWrite5m: 7.5 * MTOK,
          // Not in the file: derived as 2x the long-context input.
          cacheWrite1h: 12 * MTOK,
          cacheRead: 0.6 * MTOK,
        },
      });
    });

    it('should derive cache prices with Anthropic multipliers when a Bedrock Claude entry lacks them', () => {
      expect(table.lookup('anthropic.claude-3-5-haiku-20241022-v1:0')?.price).toEqual({
        input: 800_000,
        output: 4_000_000,
        cacheWrite5m: 1_000_000,
        cacheWrite1h: 1_600_000,
        cacheRead: 80_000,
      });
    });

    it('should derive only the missing cache prices when some are given', () => {
      expect(table.lookup('vertex_ai/claude-opus-4-1')?.price).toEqual({
        input: 15 * MTOK,
        output: 75 * MTOK,
        cacheWrite5m: 18.75 * MTOK,
        cacheWrite1h: 30 * MTOK,
        cacheRead: 1.5 * MTOK,
      });
    });

    it('should charge input price for missing cache prices when the provider is not Anthropic', () => {
      expect(table.lookup('gpt-4o')?.price).toEqual({
        input: 2.5 * MTOK,
        output: 10 * MTOK,
        cacheWrite5m: 2.5 * MTOK,
        cacheWrite1h: 2.5 * MTOK,
        cacheRead: 1.25 * MTOK,
      });
      expect(table.lookup('mistral-small')?.price.cacheRead).toBe(100_000);
    });

    it('should read a tier at another threshold when the keys name one', () => {
      expect(table.lookup('gemini-1.5-pro')?.price.longContext).toEqual({
        thresholdTokens: 128_000,
        input: 2.5 * MTOK,
        output: 10 * MTOK,
        cacheWrite5m: 2.5 * MTOK,
        cacheWrite1h: 2.5 * MTOK,
        cacheRead: 2.5 * MTOK,
      });
    });

    it('should return an empty table when the JSON is not an object', () => {
      expect(PriceTable.fromLiteLlm([1, 2]).size).toBe(0);
      expect(PriceTable.fromLiteLlm(null).size).toBe(0);
    });

    it('should hand out frozen prices when lookup returns them', () => {
      const price = table.lookup('gpt-4o')!.price;
      expect(Object.isFrozen(price)).toBe(true);
    });
  });

  describe('lookup', () => {
    const claude = PriceTable.fromLiteLlm({
      'claude-sonnet-4': { input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5 },
      'claude-sonnet-4-5': { input_cost_per_token: 3e-6, output_cost_per_token: 1.5e-5 },
      'claude-opus-4': { input_cost_per_token: 1.5e-5, output_cost_per_token: 7.5e-5 },
      'claude-opus-4-1': { input_cost_per_token: 1.5e-5, output_cost_per_token: 7.5e-5 },
      'gpt-4o': { input_cost_per_token: 2.5e-6, output_cost_per_token: 1e-5 },
      'gpt-4o-mini': { input_cost_per_token: 1.5e-7, output_cost_per_token: 6e-7 },
    });

    it.each([
      ['claude-sonnet-4', 'claude-sonnet-4'],
      ['Claude-Sonnet-4', 'claude-sonnet-4'],
      ['claude-sonnet-4-20250514', 'claude-sonnet-4'],
      ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
      ['claude-sonnet-4-5-20250929[1m]', 'claude-sonnet-4-5'],
      ['claude-sonnet-4[1m]', 'claude-sonnet-4'],
      ['anthropic/claude-sonnet-4-20250514', 'claude-sonnet-4'],
      ['us.anthropic.claude-sonnet-4-20250514-v1:0', 'claude-sonnet-4'],
      ['bedrock/us.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1'],
      ['anthropic.claude-opus-4-20250514-v1:0', 'claude-opus-4'],
      ['vertex_ai/claude-opus-4-1@20250805', 'claude-opus-4-1'],
      ['claude-opus-4-0', 'claude-opus-4'],
      ['gpt-4o-2024-08-06', 'gpt-4o'],
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
      ['openrouter/openai/gpt-4o', 'gpt-4o'],
    ])('should resolve %s to %s', (model, matched) => {
      expect(claude.lookup(model)?.matchedModel).toBe(matched);
    });

    it('should prefer an exact dated entry when the table has one', () => {
      const dated = claude.merge(
        PriceTable.fromLiteLlm({
          'claude-sonnet-4-20250514': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
        }),
      );
      expect(dated.lookup('claude-sonnet-4-20250514')?.matchedModel).toBe(
        'claude-sonnet-4-20250514',
      );
    });

    it('should return null when the model is unknown', () => {
      expect(claude.lookup('llama-3-70b')).toBeNull();
      expect(claude.lookup('')).toBeNull();
      expect(claude.lookup('claude-3-haiku-20240307')).toBeNull();
    });

    it('should not match a prefix when the next character is not a separator', () => {
      expect(claude.lookup('claude-opus-41')).toBeNull();
      expect(claude.lookup('gpt-4omni')).toBeNull();
    });

    it('should return the same answer when asked again', () => {
      expect(claude.lookup('claude-sonnet-4-20250514')).toBe(
        claude.lookup('claude-sonnet-4-20250514'),
      );
    });
  });

  describe('merge', () => {
    it('should let the other table win when both have a model', () => {
      const a = PriceTable.fromLiteLlm({
        'm-1': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
        'm-2': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
      });
      const b = PriceTable.fromLiteLlm({
        'm-2': { input_cost_per_token: 5e-6, output_cost_per_token: 6e-6 },
      });
      const merged = a.merge(b);
      expect(merged.lookup('m-1')?.price.input).toBe(1_000_000);
      expect(merged.lookup('m-2')?.price.input).toBe(5_000_000);
      expect(a.lookup('m-2')?.price.input).toBe(1_000_000); // tables are immutable
    });
  });

  describe('withOverrides', () => {
    const base = PriceTable.fromLiteLlm({ 'claude-sonnet-4': liteLlm['claude-sonnet-4-20250514'] });

    it('should replace only the given fields when the model exists', () => {
      const table2 = base.withOverrides({ 'claude-sonnet-4': { output: 20 * MTOK } });
      const price = table2.lookup('claude-sonnet-4-20250514')!.price;
      expect(price.output).toBe(20 * MTOK);
      expect(price.input).toBe(3 * MTOK);
      expect(price.longContext?.input).toBe(6 * MTOK);
      expect(base.lookup('claude-sonnet-4')!.price.output).toBe(15 * MTOK);
    });

    it('should drop the long-context tier when the override sets it to undefined', () => {
      const table2 = base.withOverrides({ 'claude-sonnet-4': { longContext: undefined } });
      expect(table2.lookup('claude-sonnet-4')!.price).not.toHaveProperty('longContext');
    });

    it('should add a model with derived cache prices when it is new', () => {
      const table2 = base.withOverrides({
        'claude-custom': { input: 2 * MTOK, output: 8 * MTOK },
        'house-model': { input: 1 * MTOK, output: 2 * MTOK, cacheRead: 100_000 },
      });
      expect(table2.lookup('claude-custom')!.price).toEqual<ModelPrice>({
        input: 2 * MTOK,
        output: 8 * MTOK,
        cacheWrite5m: 2.5 * MTOK,
        cacheWrite1h: 4 * MTOK,
        cacheRead: 200_000,
      });
      expect(table2.lookup('house-model')!.price).toEqual<ModelPrice>({
        input: 1 * MTOK,
        output: 2 * MTOK,
        cacheWrite5m: 1 * MTOK,
        cacheWrite1h: 1 * MTOK,
        cacheRead: 100_000,
      });
    });

    it('should throw when a new model lacks input or output', () => {
      expect(() => base.withOverrides({ 'new-model': { input: 1 } })).toThrow(
        /needs input and output/,
      );
    });

    it('should throw when a figure is not a non-negative integer', () => {
      expect(() => base.withOverrides({ 'claude-sonnet-4': { input: 1.5 } })).toThrow(RangeError);
      expect(() => base.withOverrides({ 'claude-sonnet-4': { cacheRead: -1 } })).toThrow(
        /cacheRead/,
      );
    });
  });

  describe('bundled', () => {
    const bundled = PriceTable.bundled();

    it('should load the shipped table when called', () => {
      expect(bundled.size).toBeGreaterThanOrEqual(20);
      expect(PriceTable.bundled()).toBe(bundled);
    });

    it.each<[string, number, number, number, number, number]>([
      // model, input, output, 5m write, 1h write, cache read ($ / MTok)
      ['claude-opus-4-1-20250805', 15, 75, 18.75, 30, 1.5],
      ['claude-opus-4-20250514', 15, 75, 18.75, 30, 1.5],
      ['claude-opus-4-5-20251101', 5, 25, 6.25, 10, 0.5],
      ['claude-sonnet-4-5-20250929', 3, 15, 3.75, 6, 0.3],
      ['claude-sonnet-4-20250514', 3, 15, 3.75, 6, 0.3],
      ['claude-3-7-sonnet-20250219', 3, 15, 3.75, 6, 0.3],
      ['claude-haiku-4-5-20251001', 1, 5, 1.25, 2, 0.1],
      ['claude-3-5-haiku-20241022', 0.8, 4, 1, 1.6, 0.08],
      ['claude-3-haiku-20240307', 0.25, 1.25, 0.3, 0.5, 0.03],
      ['claude-3-opus-20240229', 15, 75, 18.75, 30, 1.5],
    ])('should price %s as published', (model, input, output, w5, w1, read) => {
      const price = bundled.lookup(model)!.price;
      expect([
        price.input,
        price.output,
        price.cacheWrite5m,
        price.cacheWrite1h,
        price.cacheRead,
      ]).toEqual([input, output, w5, w1, read].map((d) => Math.round(d * MTOK)));
    });

    it('should carry the 200k tier for Sonnet 4 and 4.5 but not for Sonnet 4.6', () => {
      const tier = {
        thresholdTokens: 200_000,
        input: 6 * MTOK,
        output: 22.5 * MTOK,
        cacheWrite5m: 7.5 * MTOK,
        cacheWrite1h: 12 * MTOK,
        cacheRead: 0.6 * MTOK,
      };
      expect(bundled.lookup('claude-sonnet-4-20250514')!.price.longContext).toEqual(tier);
      expect(bundled.lookup('claude-sonnet-4-5-20250929')!.price.longContext).toEqual(tier);
      expect(bundled.lookup('claude-sonnet-4-6')!.price.longContext).toBeUndefined();
    });

    it.each<[string, string, number, number, number]>([
      // model as sent, table key, input, cached input, output ($ / MTok; OpenAI, Standard tier)
      ['gpt-5-2025-08-07', 'gpt-5', 1.25, 0.125, 10],
      ['gpt-5-mini-2025-08-07', 'gpt-5-mini', 0.25, 0.025, 2],
      ['gpt-5-nano-2025-08-07', 'gpt-5-nano', 0.05, 0.005, 0.4],
      ['gpt-5-codex', 'gpt-5-codex', 1.25, 0.125, 10],
      ['gpt-5-pro-2025-10-06', 'gpt-5-pro', 15, 15, 120],
      ['gpt-5.1-2025-11-13', 'gpt-5.1', 1.25, 0.125, 10],
      ['gpt-5.1-chat-latest', 'gpt-5.1', 1.25, 0.125, 10],
      ['gpt-5.1-codex-max', 'gpt-5.1-codex-max', 1.25, 0.125, 10],
      ['gpt-5.1-codex-mini', 'gpt-5.1-codex-mini', 0.25, 0.025, 2],
      ['gpt-5.2-codex', 'gpt-5.2-codex', 1.75, 0.175, 14],
      ['gpt-5.3-codex', 'gpt-5.3-codex', 1.75, 0.175, 14],
      ['gpt-5.4-mini-2026-03-17', 'gpt-5.4-mini', 0.75, 0.075, 4.5],
      ['gpt-5.5', 'gpt-5.5', 5, 0.5, 30],
      ['gpt-4.1-nano-2025-04-14', 'gpt-4.1-nano', 0.1, 0.025, 0.4],
      ['gpt-4o-2024-05-13', 'gpt-4o-2024-05-13', 5, 5, 15],
      ['gpt-4o-2024-11-20', 'gpt-4o', 2.5, 1.25, 10],
      ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini', 0.15, 0.075, 0.6],
      ['o3-2025-04-16', 'o3', 2, 0.5, 8],
      ['o3-mini-2025-01-31', 'o3-mini', 1.1, 0.55, 4.4],
      ['o3-pro-2025-06-10', 'o3-pro', 20, 20, 80],
      ['o4-mini-2025-04-16', 'o4-mini', 1.1, 0.275, 4.4],
      ['codex-mini-latest', 'codex-mini-latest', 1.5, 0.375, 6],
    ])('should price %s as %s with its cached-input rate', (model, key, input, cached, output) => {
      const found = bundled.lookup(model)!;
      expect(found.matchedModel).toBe(key);
      expect([found.price.input, found.price.cacheRead, found.price.output]).toEqual(
        [input, cached, output].map((d) => Math.round(d * MTOK)),
      );
    });

    it('should carry the 272k tier for gpt-5.4 and gpt-5.5 but not for gpt-5', () => {
      expect(bundled.lookup('gpt-5.4')!.price.longContext).toMatchObject({
        thresholdTokens: 272_000,
        input: 5 * MTOK,
        cacheRead: 0.5 * MTOK,
        output: 22.5 * MTOK,
      });
      expect(bundled.lookup('gpt-5.5-2026-04-23')!.price.longContext?.output).toBe(45 * MTOK);
      expect(bundled.lookup('gpt-5')!.price.longContext).toBeUndefined();
    });

    it.each([
      ['gemini-2.5-pro', 'gemini-2.5-pro', 1.25, 0.125, 10],
      ['gemini-2.5-flash', 'gemini-2.5-flash', 0.3, 0.03, 2.5],
      ['gemini-2.5-flash-preview-09-2025', 'gemini-2.5-flash', 0.3, 0.03, 2.5],
      ['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite', 0.1, 0.01, 0.4],
      ['gemini-2.0-flash-001', 'gemini-2.0-flash', 0.1, 0.025, 0.4],
      ['gemini-2.0-flash-lite', 'gemini-2.0-flash-lite', 0.075, 0.075, 0.3],
      ['gemini-3-pro-preview', 'gemini-3-pro-preview', 2, 0.2, 12],
      ['models/gemini-3-flash-preview', 'gemini-3-flash-preview', 0.5, 0.05, 3],
    ])(
      'should price %s as %s with its cached-content rate',
      (model, key, input, cached, output) => {
        const found = bundled.lookup(model)!;
        expect(found.matchedModel).toBe(key);
        expect([found.price.input, found.price.cacheRead, found.price.output]).toEqual(
          [input, cached, output].map((d) => Math.round(d * MTOK)),
        );
      },
    );

    it('should carry the 200k tier for gemini-2.5-pro and gemini-3-pro-preview but not for flash', () => {
      expect(bundled.lookup('gemini-3-pro-preview')!.price.longContext).toMatchObject({
        thresholdTokens: 200_000,
        input: 4 * MTOK,
        cacheRead: 0.4 * MTOK,
        output: 18 * MTOK,
      });
      expect(bundled.lookup('gemini-2.5-pro')!.price.longContext).toMatchObject({
        thresholdTokens: 200_000,
        input: 2.5 * MTOK,
        cacheRead: 0.25 * MTOK,
        output: 15 * MTOK,
      });
      expect(bundled.lookup('gemini-2.5-flash')!.price.longContext).toBeUndefined();
    });

    it('should carry Gemini 2.5 Pro with its 200k tier and OpenAI models when loaded', () => {
      expect(bundled.lookup('gemini-2.5-pro')!.price.longContext?.input).toBe(2.5 * MTOK);
      expect(bundled.lookup('gpt-4o-2024-08-06')!.price.cacheRead).toBe(1.25 * MTOK);
      expect(bundled.lookup('gpt-5')!.price.output).toBe(10 * MTOK);
    });
  });
});

describe('PriceTable lookups of crafted names', () => {
  const table = PriceTable.fromLiteLlm(liteLlm);

  // The regular expressions the normalisation used before; the hand-written steps must agree.
  function referenceCandidates(model: string): string[] {
    const candidates: string[] = [];
    let name = model.trim().toLowerCase();
    const add = (next: string): void => {
      name = next;
      if (name.length > 0 && !candidates.includes(name)) candidates.push(name);
    };
    add(name);
    add(name.replace(/\[[^\]]*\]$/, ''));
    add(name.slice(name.lastIndexOf('/') + 1));
    add(name.replace(/^(?:us|us-gov|eu|apac|ap|au|ca|jp|global)\./, ''));
    add(name.replace(/^anthropic\./, ''));
    add(name.replace(/@[\w.-]*$/, ''));
    add(name.replace(/-v\d+(?::\d+)?$/, ''));
    add(name.replace(/-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$/, ''));
    return candidates;
  }

  it('should normalise names as the regular expressions did when given tricky spellings', () => {
    const names = [
      'claude-sonnet-4[1m]',
      'a[b[c]',
      '[1m]',
      'x]y[z]',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'anthropic.claude-3-5-haiku-20241022-v1:0',
      'vertex_ai/claude-opus-4-1@20250805',
      'claude@a@b.c-d',
      'claude-opus-4-v2',
      'claude-opus-4-v:1',
      'claude-opus-4-v1:',
      'claude-opus-4-1:2',
      'gpt-4o-2024-08-06',
      'gpt-4o-2024-8-06',
      'claude-3-7-sonnet-latest',
      'claude-sonnet-4-20250514',
      '-20250514',
      'openrouter/anthropic/claude-sonnet-4[1m]',
      '  Claude-Sonnet-4-20250514  ',
    ];
    for (const name of names)
      expect([name, lookupCandidates(name)]).toEqual([name, referenceCandidates(name)]);
  });

  it('should resolve a 1 MB crafted name when it would make a regular expression backtrack', () => {
    // `/\[[^\]]*\]$/` rescanned to the end from every `[`: quadratic, minutes for 1 MB.
    for (const crafted of ['['.repeat(1024 * 1024), `claude-sonnet-4${'@'.repeat(1024 * 1024)}!`]) {
      expect(table.lookup(crafted)).toBeNull();
    }
    const prefixed = `${'x'.repeat(1024 * 1024)}/claude-sonnet-4-20250514`;
    expect(table.lookup(prefixed)?.matchedModel).toBe('claude-sonnet-4-20250514');
  });

  it('should keep the lookup memo bounded in entries and characters after 100k distinct names', () => {
    const fresh = PriceTable.fromLiteLlm(liteLlm);
    for (let i = 0; i < 100_000; i++) fresh.lookup(`claude-sonnet-4-${i}-${'z'.repeat(i % 300)}`);
    const { entries, keyChars } = fresh.memoStats();
    expect(entries).toBeLessThanOrEqual(LOOKUP_MEMO_LIMITS.maxEntries);
    expect(keyChars).toBeLessThanOrEqual(LOOKUP_MEMO_LIMITS.maxKeyChars);
    // A long name is resolved but never kept.
    fresh.lookup(`claude-sonnet-4-${'y'.repeat(LOOKUP_MEMO_LIMITS.maxKeyLength)}`);
    expect(fresh.memoStats().keyChars).toBeLessThanOrEqual(LOOKUP_MEMO_LIMITS.maxKeyChars);
    expect(fresh.lookup('claude-sonnet-4-20250514')?.matchedModel).toBe('claude-sonnet-4-20250514');
  });
});
