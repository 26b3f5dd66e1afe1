import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { compareBy, containsText, DEFAULT_PAGE_SIZE, pageOf } from 'src/common/http/list-query.dto';
import type {
  ListPriceOverridesQueryDto,
  ListPricesQueryDto,
  ModelPriceDto,
  PriceEntryDto,
  PriceListDto,
  PriceLookupDto,
  PriceOverrideDto,
  PriceOverrideListDto,
  PriceOverrideRequestDto,
  PriceSource,
} from './dto/pricing.dto';
import { UsageException, UsageExceptionCode } from './usage.exception';
import { computeCostMicros, estimateCostMicros, estimateInputTokens } from './pricing/cost';
import { defaultModelPrice, picoToUsdPerMTok, usdPerMTokToPico } from './pricing/price-units';
import {
  PriceTable,
  type LongContextPrice,
  type ModelPrice,
  type TokenRates,
} from './pricing/price-table';
import { loadPricingFile } from './pricing/pricing-file';
import { PricingRepository, type PriceOverrideRecord } from './pricing.repository';
import type { TokenUsage } from './pricing/token-usage';

/**
 * Coordinator channel on which an instance announces an override change; every instance then
 * reloads the overrides. TODO(coordination): move into coordinationKeys.channels.
 */
export const PRICING_INVALIDATION_CHANNEL = 'ch:pricing-invalidation';

/** Reload even without a message, in case one was missed while Redis was unreachable. */
const SAFETY_NET_RELOAD_MS = 5 * 60_000;

export interface PriceResult {
  price: ModelPrice;
  /** False when the model is in no table and the UNKNOWN_MODEL_* default applies. */
  known: boolean;
  /** The table entry that matched, or null for the default. */
  matchedModel: string | null;
}

export interface CostResult {
  costMicros: number;
  priceKnown: boolean;
}

export interface PriceOverride {
  model: string;
  price: Partial<ModelPrice>;
  updatedAt: number;
}

const PRICE_LIST_DEFAULTS = {
  page: 1,
  pageSize: DEFAULT_PAGE_SIZE,
  sortBy: 'model',
  sortOrder: 'asc',
} as const;

const RATE_KEYS: readonly (keyof TokenRates)[] = [
  'input',
  'output',
  'cacheWrite5m',
  'cacheWrite1h',
  'cacheRead',
];

/**
 * The longest model name the relay should accept (longer ones are refused with a 400 before any
 * lookup). Real names are under 100 characters (`us.anthropic.claude-3-7-sonnet-20250219-v1:0`
 * is 44); every hot-path step on the name is linear, and this keeps even that small.
 */
export const MAX_MODEL_NAME_LENGTH = 256;

/** Table keys are trimmed and lower-cased; overrides are stored under the same spelling. */
export function normalizeModelName(model: string): string {
  return model.trim().toLowerCase();
}

/** A token count the cost formula accepts; the relay's tap must never make billing throw. */
function tokens(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return 0;
  return Math.min(Math.floor(value), Number.MAX_SAFE_INTEGER);
}

function multiplierOrOne(multiplier: number): number {
  return Number.isFinite(multiplier) && multiplier >= 0 ? multiplier : 1;
}

/**
 * Applies one override. A name that is not itself a table key but resolves to one (a dated
 * `claude-sonnet-4-20250514` under `claude-sonnet-4`) inherits that entry's other prices, so an
 * admin can change one figure of a specific version without restating the rest.
 */
function applyOverride(
  table: PriceTable,
  base: PriceTable,
  model: string,
  price: Partial<ModelPrice>,
): PriceTable {
  const inherited = base.lookup(model);
  const full =
    inherited !== null && inherited.matchedModel !== model
      ? { ...inherited.price, ...price }
      : price;
  return table.withOverrides({ [model]: full });
}

/** Stored overrides are JSON; only the price fields are taken from them. */
function parseStoredOverride(text: string): Partial<ModelPrice> {
  const json: unknown = JSON.parse(text);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RangeError('override is not a JSON object');
  }
  const source = json as Record<string, unknown>;
  const price: Partial<ModelPrice> = {};
  for (const key of RATE_KEYS) {
    if (source[key] !== undefined) price[key] = source[key] as number;
  }
  if (source.longContext !== undefined) {
    price.longContext = source.longContext as LongContextPrice;
  }
  return price;
}

function ratesToUsd(rates: TokenRates): ModelPriceDto {
  return {
    input: picoToUsdPerMTok(rates.input),
    output: picoToUsdPerMTok(rates.output),
    cacheWrite5m: picoToUsdPerMTok(rates.cacheWrite5m),
    cacheWrite1h: picoToUsdPerMTok(rates.cacheWrite1h),
    cacheRead: picoToUsdPerMTok(rates.cacheRead),
  };
}

function priceToUsd(price: ModelPrice): ModelPriceDto {
  const dto = ratesToUsd(price);
  if (price.longContext !== undefined) {
    dto.longContext = {
      thresholdTokens: price.longContext.thresholdTokens,
      ...ratesToUsd(price.longContext),
    };
  }
  return dto;
}

function partialToUsd(price: Partial<ModelPrice>): Partial<ModelPriceDto> {
  const dto: Partial<ModelPriceDto> = {};
  for (const key of RATE_KEYS) {
    const value = price[key];
    if (value !== undefined) dto[key] = picoToUsdPerMTok(value);
  }
  if (price.longContext !== undefined) {
    dto.longContext = {
      thresholdTokens: price.longContext.thresholdTokens,
      ...ratesToUsd(price.longContext),
    };
  }
  return dto;
}

function requestToPico(request: PriceOverrideRequestDto): Partial<ModelPrice> {
  const price: Partial<ModelPrice> = {};
  for (const key of RATE_KEYS) {
    const value = request[key];
    if (value !== undefined) price[key] = usdPerMTokToPico(value);
  }
  const tier = request.longContext;
  if (tier !== undefined) {
    price.longContext = {
      thresholdTokens: tier.thresholdTokens,
      input: usdPerMTokToPico(tier.input),
      output: usdPerMTokToPico(tier.output),
      cacheWrite5m: usdPerMTokToPico(tier.cacheWrite5m),
      cacheWrite1h: usdPerMTokToPico(tier.cacheWrite1h),
      cacheRead: usdPerMTokToPico(tier.cacheRead),
    };
  }
  return price;
}

/**
 * Prices and costs. The table is the bundled one, with PRICING_FILE (LiteLLM format) merged over
 * it and the admin overrides from `pricing_overrides` applied on top; models in none of them get
 * the UNKNOWN_MODEL_* price and are flagged as unpriced. Lookups are synchronous and in memory:
 * the overrides are loaded at start and reloaded when any instance changes one.
 */
@Injectable()
export class PricingService implements OnModuleInit, OnApplicationShutdown {
  readonly defaultPrice: ModelPrice;
  readonly pricingFile: string | null;
  /** Bundled table with PRICING_FILE merged: what overrides apply to. */
  private readonly base: PriceTable;
  private readonly fileModels: ReadonlySet<string>;
  private table: PriceTable;
  private overrides: ReadonlyMap<string, PriceOverride> = new Map();
  private reloads: Promise<void> = Promise.resolve();
  private unsubscribe: (() => Promise<void>) | null = null;
  private safetyNet: NodeJS.Timeout | null = null;

  constructor(
    config: ConfigService,
    private readonly repository: PricingRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {
    const env = config.env;
    this.defaultPrice = defaultModelPrice(
      env.UNKNOWN_MODEL_INPUT_USD_PER_MTOK,
      env.UNKNOWN_MODEL_OUTPUT_USD_PER_MTOK,
    );
    this.pricingFile = env.PRICING_FILE ?? null;
    // Read synchronously here so that a bad PRICING_FILE stops startup with its own message.
    const file = this.pricingFile === null ? null : loadPricingFile(this.pricingFile);
    this.fileModels = new Set(file?.modelNames() ?? []);
    this.base = file === null ? PriceTable.bundled() : PriceTable.bundled().merge(file);
    this.table = this.base;
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    try {
      this.unsubscribe = await this.coordinator.subscribe(PRICING_INVALIDATION_CHANNEL, () => {
        void this.reloadQuietly();
      });
    } catch (error) {
      appLogger.warn(
        { err: error },
        'pricing: cannot subscribe to override changes; reloading every 5 minutes only',
      );
    }
    this.safetyNet = setInterval(() => void this.reloadQuietly(), SAFETY_NET_RELOAD_MS);
    this.safetyNet.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.safetyNet !== null) clearInterval(this.safetyNet);
    this.safetyNet = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.().catch(() => undefined);
  }

  // --- hot path: synchronous, no I/O ---

  price(model: string): PriceResult {
    const hit = this.table.lookup(model);
    if (hit === null) return { price: this.defaultPrice, known: false, matchedModel: null };
    return { price: hit.price, known: true, matchedModel: hit.matchedModel };
  }

  /**
   * Cost of a finished request in integer micro-dollars, every token kind priced. Malformed token
   * counts (negative, fractional, NaN) are mended rather than thrown at the relay.
   */
  cost(model: string, usage: TokenUsage, multiplier = 1): CostResult {
    const { price, known } = this.price(model);
    const clean: TokenUsage = {
      inputTokens: tokens(usage.inputTokens),
      outputTokens: tokens(usage.outputTokens),
      cacheCreation5mTokens: tokens(usage.cacheCreation5mTokens),
      cacheCreation1hTokens: tokens(usage.cacheCreation1hTokens),
      cacheReadTokens: tokens(usage.cacheReadTokens),
    };
    try {
      return {
        costMicros: computeCostMicros(clean, price, multiplierOrOne(multiplier)),
        priceKnown: known,
      };
    } catch (error) {
      // Only a cost beyond 2^53 micro-dollars gets here: nonsense counts from upstream.
      appLogger.error({ err: error, model }, 'cost out of range; recorded as 0 and unpriced');
      return { costMicros: 0, priceKnown: false };
    }
  }

  /**
   * Worst-case cost in micro-dollars before a request runs, for budget reservations: prompt
   * tokens guessed from the raw body size, the full max_tokens as output.
   */
  estimate(model: string, rawBodyBytes: number, maxTokens: number, multiplier = 1): number {
    const { price } = this.price(model);
    try {
      return estimateCostMicros(
        {
          inputTokens: estimateInputTokens(tokens(rawBodyBytes)),
          maxOutputTokens: tokens(maxTokens),
        },
        price,
        multiplierOrOne(multiplier),
      );
    } catch {
      // An absurd max_tokens: a reservation no budget can hold is the honest answer.
      return Number.MAX_SAFE_INTEGER;
    }
  }

  // --- admin ---

  describe(model: string): PriceLookupDto {
    const { price, known, matchedModel } = this.price(model);
    return {
      model,
      known,
      matchedModel,
      source: matchedModel === null ? 'default' : this.sourceOf(matchedModel),
      price: priceToUsd(price),
    };
  }

  /** The effective table, filtered, sorted and paged in memory (it is held there already). */
  list(request: Partial<ListPricesQueryDto> = {}): PriceListDto {
    const query = { ...PRICE_LIST_DEFAULTS, ...request };
    const models: PriceEntryDto[] = [];
    for (const name of this.table.modelNames()) {
      const hit = this.table.lookup(name);
      if (hit !== null) {
        models.push({ model: name, source: this.sourceOf(name), price: priceToUsd(hit.price) });
      }
    }
    const byName = (a: PriceEntryDto, b: PriceEntryDto): number =>
      a.model < b.model ? -1 : a.model > b.model ? 1 : 0;
    const value = (entry: PriceEntryDto): string | number =>
      query.sortBy === 'model' ? entry.model : entry.price[query.sortBy];
    const matching = models
      .filter(
        (entry) =>
          (query.source === undefined || entry.source === query.source) &&
          containsText(query.search, entry.model),
      )
      .sort(compareBy(value, query.sortOrder, byName));
    return {
      pricingFile: this.pricingFile,
      defaultPrice: priceToUsd(this.defaultPrice),
      ...pageOf(matching, query),
    };
  }

  listOverrides(request: Partial<ListPriceOverridesQueryDto> = {}): PriceOverrideListDto {
    const query = { ...PRICE_LIST_DEFAULTS, ...request };
    const byName = (a: PriceOverride, b: PriceOverride): number =>
      a.model < b.model ? -1 : a.model > b.model ? 1 : 0;
    const matching = [...this.overrides.values()]
      .filter((o) => containsText(query.search, o.model))
      .sort(
        compareBy(
          (o) => (query.sortBy === 'updatedAt' ? Number(o.updatedAt) : o.model),
          query.sortOrder,
          byName,
        ),
      );
    const page = pageOf(matching, query);
    return { ...page, items: page.items.map((o) => this.overrideToDto(o)) };
  }

  /** The override of one model as the admin API shows it, or null when it has none. */
  findOverride(model: string): PriceOverrideDto | null {
    const override = this.overrides.get(normalizeModelName(model));
    return override === undefined ? null : this.overrideToDto(override);
  }

  /** Sets (replaces) the override of one model; takes effect on every instance. */
  async setOverride(model: string, request: PriceOverrideRequestDto): Promise<PriceOverrideDto> {
    const name = normalizeModelName(model);
    const price = requestToPico(request);
    if (Object.keys(price).length === 0) {
      throw new UsageException(
        UsageExceptionCode.INVALID_PRICE,
        'an override needs at least one price',
      );
    }
    try {
      applyOverride(this.base, this.base, name, price);
    } catch (error) {
      if (error instanceof RangeError) {
        throw new UsageException(UsageExceptionCode.INVALID_PRICE, error.message, { model: name });
      }
      throw error;
    }
    const record: PriceOverrideRecord = {
      model: name,
      price: JSON.stringify(price),
      updated_at: Date.now(),
    };
    await this.repository.upsert(record);
    await this.changed(name);
    return this.overrideToDto(
      this.overrides.get(name) ?? { model: name, price, updatedAt: record.updated_at },
    );
  }

  async deleteOverride(model: string): Promise<void> {
    const name = normalizeModelName(model);
    if (!(await this.repository.delete(name))) {
      throw new UsageException(
        UsageExceptionCode.PRICE_OVERRIDE_NOT_FOUND,
        `no price override for model "${name}"`,
        { model: name },
      );
    }
    await this.changed(name);
  }

  /** Rebuilds the table from the overrides in the database. Reloads run one at a time, in order. */
  reload(): Promise<void> {
    const next = this.reloads.then(() => this.load());
    this.reloads = next.catch(() => undefined);
    return next;
  }

  private async load(): Promise<void> {
    const records = await this.repository.list();
    let table = this.base;
    const overrides = new Map<string, PriceOverride>();
    for (const record of records) {
      try {
        const price = parseStoredOverride(record.price);
        table = applyOverride(table, this.base, record.model, price);
        overrides.set(record.model, { model: record.model, price, updatedAt: record.updated_at });
      } catch (error) {
        // E.g. a partial override of a model that a newer PRICING_FILE no longer lists.
        appLogger.error(
          {
            model: record.model,
            err: { message: error instanceof Error ? error.message : String(error) },
          },
          'pricing override ignored: it does not make a valid price',
        );
      }
    }
    this.table = table;
    this.overrides = overrides;
  }

  private async reloadQuietly(): Promise<void> {
    try {
      await this.reload();
    } catch (error) {
      appLogger.warn(
        { err: error },
        'pricing overrides could not be reloaded; keeping the current ones',
      );
    }
  }

  private async changed(model: string): Promise<void> {
    await this.reload();
    try {
      await this.coordinator.publish(PRICING_INVALIDATION_CHANNEL, model);
    } catch (error) {
      // Stored already; other instances pick it up at their next safety-net reload.
      appLogger.warn(
        { err: error, model },
        'pricing change could not be announced to other instances',
      );
    }
  }

  private sourceOf(tableKey: string): Exclude<PriceSource, 'default'> {
    if (this.overrides.has(tableKey)) return 'override';
    return this.fileModels.has(tableKey) ? 'file' : 'bundled';
  }

  private overrideToDto(override: PriceOverride): PriceOverrideDto {
    const effective = this.table.lookup(override.model);
    return {
      model: override.model,
      override: partialToUsd(override.price),
      price: priceToUsd(effective?.price ?? this.defaultPrice),
      updatedAt: new Date(override.updatedAt).toISOString(),
    };
  }
}
