import { SseParser } from 'src/modules/relay/sse/sse-parser';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { StreamUsageTap } from 'src/modules/relay/providers/shared/stream-usage.tap';
import {
  firstSignificantByte,
  hasObjectValue,
  isJson,
  parseJson,
} from 'src/modules/relay/providers/openai/openai-usage';

type Json = Record<string, unknown>;

/** A token count as sent, or 0 when absent or not a sane count. */
function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/**
 * Gemini's `usageMetadata` → TokenUsage. `promptTokenCount` includes the cached part
 * (`cachedContentTokenCount`), so input = prompt + tool-use prompt − cached and cache reads =
 * cached; `thoughtsTokenCount` is counted apart from `candidatesTokenCount` and billed as output,
 * so output = candidates + thoughts.
 */
export function geminiUsageToTokens(metadata: Json): TokenUsage {
  const usage = emptyUsage();
  const prompt = count(metadata.promptTokenCount) + count(metadata.toolUsePromptTokenCount);
  const cached = Math.min(count(metadata.cachedContentTokenCount), prompt);
  usage.inputTokens = prompt - cached;
  usage.cacheReadTokens = cached;
  usage.outputTokens = count(metadata.candidatesTokenCount) + count(metadata.thoughtsTokenCount);
  return usage;
}

/** Longest array element kept while it is incomplete; larger ones are skipped. */
const MAX_ELEMENT_BYTES = 16 * 1024 * 1024;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Splits Google's streamed JSON array (`[{…}\r\n,\r\n{…}]`, what `streamGenerateContent` sends
 * without `alt=sse`) into its elements as their bytes arrive; chunks may split anywhere, UTF-8
 * sequences included (elements are decoded whole).
 */
class JsonArraySplitter {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private parts: Buffer[] = [];
  private bytes = 0;
  private skipping = false;

  push(chunk: Buffer, onElement: (text: string) => void): void {
    let start = this.depth >= 2 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) this.inString = false;
        continue;
      }
      if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.depth++;
        if (this.depth === 2) start = i;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 1 && start !== -1) {
          this.keep(chunk.subarray(start, i + 1));
          if (!this.skipping) onElement(Buffer.concat(this.parts, this.bytes).toString('utf8'));
          this.parts = [];
          this.bytes = 0;
          this.skipping = false;
          start = -1;
        }
        if (this.depth < 0) this.depth = 0;
      }
    }
    if (this.depth >= 2 && start !== -1) this.keep(Buffer.from(chunk.subarray(start)));
  }

  private keep(part: Buffer): void {
    if (this.skipping) return;
    if (this.bytes + part.length > MAX_ELEMENT_BYTES) {
      this.parts = [];
      this.bytes = 0;
      this.skipping = true;
      return;
    }
    this.parts.push(part);
    this.bytes += part.length;
  }
}

/** Where a body's GenerateContentResponse is. */
export interface GeminiUsageOptions {
  /**
   * Inside Code Assist's envelope (`{"response": {…}, "traceId": …}`, each event of its stream
   * too), as the code-assist provider reads it; else the object itself (the Gemini API).
   */
  inResponse?: boolean;
}

/**
 * Watches a Gemini response on its way to the client: an SSE stream (`data: {…}\r\n\r\n`, with
 * `alt=sse`), Google's streamed JSON array, or a single JSON body, told apart by the first byte.
 * Every chunk may carry `usageMetadata`; the last one carries the totals, so the latest wins.
 * A stream has no end marker: it is complete once a chunk says why it stopped (`finishReason`,
 * or a prompt `blockReason`). Never throws on bad input. The Gemini API's and, with
 * `inResponse`, Code Assist's (one reading of usageMetadata for both Google account types).
 */
export class GeminiUsageTap extends StreamUsageTap {
  private mode: 'unknown' | 'sse' | 'array' | 'object' = 'unknown';
  private readonly sse = new SseParser();
  private readonly array = new JsonArraySplitter();
  private objectParts: Buffer[] = [];

  // The latest usage reported wins; before any, each chunk forwarded counts as one output token.
  constructor(private readonly options: GeminiUsageOptions = {}) {
    super();
  }

  push(chunk: Buffer): void {
    if (this.mode === 'unknown') {
      const first = firstSignificantByte(chunk);
      if (first === -1) return;
      this.mode = first === OPEN_BRACKET ? 'array' : first === OPEN_BRACE ? 'object' : 'sse';
    }
    switch (this.mode) {
      case 'sse':
        for (const event of this.sse.push(chunk)) this.onElement(event.data);
        return;
      case 'array':
        this.array.push(chunk, (text) => this.onElement(text));
        return;
      case 'object':
        this.objectParts.push(Buffer.from(chunk));
        return;
    }
  }

  end(): void {
    if (this.mode === 'sse') for (const event of this.sse.end()) this.onElement(event.data);
    if (this.mode === 'object') {
      this.onElement(Buffer.concat(this.objectParts).toString('utf8'));
      this.objectParts = [];
    }
  }

  private onElement(data: string): void {
    const usage = hasObjectValue(data, 'usageMetadata');
    const error = hasObjectValue(data, 'error');
    if (hasObjectValue(data, 'finishReason', true) || hasObjectValue(data, 'blockReason', true))
      this.done = true;
    if (!usage && !error) {
      this.forwarded++;
      return;
    }
    const json = parseJson(data);
    if (!isJson(json)) return;
    if (isJson(json.error)) {
      // An error carries no content to bill.
      this.failed = true;
      return;
    }
    const response = this.options.inResponse === true ? json.response : json;
    if (isJson(response) && isJson(response.usageMetadata))
      this.reported = geminiUsageToTokens(response.usageMetadata);
    else this.forwarded++;
  }
}

/**
 * The usage of a Gemini body: a generateContent response, a whole stream (SSE or JSON array,
 * possibly cut short), or an error body (none).
 */
export function geminiUsageFromBody(body: Buffer, options: GeminiUsageOptions = {}): TokenUsage {
  const tap = new GeminiUsageTap(options);
  tap.push(body);
  tap.end();
  return tap.usage;
}
