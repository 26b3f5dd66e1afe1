import { ModelPrice, TokenRates } from './price-table';
import { promptTokens, TokenUsage } from './token-usage';

/**
 * Exact cost arithmetic. Prices are integer pico-dollars per token, so a request's cost is an
 * exact integer sum in pico-dollars (BigInt: 1M tokens x $75/MTok is already 7.5e13 pico$), and
 * rounding happens once, at the end, to integer micro-dollars (1 micro$ = 1e6 pico$).
 */

const PICO_PER_MICRO = 1_000_000n;
/** Multipliers are applied as integers in millionths, so 1.5 is exactly 1_500_000 / 1e6. */
const MULTIPLIER_SCALE = 1_000_000;
const DIVISOR = PICO_PER_MICRO * BigInt(MULTIPLIER_SCALE);

function assertTokens(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

function scaledMultiplier(multiplier: number): bigint {
  if (!Number.isFinite(multiplier) || multiplier < 0) {
    throw new RangeError(`multiplier must be a finite non-negative number, got ${multiplier}`);
  }
  return BigInt(Math.round(multiplier * MULTIPLIER_SCALE));
}

function toSafeNumber(micros: bigint): number {
  const result = Number(micros);
  if (!Number.isSafeInteger(result)) throw new RangeError(`cost ${micros} micro$ is out of range`);
  return result;
}

/**
 * Anthropic's long-context rule: when a request's prompt (input + 5m and 1h cache writes + cache
 * reads) is over the threshold (200k for Sonnet 4 / 4.5 with the 1M window), every token of that
 * request, output included, is billed at the long-context rates; cache multipliers still apply
 * on top, which the tier's own cache rates already encode. At exactly the threshold the base
 * rates apply. Gemini 2.5 Pro's >200k tier follows the same shape.
 */
function ratesFor(price: ModelPrice, prompt: number): TokenRates {
  const tier = price.longContext;
  return tier !== undefined && prompt > tier.thresholdTokens ? tier : price;
}

/** Exact cost of a finished request, in integer micro-dollars rounded half up. */
export function computeCostMicros(usage: TokenUsage, price: ModelPrice, multiplier = 1): number {
  assertTokens('inputTokens', usage.inputTokens);
  assertTokens('outputTokens', usage.outputTokens);
  assertTokens('cacheCreation5mTokens', usage.cacheCreation5mTokens);
  assertTokens('cacheCreation1hTokens', usage.cacheCreation1hTokens);
  assertTokens('cacheReadTokens', usage.cacheReadTokens);
  const rates = ratesFor(price, promptTokens(usage));
  const pico =
    BigInt(usage.inputTokens) * BigInt(rates.input) +
    BigInt(usage.outputTokens) * BigInt(rates.output) +
    BigInt(usage.cacheCreation5mTokens) * BigInt(rates.cacheWrite5m) +
    BigInt(usage.cacheCreation1hTokens) * BigInt(rates.cacheWrite1h) +
    BigInt(usage.cacheReadTokens) * BigInt(rates.cacheRead);
  const scaled = pico * scaledMultiplier(multiplier);
  return toSafeNumber((scaled + DIVISOR / 2n) / DIVISOR);
}

/**
 * The most a prompt token can cost at these rates: uncached input, a cache write of either
 * duration (the 1-hour write is 2x input on Anthropic) or a cache read. Which one applies is only
 * known from the upstream's usage, after the request.
 */
export function worstPromptRate(rates: TokenRates): number {
  return Math.max(rates.input, rates.cacheWrite5m, rates.cacheWrite1h, rates.cacheRead);
}

/**
 * Worst-case cost of a request before it runs, for budget reservations: every prompt token at
 * the highest prompt rate (a 1-hour cache write on Anthropic) plus the full `max_tokens` at the
 * output price, all at the long-context rates when the prompt could be over the threshold,
 * rounded up so a reservation never falls short by rounding.
 */
export function estimateCostMicros(
  input: { inputTokens: number; maxOutputTokens: number },
  price: ModelPrice,
  multiplier = 1,
): number {
  assertTokens('inputTokens', input.inputTokens);
  assertTokens('maxOutputTokens', input.maxOutputTokens);
  const rates = ratesFor(price, input.inputTokens);
  const pico =
    BigInt(input.inputTokens) * BigInt(worstPromptRate(rates)) +
    BigInt(input.maxOutputTokens) * BigInt(rates.output);
  const scaled = pico * scaledMultiplier(multiplier);
  return toSafeNumber((scaled + DIVISOR - 1n) / DIVISOR);
}

/**
 * Prompt tokens guessed from the raw request body size, before any tokenizer runs: one token per
 * 3 bytes, rounded up. Claude averages about 3.5-4 bytes of English per token and the JSON
 * envelope adds bytes that are not tokens, so this over-counts for typical requests; text that
 * packs fewer bytes per token (CJK is ~3 bytes per character) still lands near 1:1. A reservation
 * that is too large is released when the real usage arrives; one that is too small lets a
 * request overspend a budget, so the estimate leans high on purpose.
 */
export function estimateInputTokens(rawBodyByteLength: number): number {
  assertTokens('rawBodyByteLength', rawBodyByteLength);
  return Math.ceil(rawBodyByteLength / 3);
}
