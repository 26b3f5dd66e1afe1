import type { ModelPrice } from './price-table';

/**
 * The admin API and the UNKNOWN_MODEL_* variables speak dollars per million tokens, the unit of
 * every provider's pricing page; price tables hold integer pico-dollars per token.
 * $1 / MTok = 1e-6 $/token = 1_000_000 pico$/token.
 */
const PICO_PER_USD_PER_MTOK = 1_000_000;

/** $/MTok -> pico$/token, rounded to a whole pico-dollar (a millionth of a dollar per MTok). */
export function usdPerMTokToPico(usdPerMTok: number): number {
  return Math.round(usdPerMTok * PICO_PER_USD_PER_MTOK);
}

export function picoToUsdPerMTok(pico: number): number {
  return pico / PICO_PER_USD_PER_MTOK;
}

/**
 * The price of a model found in no table. Cache writes and reads are charged as input: nothing
 * is known about such a model's cache premiums or discounts, and input is the neutral choice.
 */
export function defaultModelPrice(inputUsdPerMTok: number, outputUsdPerMTok: number): ModelPrice {
  const input = usdPerMTokToPico(inputUsdPerMTok);
  return Object.freeze({
    input,
    output: usdPerMTokToPico(outputUsdPerMTok),
    cacheWrite5m: input,
    cacheWrite1h: input,
    cacheRead: input,
  });
}
