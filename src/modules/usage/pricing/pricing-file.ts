import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PriceTable } from './price-table';

/** PRICING_FILE cannot be used; startup stops with this message. */
export class PricingFileError extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`PRICING_FILE ${path}: ${reason}`);
    this.name = 'PricingFileError';
  }
}

/**
 * Reads an operator's LiteLLM price file (`model_prices_and_context_window.json` shape, USD per
 * token). A file that cannot be read, is not JSON, or yields no model price at all (wrong format)
 * is refused: starting with silently wrong prices would bill every request at the default.
 */
export function loadPricingFile(path: string): PriceTable {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new PricingFileError(absolute, `cannot be read (${code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new PricingFileError(
      absolute,
      `is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new PricingFileError(absolute, 'must be a JSON object keyed by model name');
  }
  const table = PriceTable.fromLiteLlm(json);
  if (table.size === 0) {
    throw new PricingFileError(
      absolute,
      'has no model with both input_cost_per_token and output_cost_per_token (LiteLLM format expected)',
    );
  }
  return table;
}
