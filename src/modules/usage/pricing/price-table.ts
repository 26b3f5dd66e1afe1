import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BoundedMemo } from 'src/common/text/bounded-memo';

/**
 * Per-model token prices in pico-dollars per token (1e-12 USD; $3 / MTok = 3_000_000).
 * Integers keep every cost sum exact: no model charges a fraction of a pico-dollar per token.
 */
export interface TokenRates {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
}

/** Rates that replace the base ones for every token of a request whose prompt is over the limit. */
export interface LongContextPrice extends TokenRates {
  /** The tier applies when prompt tokens (input + cache writes + cache reads) exceed this. */
  thresholdTokens: number;
}

export interface ModelPrice extends TokenRates {
  longContext?: LongContextPrice;
}

export interface PriceLookup {
  price: ModelPrice;
  /** The table key that matched, e.g. `claude-sonnet-4` for `claude-sonnet-4-20250514`. */
  matchedModel: string;
}

const RATE_KEYS: readonly (keyof TokenRates)[] = [
  'input',
  'output',
  'cacheWrite5m',
  'cacheWrite1h',
  'cacheRead',
];

const PICO_DIGITS = 12;

/**
 * USD per token -> integer pico-dollars, computed on the number's shortest decimal form so that
 * float artefacts (3e-8 * 1e12 = 29999.999999999996) never leak in; rounds half up.
 * Returns undefined for anything that is not a finite, non-negative price.
 */
export function dollarsPerTokenToPico(dollars: number): number | undefined {
  if (!Number.isFinite(dollars) || dollars < 0) return undefined;
  if (dollars === 0) return 0;
  const [mantissa, exponentText] = dollars.toExponential().split('e');
  const digits = mantissa.replace('.', '');
  // value = digits * 10^(exponent - (digits.length - 1)); pico = value * 10^12.
  const shift = Number(exponentText) - (digits.length - 1) + PICO_DIGITS;
  let pico: bigint;
  if (shift >= 0) {
    pico = BigInt(digits) * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    pico = (BigInt(digits) + divisor / 2n) / divisor;
  }
  const result = Number(pico);
  return Number.isSafeInteger(result) ? result : undefined;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function picoField(entry: JsonObject, key: string): number | undefined {
  const value = entry[key];
  return typeof value === 'number' ? dollarsPerTokenToPico(value) : undefined;
}

/**
 * Claude is sold with fixed cache multipliers wherever it runs (Anthropic, Bedrock, Vertex), so
 * missing cache prices can be derived. LiteLLM spells these providers several ways
 * (`anthropic`, `bedrock`, `bedrock_converse`, `vertex_ai-anthropic_models`), hence the name test.
 */
function isAnthropicPriced(modelKey: string, provider: string | undefined): boolean {
  return (provider?.includes('anthropic') ?? false) || modelKey.toLowerCase().includes('claude');
}

interface PartialRates {
  input: number;
  output: number;
  cacheWrite5m?: number;
  cacheWrite1h?: number;
  cacheRead?: number;
}

/**
 * Fills missing cache prices. Anthropic: 5m write 1.25x, 1h write 2x, read 0.1x input.
 * Others have no published write premium or no guaranteed discount, so input price is charged:
 * over-charging a little is safer than silently under-charging.
 */
function completeRates(rates: PartialRates, anthropic: boolean): TokenRates {
  const { input } = rates;
  return {
    input,
    output: rates.output,
    cacheWrite5m: rates.cacheWrite5m ?? (anthropic ? Math.round((input * 5) / 4) : input),
    cacheWrite1h: rates.cacheWrite1h ?? (anthropic ? input * 2 : input),
    cacheRead: rates.cacheRead ?? (anthropic ? Math.round(input / 10) : input),
  };
}

const TIER_KEY = /^input_cost_per_token_above_(\d+)k_tokens$/;

/** LiteLLM names tiers `..._above_<N>k_tokens`; the smallest N present is used. */
function longContextFromLiteLlm(
  entry: JsonObject,
  base: TokenRates,
  anthropic: boolean,
): LongContextPrice | undefined {
  let thousands: number | undefined;
  for (const key of Object.keys(entry)) {
    const match = TIER_KEY.exec(key);
    if (match === null) continue;
    const n = Number(match[1]);
    if (thousands === undefined || n < thousands) thousands = n;
  }
  if (thousands === undefined) return undefined;
  const suffix = `_above_${thousands}k_tokens`;
  const input = picoField(entry, `input_cost_per_token${suffix}`);
  if (input === undefined) return undefined;
  const rates = completeRates(
    {
      input,
      output: picoField(entry, `output_cost_per_token${suffix}`) ?? base.output,
      cacheWrite5m: picoField(entry, `cache_creation_input_token_cost${suffix}`),
      cacheWrite1h: picoField(entry, `cache_creation_input_token_cost_above_1hr${suffix}`),
      cacheRead: picoField(entry, `cache_read_input_token_cost${suffix}`),
    },
    anthropic,
  );
  return { thresholdTokens: thousands * 1000, ...rates };
}

function priceFromLiteLlm(key: string, entry: JsonObject): ModelPrice | undefined {
  const input = picoField(entry, 'input_cost_per_token');
  const output = picoField(entry, 'output_cost_per_token');
  if (input === undefined || output === undefined) return undefined;
  const provider = typeof entry.litellm_provider === 'string' ? entry.litellm_provider : undefined;
  const anthropic = isAnthropicPriced(key, provider);
  const base = completeRates(
    {
      input,
      output,
      cacheWrite5m: picoField(entry, 'cache_creation_input_token_cost'),
      cacheWrite1h: picoField(entry, 'cache_creation_input_token_cost_above_1hr'),
      cacheRead: picoField(entry, 'cache_read_input_token_cost'),
    },
    anthropic,
  );
  const longContext = longContextFromLiteLlm(entry, base, anthropic);
  return longContext === undefined ? base : { ...base, longContext };
}

/** Table entries are shared with every caller of lookup(): store frozen copies. */
function frozen(price: ModelPrice): ModelPrice {
  const { longContext, ...rates } = price;
  return Object.freeze(
    longContext === undefined
      ? rates
      : { ...rates, longContext: Object.freeze({ ...longContext }) },
  );
}

function isPicoRate(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function assertValidPrice(model: string, price: ModelPrice): void {
  const bad: string[] = RATE_KEYS.filter((k) => !isPicoRate(price[k]));
  const lc = price.longContext;
  if (lc !== undefined) {
    for (const k of RATE_KEYS) if (!isPicoRate(lc[k])) bad.push(`longContext.${k}`);
    if (!isPicoRate(lc.thresholdTokens)) bad.push('longContext.thresholdTokens');
  }
  if (bad.length > 0) {
    throw new RangeError(
      `Price for "${model}" needs non-negative integer pico-dollars per token: ${bad.join(', ')}`,
    );
  }
}

// Lookup normalisation, applied cumulatively; every intermediate form is tried as an exact key.
// Model names come from clients, so each step is a single pass over the name: no regular
// expression that can rescan the rest of the name from every position (`/\[[^\]]*\]$/` did, and
// a 64 KB name of `[` took seconds).
const BEDROCK_REGION = /^(?:us|us-gov|eu|apac|ap|au|ca|jp|global)\./; // us.anthropic.claude-...
const VENDOR_PREFIX = 'anthropic.'; // anthropic.claude-... (Bedrock)

const isDigit = (code: number): boolean => code >= 0x30 && code <= 0x39;

/** claude-sonnet-4[1m] -> claude-sonnet-4: a trailing `[...]` without `]` inside. */
function stripBracketSuffix(name: string): string {
  const last = name.length - 1;
  if (last < 1 || name.charCodeAt(last) !== 0x5d) return name; // ']'
  const open = name.indexOf('[', name.lastIndexOf(']', last - 1) + 1);
  return open === -1 || open >= last ? name : name.slice(0, open);
}

/** Whether code is in `[\w.-]`. */
function isVersionChar(code: number): boolean {
  return (
    isDigit(code) ||
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2d // -
  );
}

/** claude-sonnet-4@20250514 -> claude-sonnet-4 (Vertex): `@` then `[\w.-]*` to the end. */
function stripVertexVersion(name: string): string {
  let start = name.length;
  while (start > 0 && isVersionChar(name.charCodeAt(start - 1))) start -= 1;
  return start > 0 && name.charCodeAt(start - 1) === 0x40 ? name.slice(0, start - 1) : name;
}

/** Start of the run of digits ending just before `end` (end itself when there is none). */
function digitsBefore(name: string, end: number): number {
  let start = end;
  while (start > 0 && isDigit(name.charCodeAt(start - 1))) start -= 1;
  return start;
}

/** ...-v1:0 (Bedrock), -v2 (Vertex): `-v<digits>` with an optional `:<digits>`, at the end. */
function stripBedrockVersion(name: string): string {
  let start = digitsBefore(name, name.length);
  if (start === name.length) return name;
  if (start > 0 && name.charCodeAt(start - 1) === 0x3a) {
    // ':'
    const major = digitsBefore(name, start - 1);
    if (major === start - 1) return name;
    start = major;
  }
  return start >= 2 && name.charCodeAt(start - 1) === 0x76 && name.charCodeAt(start - 2) === 0x2d
    ? name.slice(0, start - 2)
    : name;
}

function allDigits(name: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (!isDigit(name.charCodeAt(i))) return false;
  return true;
}

/** -20250514, -2024-08-06, -latest at the end. */
function stripDateSuffix(name: string): string {
  const n = name.length;
  if (name.endsWith('-latest')) return name.slice(0, n - 7);
  if (n >= 9 && name.charCodeAt(n - 9) === 0x2d && allDigits(name, n - 8, n)) {
    return name.slice(0, n - 9);
  }
  if (
    n >= 11 &&
    name.charCodeAt(n - 11) === 0x2d &&
    allDigits(name, n - 10, n - 6) &&
    name.charCodeAt(n - 6) === 0x2d &&
    allDigits(name, n - 5, n - 3) &&
    name.charCodeAt(n - 3) === 0x2d &&
    allDigits(name, n - 2, n)
  ) {
    return name.slice(0, n - 11);
  }
  return name;
}

/** The names tried for a model, most specific first (exported for its linear-time tests). */
export function lookupCandidates(model: string): string[] {
  const candidates: string[] = [];
  let name = model.trim().toLowerCase();
  const add = (next: string): void => {
    name = next;
    if (name.length > 0 && !candidates.includes(name)) candidates.push(name);
  };
  add(name);
  add(stripBracketSuffix(name));
  add(name.slice(name.lastIndexOf('/') + 1)); // anthropic/..., bedrock/..., openrouter/x/...
  add(name.replace(BEDROCK_REGION, '')); // anchored, at most 8 characters read
  add(name.startsWith(VENDOR_PREFIX) ? name.slice(VENDOR_PREFIX.length) : name);
  add(stripVertexVersion(name));
  add(stripBedrockVersion(name));
  add(stripDateSuffix(name));
  return candidates;
}

/**
 * Lookups come from client-chosen model names: the memo is bounded by entries and by the
 * characters its keys hold, and a name longer than any real one is resolved without being kept.
 */
export const LOOKUP_MEMO_LIMITS = {
  maxEntries: 1024,
  maxKeyLength: 256,
  maxKeyChars: 64 * 1024,
} as const;

/** An immutable price table; `merge` and `withOverrides` return new tables. */
export class PriceTable {
  private static bundledTable: PriceTable | undefined;

  private readonly prices: ReadonlyMap<string, ModelPrice>;
  private readonly memo = new BoundedMemo<PriceLookup | null>(LOOKUP_MEMO_LIMITS);

  private constructor(prices: ReadonlyMap<string, ModelPrice>) {
    this.prices = prices;
  }

  static empty(): PriceTable {
    return new PriceTable(new Map());
  }

  /**
   * Reads LiteLLM's `model_prices_and_context_window.json` shape (USD per token). Keys that are
   * not model objects (`sample_spec`, `_meta`, ...) and entries without both input and output
   * prices (images, audio, rerank) are skipped.
   */
  static fromLiteLlm(json: unknown): PriceTable {
    const prices = new Map<string, ModelPrice>();
    if (!isObject(json)) return new PriceTable(prices);
    for (const [key, entry] of Object.entries(json)) {
      if (key.startsWith('_') || key === 'sample_spec' || !isObject(entry)) continue;
      const price = priceFromLiteLlm(key, entry);
      const name = key.trim().toLowerCase();
      // LiteLLM has a few keys that differ only by case; the first one wins.
      if (price !== undefined && !prices.has(name)) prices.set(name, frozen(price));
    }
    return new PriceTable(prices);
  }

  /**
   * The table shipped with Switchyard (`bundled-prices.json` next to this file). The build must
   * copy it into dist: nest-cli.json asset `modules/usage/pricing/*.json`. It is not named
   * `price-table.json` because jest resolves `./price-table` to a `.json` before a `.ts` file.
   */
  static bundled(): PriceTable {
    if (PriceTable.bundledTable === undefined) {
      const text = readFileSync(join(__dirname, 'bundled-prices.json'), 'utf8');
      const json: unknown = JSON.parse(text);
      PriceTable.bundledTable = PriceTable.fromLiteLlm(json);
    }
    return PriceTable.bundledTable;
  }

  get size(): number {
    return this.prices.size;
  }

  modelNames(): string[] {
    return [...this.prices.keys()].sort();
  }

  /** Entries of `other` replace same-named entries of this table. */
  merge(other: PriceTable): PriceTable {
    return new PriceTable(new Map([...this.prices, ...other.prices]));
  }

  /**
   * Operator overrides in pico-dollars per token. For a known model the given fields replace its
   * own (`longContext` as a whole); a new model needs at least `input` and `output`, and gets
   * cache prices derived as in `fromLiteLlm`. Throws RangeError on any invalid figure.
   */
  withOverrides(overrides: Record<string, Partial<ModelPrice>>): PriceTable {
    const prices = new Map(this.prices);
    for (const [model, override] of Object.entries(overrides)) {
      const name = model.trim().toLowerCase();
      const existing = prices.get(name);
      let price: ModelPrice;
      if (existing !== undefined) {
        price = { ...existing, ...override };
      } else {
        const { input, output } = override;
        if (input === undefined || output === undefined) {
          throw new RangeError(`Price override for new model "${model}" needs input and output`);
        }
        const rates = completeRates(
          { ...override, input, output },
          isAnthropicPriced(name, undefined),
        );
        price =
          override.longContext === undefined
            ? rates
            : { ...rates, longContext: override.longContext };
      }
      assertValidPrice(model, price);
      prices.set(name, frozen(price));
    }
    return new PriceTable(prices);
  }

  /**
   * Finds the price for a model name as clients and upstreams spell it: the exact name, then with
   * `[1m]`-style, provider (`anthropic/`, `us.anthropic.`), `@version`, `-v1:0` and date suffixes
   * removed, then the longest table key that is a `-`-separated prefix of the stripped name.
   * Returns null for an unknown model.
   */
  lookup(model: string): PriceLookup | null {
    return this.memo.getOrCompute(model, (name) => this.resolve(name));
  }

  /** Entries and key characters held by the lookup memo (for tests and diagnostics). */
  memoStats(): { entries: number; keyChars: number } {
    return { entries: this.memo.size, keyChars: this.memo.keyChars };
  }

  private resolve(model: string): PriceLookup | null {
    const candidates = lookupCandidates(model);
    for (const name of candidates) {
      const price = this.prices.get(name);
      if (price !== undefined) return Object.freeze({ price, matchedModel: name });
    }
    const stripped = candidates[candidates.length - 1];
    if (stripped === undefined) return null;
    let best: string | undefined;
    for (const key of this.prices.keys()) {
      if (
        key.length < stripped.length &&
        stripped.startsWith(key) &&
        stripped.charCodeAt(key.length) === 0x2d && // '-': claude-opus-4-1-x, not claude-opus-41
        (best === undefined || key.length > best.length)
      ) {
        best = key;
      }
    }
    if (best === undefined) return null;
    const price = this.prices.get(best);
    return price === undefined ? null : Object.freeze({ price, matchedModel: best });
  }
}
