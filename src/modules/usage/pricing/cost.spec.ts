import { computeCostMicros, estimateCostMicros, estimateInputTokens } from './cost';
import { ModelPrice, PriceTable } from './price-table';
import { emptyUsage, TokenUsage } from './token-usage';

const MTOK = 1_000_000; // pico$ per token for $1 / MTok

/** Claude Sonnet 4 as published: $3 in, $15 out, $3.75 5m, $6 1h, $0.30 read; >200k tier. */
const sonnet4: ModelPrice = {
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
    cacheWrite1h: 12 * MTOK,
    cacheRead: 0.6 * MTOK,
  },
};

/** Claude 3 Haiku: $0.25 / MTok input = 0.25 micro$ per token, handy for rounding cases. */
const haiku3: ModelPrice = {
  input: 250_000,
  output: 1_250_000,
  cacheWrite5m: 300_000,
  cacheWrite1h: 500_000,
  cacheRead: 30_000,
};

function usage(partial: Partial<TokenUsage>): TokenUsage {
  return { ...emptyUsage(), ...partial };
}

describe(computeCostMicros.name, () => {
  // 1000 input x $3/M = $0.003; 500 output x $15/M = $0.0075; 2000 5m x $3.75/M = $0.0075;
  // 3000 1h x $6/M = $0.018; 4000 read x $0.30/M = $0.0012. Total $0.0372 = 37_200 micro$.
  const mixed = usage({
    inputTokens: 1000,
    outputTokens: 500,
    cacheCreation5mTokens: 2000,
    cacheCreation1hTokens: 3000,
    cacheReadTokens: 4000,
  });

  it('should price all five token kinds when a request uses them', () => {
    expect(computeCostMicros(mixed, sonnet4)).toBe(37_200);
  });

  it('should apply a decimal multiplier exactly when one is given', () => {
    // $0.0372 x 1.5 = $0.0558.
    expect(computeCostMicros(mixed, sonnet4, 1.5)).toBe(55_800);
    // $0.0372 x 1.1 = $0.04092; 1.1 is not exact in binary but is applied as 1_100_000 / 1e6.
    expect(computeCostMicros(mixed, sonnet4, 1.1)).toBe(40_920);
    expect(computeCostMicros(mixed, sonnet4, 0)).toBe(0);
  });

  it('should bill every token at long-context rates when the prompt exceeds 200k', () => {
    // Prompt = 150k + 30k + 10k + 20k = 210k > 200k. 150k x $6 = $0.90; 1k out x $22.50 =
    // $0.0225; 30k 5m x $7.50 = $0.225; 10k 1h x $12 = $0.12; 20k read x $0.60 = $0.012.
    // Total $1.2795.
    const long = usage({
      inputTokens: 150_000,
      outputTokens: 1000,
      cacheCreation5mTokens: 30_000,
      cacheCreation1hTokens: 10_000,
      cacheReadTokens: 20_000,
    });
    expect(computeCostMicros(long, sonnet4)).toBe(1_279_500);
  });

  it('should keep base rates when the prompt is exactly at the threshold', () => {
    // 100k x $3 + 100k read x $0.30 = $0.30 + $0.03; output 1k x $15 = $0.015.
    const atLimit = usage({ inputTokens: 100_000, cacheReadTokens: 100_000, outputTokens: 1000 });
    expect(computeCostMicros(atLimit, sonnet4)).toBe(345_000);
    // One more prompt token crosses it: 100_001 x $6 + 100k x $0.60 + 1k x $22.50.
    const over = usage({ inputTokens: 100_001, cacheReadTokens: 100_000, outputTokens: 1000 });
    expect(computeCostMicros(over, sonnet4)).toBe(682_506);
  });

  it('should not switch tier on output tokens when only the output is large', () => {
    const bigOutput = usage({ inputTokens: 1000, outputTokens: 300_000 });
    // $0.003 + 300k x $15/M = $4.50.
    expect(computeCostMicros(bigOutput, sonnet4)).toBe(4_503_000);
  });

  it('should round half up to whole micro-dollars when the sum has a fraction', () => {
    expect(computeCostMicros(usage({ inputTokens: 1 }), haiku3)).toBe(0); // 0.25 micro$
    expect(computeCostMicros(usage({ inputTokens: 2 }), haiku3)).toBe(1); // 0.5 micro$
    expect(computeCostMicros(usage({ inputTokens: 3 }), haiku3)).toBe(1); // 0.75 micro$
    expect(computeCostMicros(usage({ inputTokens: 6 }), haiku3)).toBe(2); // 1.5 micro$
  });

  it('should round only once when many small amounts add up', () => {
    // 1 input x 0.25 micro$ + 9 reads x 0.03 = 0.52 -> 1; rounding each kind alone gives 0 + 0.
    expect(computeCostMicros(usage({ inputTokens: 1, cacheReadTokens: 9 }), haiku3)).toBe(1);
  });

  it('should stay exact when the totals are far beyond float precision', () => {
    // 1e9 output tokens at $75/MTok = $75_000 = 75_000_000_000 micro$.
    const opus: ModelPrice = { ...haiku3, output: 75 * MTOK };
    expect(computeCostMicros(usage({ outputTokens: 1_000_000_000 }), opus)).toBe(75_000_000_000);
  });

  it('should throw when a token count is negative or fractional', () => {
    expect(() => computeCostMicros(usage({ inputTokens: -1 }), sonnet4)).toThrow(RangeError);
    expect(() => computeCostMicros(usage({ outputTokens: 1.5 }), sonnet4)).toThrow(RangeError);
  });

  it('should throw when the multiplier is negative or not finite', () => {
    expect(() => computeCostMicros(mixed, sonnet4, -1)).toThrow(RangeError);
    expect(() => computeCostMicros(mixed, sonnet4, Number.NaN)).toThrow(RangeError);
  });
});

describe(`${computeCostMicros.name} with the bundled OpenAI prices`, () => {
  const bundled = PriceTable.bundled();
  const priceOf = (model: string): ModelPrice => bundled.lookup(model)!.price;

  /**
   * OpenAI's usage as TokenUsage (token-usage.ts): `prompt_tokens` includes the cached tokens,
   * which go to cacheReadTokens, the rest to inputTokens; `completion_tokens` already includes
   * the reasoning tokens, which OpenAI bills as output.
   */
  function fromOpenAI(prompt: number, cached: number, completion: number): TokenUsage {
    return usage({
      inputTokens: prompt - cached,
      cacheReadTokens: cached,
      outputTokens: completion,
    });
  }

  it('should bill uncached input, cached input and output at their own gpt-5 rates', () => {
    // 6000 x $1.25 + 4000 x $0.125 + 2000 x $10 (1500 of them reasoning) per MTok
    // = $0.0075 + $0.0005 + $0.02 = $0.028.
    expect(computeCostMicros(fromOpenAI(10_000, 4000, 2000), priceOf('gpt-5'))).toBe(28_000);
  });

  it('should bill gpt-5-nano and codex-mini-latest at their own rates, not gpt-5 by prefix', () => {
    // 9000 x $0.05 + 1000 x $0.005 + 1000 x $0.40 = $0.00045 + $0.000005 + $0.0004.
    expect(
      computeCostMicros(fromOpenAI(10_000, 1000, 1000), priceOf('gpt-5-nano-2025-08-07')),
    ).toBe(855);
    // 8000 x $1.50 + 2000 x $0.375 + 1000 x $6 = $0.012 + $0.00075 + $0.006.
    expect(computeCostMicros(fromOpenAI(10_000, 2000, 1000), priceOf('codex-mini-latest'))).toBe(
      18_750,
    );
  });

  it('should bill every token of a gpt-5.4 request at the long-context rates past 272k', () => {
    // Under: 200k x $2.50 + 50k x $0.25 + 10k x $15 = $0.50 + $0.0125 + $0.15.
    expect(computeCostMicros(fromOpenAI(250_000, 50_000, 10_000), priceOf('gpt-5.4'))).toBe(
      662_500,
    );
    // Over: 200k x $5 + 100k x $0.50 + 10k x $22.50 = $1.00 + $0.05 + $0.225.
    expect(computeCostMicros(fromOpenAI(300_000, 100_000, 10_000), priceOf('gpt-5.4'))).toBe(
      1_275_000,
    );
  });
});

describe(`${computeCostMicros.name} with the bundled Gemini prices`, () => {
  const bundled = PriceTable.bundled();
  const priceOf = (model: string): ModelPrice => bundled.lookup(model)!.price;

  /**
   * Gemini's usageMetadata as TokenUsage (gemini-usage.tap.ts): promptTokenCount includes the
   * cachedContentTokenCount; thoughtsTokenCount is apart from candidatesTokenCount and billed as
   * output, so output = candidates + thoughts.
   */
  function fromGemini(prompt: number, cached: number, candidates: number, thoughts: number) {
    return usage({
      inputTokens: prompt - cached,
      cacheReadTokens: cached,
      outputTokens: candidates + thoughts,
    });
  }

  it('should bill gemini-2.5-flash thoughts at the output rate and cached content at its own', () => {
    // 8000 x $0.30 + 2000 x $0.03 + (500 + 1500) x $2.50 per MTok = $0.0024 + $0.00006 + $0.005.
    expect(
      computeCostMicros(fromGemini(10_000, 2000, 500, 1500), priceOf('gemini-2.5-flash')),
    ).toBe(7460);
  });

  it('should bill every token of a gemini-2.5-pro request at the >200k rates past 200k prompt tokens', () => {
    // At 200k exactly: 150k x $1.25 + 50k x $0.125 + 10k x $10 = $0.1875 + $0.00625 + $0.10.
    expect(
      computeCostMicros(fromGemini(200_000, 50_000, 8000, 2000), priceOf('gemini-2.5-pro')),
    ).toBe(293_750);
    // Over: 200k x $2.50 + 50k x $0.25 + 10k x $15 = $0.50 + $0.0125 + $0.15.
    expect(
      computeCostMicros(fromGemini(250_000, 50_000, 8000, 2000), priceOf('gemini-2.5-pro')),
    ).toBe(662_500);
  });

  it('should bill gemini-3-pro-preview at its own tiers', () => {
    // 1000 x $2 + 100 x $12 = $0.002 + $0.0012; over 200k: 300k x $4 + 1000 x $18.
    expect(computeCostMicros(fromGemini(1000, 0, 100, 0), priceOf('gemini-3-pro-preview'))).toBe(
      3200,
    );
    expect(
      computeCostMicros(fromGemini(300_000, 0, 1000, 0), priceOf('gemini-3-pro-preview')),
    ).toBe(1_218_000);
  });
});

describe(estimateCostMicros.name, () => {
  it('should price the prompt at the 1-hour cache-write rate and max_tokens at output rate when under the threshold', () => {
    // 10k x $6 (1h write, 2x input) = $0.06; 4096 x $15 = $0.06144.
    expect(estimateCostMicros({ inputTokens: 10_000, maxOutputTokens: 4096 }, sonnet4)).toBe(
      121_440,
    );
  });

  it('should cover what the request can actually cost when its prompt goes to any cache', () => {
    // The reservation is made before anyone knows which cache the prompt lands in.
    const reserved = estimateCostMicros({ inputTokens: 10_000, maxOutputTokens: 4096 }, sonnet4);
    for (const prompt of [
      { inputTokens: 10_000 },
      { cacheCreation5mTokens: 10_000 },
      { cacheCreation1hTokens: 10_000 },
      { cacheReadTokens: 10_000 },
      { cacheCreation1hTokens: 5000, cacheCreation5mTokens: 5000 },
    ]) {
      const actual = computeCostMicros(usage({ ...prompt, outputTokens: 4096 }), sonnet4);
      expect(actual).toBeLessThanOrEqual(reserved);
    }
  });

  it('should use the highest long-context rate when the prompt is over the threshold', () => {
    // 250k x $12 (1h write above 200k) = $3.00; 1000 x $22.50 = $0.0225.
    expect(estimateCostMicros({ inputTokens: 250_000, maxOutputTokens: 1000 }, sonnet4)).toBe(
      3_022_500,
    );
  });

  it('should round up when the estimate has a fraction', () => {
    // 0.5 micro$ per token (the 1-hour write).
    expect(estimateCostMicros({ inputTokens: 1, maxOutputTokens: 0 }, haiku3)).toBe(1);
    expect(estimateCostMicros({ inputTokens: 2, maxOutputTokens: 0 }, haiku3)).toBe(1);
    expect(estimateCostMicros({ inputTokens: 3, maxOutputTokens: 0 }, haiku3)).toBe(2);
    expect(estimateCostMicros({ inputTokens: 0, maxOutputTokens: 0 }, haiku3)).toBe(0);
  });

  it('should apply the multiplier when one is given', () => {
    expect(estimateCostMicros({ inputTokens: 10_000, maxOutputTokens: 4096 }, sonnet4, 1.5)).toBe(
      182_160,
    );
  });
});

describe(estimateInputTokens.name, () => {
  it('should allow one token per three bytes rounded up when given a body size', () => {
    expect(estimateInputTokens(0)).toBe(0);
    expect(estimateInputTokens(1)).toBe(1);
    expect(estimateInputTokens(3)).toBe(1);
    expect(estimateInputTokens(4)).toBe(2);
    expect(estimateInputTokens(30_000)).toBe(10_000);
  });

  it('should throw when the size is negative', () => {
    expect(() => estimateInputTokens(-1)).toThrow(RangeError);
  });
});
