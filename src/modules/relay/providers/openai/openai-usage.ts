import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';

/**
 * OpenAI's token counts → TokenUsage. Both wire formats count the cached part inside the prompt
 * total and the reasoning inside the output total, so: input = prompt − cached, cache reads =
 * cached, output = the output total (reasoning included, billed as output).
 */

type Json = Record<string, unknown>;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A token count as sent by the API, or undefined when absent, null or not a sane count. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function toUsage(
  prompt: number | undefined,
  cached: number | undefined,
  output: number | undefined,
): TokenUsage {
  const usage = emptyUsage();
  const read = Math.min(cached ?? 0, prompt ?? 0);
  usage.inputTokens = (prompt ?? 0) - read;
  usage.cacheReadTokens = read;
  usage.outputTokens = output ?? 0;
  return usage;
}

/** A Chat Completions `usage` object (`prompt_tokens`, `completion_tokens`, details). */
export function chatUsageToTokens(usage: Json): TokenUsage {
  const details = usage.prompt_tokens_details;
  return toUsage(
    tokenCount(usage.prompt_tokens),
    // DeepSeek names its cache hits `prompt_cache_hit_tokens` (inside prompt_tokens too).
    (isJson(details) ? tokenCount(details.cached_tokens) : undefined) ??
      tokenCount(usage.prompt_cache_hit_tokens),
    tokenCount(usage.completion_tokens),
  );
}

/** A Responses `usage` object (`input_tokens`, `output_tokens`, details). */
export function responsesUsageToTokens(usage: Json): TokenUsage {
  const details = usage.input_tokens_details;
  return toUsage(
    tokenCount(usage.input_tokens),
    isJson(details) ? tokenCount(details.cached_tokens) : undefined,
    tokenCount(usage.output_tokens),
  );
}

/** The text (or body) as JSON, or undefined when it is not JSON. */
export function parseJson(text: string | Buffer): unknown {
  try {
    return JSON.parse(typeof text === 'string' ? text : text.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The first byte that is not ASCII whitespace (or a UTF-8 BOM), or -1. */
export function firstSignificantByte(body: Buffer): number {
  let i = 0;
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) i = 3;
  for (; i < body.length; i++) {
    const byte = body[i];
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte;
  }
  return -1;
}

/**
 * Whether `data` holds `"<key>"` followed by a colon and an object (or, with `orString`, a
 * string): a key, not text, because a quote inside a JSON string is always escaped. Lets a tap
 * skip JSON.parse for the many events whose `usage` is null or absent.
 */
export function hasObjectValue(data: string, key: string, orString = false): boolean {
  const needle = `"${key}"`;
  for (let at = data.indexOf(needle); at !== -1; at = data.indexOf(needle, at + needle.length)) {
    let i = at + needle.length;
    while (isSpace(data.charCodeAt(i))) i++;
    if (data.charCodeAt(i) !== 0x3a) continue;
    i++;
    while (isSpace(data.charCodeAt(i))) i++;
    const next = data.charCodeAt(i);
    if (next === 0x7b || (orString && next === 0x22)) return true;
  }
  return false;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}
