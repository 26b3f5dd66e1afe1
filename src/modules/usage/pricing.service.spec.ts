import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { PricingFileError } from './pricing/pricing-file';
import { emptyUsage, type TokenUsage } from './pricing/token-usage';
import type { PriceOverrideRecord, PricingRepository } from './pricing.repository';
import { PricingService } from './pricing.service';
import { UsageException, UsageExceptionCode } from './usage.exception';

const MTOK = 1_000_000; // pico$ per token for $1 / MTok

/** The pricing_overrides table, in memory; shared by the services of one test like a database. */
class FakePricingRepository {
  readonly rows = new Map<string, PriceOverrideRecord>();
  async list(): Promise<PriceOverrideRecord[]> {
    return [...this.rows.values()];
  }
  async upsert(record: PriceOverrideRecord): Promise<void> {
    this.rows.set(record.model, record);
  }
  async delete(model: string): Promise<boolean> {
    return this.rows.delete(model);
  }
}

function usage(partial: Partial<TokenUsage>): TokenUsage {
  return { ...emptyUsage(), ...partial };
}

function tempFile(content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sy-pricing-')), 'prices.json');
  writeFileSync(path, content);
  return path;
}

async function start(
  env: Record<string, string> = {},
  shared?: { repository: FakePricingRepository; store: LocalCoordinatorStore },
) {
  const repository = shared?.repository ?? new FakePricingRepository();
  const store = shared?.store ?? new LocalCoordinatorStore();
  const coordinator = new LocalCoordinator({ instanceId: `i-${Math.random()}`, store });
  const service = new PricingService(
    new ConfigService(loadEnvironment(env)),
    repository as unknown as PricingRepository,
    coordinator,
  );
  await service.onModuleInit();
  return { service, repository, store };
}

/** Lets a published invalidation reach its subscribers and their reload finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe(PricingService.name, () => {
  const services: PricingService[] = [];
  const track = async (...args: Parameters<typeof start>) => {
    const started = await start(...args);
    services.push(started.service);
    return started;
  };

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(services.splice(0).map((s) => s.onApplicationShutdown()));
  });

  describe('price', () => {
    it('should find the bundled price when the model is named with a date suffix', async () => {
      const { service } = await track();
      const result = service.price('claude-sonnet-4-20250514');
      expect(result.known).toBe(true);
      expect(result.matchedModel).toBe('claude-sonnet-4');
      expect(result.price).toMatchObject({ input: 3 * MTOK, output: 15 * MTOK });
    });

    it('should return the UNKNOWN_MODEL_* price with cache at input when the model is in no table', async () => {
      const { service } = await track({
        UNKNOWN_MODEL_INPUT_USD_PER_MTOK: '2.5',
        UNKNOWN_MODEL_OUTPUT_USD_PER_MTOK: '10',
      });
      expect(service.price('acme-llm-9000')).toEqual({
        known: false,
        matchedModel: null,
        price: {
          input: 2.5 * MTOK,
          output: 10 * MTOK,
          cacheWrite5m: 2.5 * MTOK,
          cacheWrite1h: 2.5 * MTOK,
          cacheRead: 2.5 * MTOK,
        },
      });
    });
  });

  describe('cost', () => {
    it('should price every token kind when the usage tap reports them all', async () => {
      const { service } = await track();
      // Sonnet 4: 1000 x $3 + 500 x $15 + 2000 x $3.75 + 3000 x $6 + 4000 x $0.30, per MTok.
      const mixed = usage({
        inputTokens: 1000,
        outputTokens: 500,
        cacheCreation5mTokens: 2000,
        cacheCreation1hTokens: 3000,
        cacheReadTokens: 4000,
      });
      expect(service.cost('claude-sonnet-4', mixed)).toEqual({
        costMicros: 37_200,
        priceKnown: true,
      });
      expect(service.cost('claude-sonnet-4', mixed, 1.5).costMicros).toBe(55_800);
    });

    it('should flag the cost as unpriced when the model is unknown', async () => {
      const { service } = await track();
      // Default $3 / $15: 1M input + 1M output = $18.
      expect(
        service.cost('acme-llm', usage({ inputTokens: 1_000_000, outputTokens: 1_000_000 })),
      ).toEqual({ costMicros: 18_000_000, priceKnown: false });
    });

    it('should not throw when the usage holds negative or fractional counts', async () => {
      const { service } = await track();
      const result = service.cost(
        'claude-sonnet-4',
        usage({ inputTokens: -3, outputTokens: 1000.7, cacheReadTokens: NaN }),
        Number.NaN,
      );
      expect(result).toEqual({ costMicros: 15_000, priceKnown: true });
    });
  });

  describe('estimate', () => {
    it('should reserve prompt bytes / 3 at the 1-hour cache-write rate and all of max_tokens at output', async () => {
      const { service } = await track();
      // 3000 bytes -> 1000 tokens x $6/M (2x input) = 6000 micro$; 1000 output x $15/M = 15000.
      expect(service.estimate('claude-sonnet-4', 3000, 1000)).toBe(21_000);
      expect(service.estimate('claude-sonnet-4', 3000, 1000, 2)).toBe(42_000);
    });

    it('should return a reservation no budget can hold when max_tokens is absurd', async () => {
      const { service } = await track();
      expect(service.estimate('claude-opus-4-1', 10, 1e18)).toBe(Number.MAX_SAFE_INTEGER);
    });
  });

  describe('PRICING_FILE', () => {
    it('should merge the LiteLLM file over the bundled table when it is set', async () => {
      const path = tempFile(
        JSON.stringify({
          'acme-llm': { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6 },
          'gpt-4o': { input_cost_per_token: 5e-6, output_cost_per_token: 2e-5 },
        }),
      );
      const { service } = await track({ PRICING_FILE: path });
      expect(service.describe('acme-llm')).toMatchObject({
        known: true,
        source: 'file',
        price: { input: 1, output: 2 },
      });
      expect(service.describe('gpt-4o')).toMatchObject({ source: 'file', price: { input: 5 } });
      expect(service.describe('claude-sonnet-4').source).toBe('bundled');
      expect(service.list().pricingFile).toBe(path);
    });

    it('should refuse to start with the path and reason when the file is missing', async () => {
      const missing = join(tmpdir(), 'sy-no-such-prices.json');
      await expect(start({ PRICING_FILE: missing })).rejects.toThrow(PricingFileError);
      await expect(start({ PRICING_FILE: missing })).rejects.toThrow(/sy-no-such-prices.*ENOENT/);
    });

    it('should refuse to start when the file is not JSON or holds no price', async () => {
      await expect(start({ PRICING_FILE: tempFile('{ not json') })).rejects.toThrow(
        /not valid JSON/,
      );
      await expect(
        start({ PRICING_FILE: tempFile(JSON.stringify({ 'gpt-x': { price: 1 } })) }),
      ).rejects.toThrow(/LiteLLM format expected/);
    });
  });

  describe('setOverride', () => {
    it('should replace only the given prices when the model is in the table', async () => {
      const { service, repository } = await track();
      const result = await service.setOverride('Claude-Sonnet-4', { output: 20 });
      expect(result).toMatchObject({
        model: 'claude-sonnet-4',
        override: { output: 20 },
        price: { input: 3, output: 20, cacheRead: 0.3 },
      });
      expect(service.price('claude-sonnet-4-20250514').price.output).toBe(20 * MTOK);
      expect(service.describe('claude-sonnet-4').source).toBe('override');
      expect(JSON.parse(repository.rows.get('claude-sonnet-4')!.price)).toEqual({
        output: 20 * MTOK,
      });
    });

    it('should inherit the matched entry when the override names a dated version', async () => {
      const { service } = await track();
      await service.setOverride('claude-sonnet-4-20250514', { input: 2 });
      expect(service.price('claude-sonnet-4-20250514').price).toMatchObject({
        input: 2 * MTOK,
        output: 15 * MTOK,
      });
      expect(service.price('claude-sonnet-4').price.input).toBe(3 * MTOK);
    });

    it('should price a new model when the override gives input and output', async () => {
      const { service } = await track();
      await service.setOverride('acme-llm', { input: 1, output: 4 });
      expect(service.price('acme-llm')).toMatchObject({ known: true, matchedModel: 'acme-llm' });
      expect(service.cost('acme-llm', usage({ outputTokens: 1_000_000 })).costMicros).toBe(
        4_000_000,
      );
    });

    it('should refuse with INVALID_PRICE when a new model lacks input or output', async () => {
      const { service, repository } = await track();
      await expect(service.setOverride('acme-llm', { output: 4 })).rejects.toMatchObject({
        code: UsageExceptionCode.INVALID_PRICE,
        status: 400,
      });
      await expect(service.setOverride('acme-llm', {})).rejects.toBeInstanceOf(UsageException);
      expect(repository.rows.size).toBe(0);
    });

    it('should reach another instance when it shares the database and coordinator', async () => {
      const a = await track();
      const b = await track({}, { repository: a.repository, store: a.store });
      await a.service.setOverride('gpt-4o', { input: 1 });
      await settle();
      expect(b.service.price('gpt-4o').price.input).toBe(1 * MTOK);
      await a.service.deleteOverride('gpt-4o');
      await settle();
      expect(b.service.price('gpt-4o').price.input).toBe(2.5 * MTOK);
    });
  });

  describe('deleteOverride', () => {
    it('should restore the table price when the override is removed', async () => {
      const { service } = await track();
      await service.setOverride('gpt-4o', { output: 1 });
      await service.deleteOverride('gpt-4o');
      expect(service.price('gpt-4o').price.output).toBe(10 * MTOK);
      expect(service.listOverrides().items).toEqual([]);
    });

    it('should answer PRICE_OVERRIDE_NOT_FOUND when the model has no override', async () => {
      const { service } = await track();
      await expect(service.deleteOverride('gpt-4o')).rejects.toMatchObject({
        code: UsageExceptionCode.PRICE_OVERRIDE_NOT_FOUND,
        status: 404,
      });
    });
  });

  describe('reload', () => {
    it('should skip and log a stored override that no longer makes a valid price', async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      const repository = new FakePricingRepository();
      repository.rows.set('acme-llm', { model: 'acme-llm', price: '{"output":1}', updated_at: 1 });
      repository.rows.set('gpt-4o', { model: 'gpt-4o', price: '{"input":1000000}', updated_at: 1 });
      const { service } = await track({}, { repository, store: new LocalCoordinatorStore() });
      expect(service.price('acme-llm').known).toBe(false);
      expect(service.price('gpt-4o').price.input).toBe(1 * MTOK);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ model: 'acme-llm' }),
        expect.any(String),
      );
    });
  });
});
