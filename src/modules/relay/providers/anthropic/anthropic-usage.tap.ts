import { emptyUsage, TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';

/**
 * Watches an Anthropic Messages SSE stream on its way to the client and keeps what billing and
 * failover need: token usage, model, stop reason, and whether the stream finished or failed.
 * It never throws on bad input: a relay must not break a response because accounting choked.
 */

type TrackedEventType = 'message_start' | 'message_delta' | 'message_stop' | 'error';

/** Only these events carry usage or state; the many content deltas are never JSON-parsed. */
const TRACKED_EVENTS: ReadonlySet<string> = new Set<TrackedEventType>([
  'message_start',
  'message_delta',
  'message_stop',
  'error',
]);

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTracked(type: string): type is TrackedEventType {
  return TRACKED_EVENTS.has(type);
}

/** A token count as sent by the API, or undefined when absent, null or not a sane count. */
function tokenCount(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

function stringField(obj: JsonObject, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Applies the cache-write fields of an API `usage` object onto `usage`.
 * With a `cache_creation` breakdown the TTL split is exact; any part of the total the breakdown
 * does not explain is counted as 5m (the API's default TTL). Without a breakdown, a changed total
 * keeps the known 1h part and puts the rest in 5m, so a total alone never invents 1h writes.
 */
function applyCacheCreation(usage: TokenUsage, apiUsage: JsonObject): void {
  const total = tokenCount(apiUsage.cache_creation_input_tokens);
  const breakdown = apiUsage.cache_creation;
  if (isObject(breakdown)) {
    const fiveMin = tokenCount(breakdown.ephemeral_5m_input_tokens);
    const oneHour = tokenCount(breakdown.ephemeral_1h_input_tokens);
    if (fiveMin !== undefined || oneHour !== undefined) {
      usage.cacheCreation5mTokens = fiveMin ?? 0;
      usage.cacheCreation1hTokens = oneHour ?? 0;
      const explained = usage.cacheCreation5mTokens + usage.cacheCreation1hTokens;
      if (total !== undefined && total > explained)
        usage.cacheCreation5mTokens += total - explained;
      return;
    }
  }
  if (total === undefined) return;
  if (total === usage.cacheCreation5mTokens + usage.cacheCreation1hTokens) return;
  usage.cacheCreation1hTokens = Math.min(usage.cacheCreation1hTokens, total);
  usage.cacheCreation5mTokens = total - usage.cacheCreation1hTokens;
}

/** Overwrites the fields present in an API `usage` object; counts are cumulative, never added. */
function applyUsage(usage: TokenUsage, apiUsage: JsonObject): void {
  const input = tokenCount(apiUsage.input_tokens);
  if (input !== undefined) usage.inputTokens = input;
  const output = tokenCount(apiUsage.output_tokens);
  if (output !== undefined) usage.outputTokens = output;
  const read = tokenCount(apiUsage.cache_read_input_tokens);
  if (read !== undefined) usage.cacheReadTokens = read;
  applyCacheCreation(usage, apiUsage);
}

/** Usage of a non-streamed Messages response (a `Message` object); zeros when absent. */
export function usageFromAnthropicMessage(json: unknown): TokenUsage {
  const usage = emptyUsage();
  if (isObject(json) && isObject(json.usage)) applyUsage(usage, json.usage);
  return usage;
}

/**
 * The bytes of an Anthropic-shaped SSE error event, for failing a stream after headers went out.
 * JSON.stringify escapes CR and LF, so the payload always stays on one `data:` line.
 */
export function anthropicErrorEvent(type: string, message: string): Buffer {
  const data = JSON.stringify({ type: 'error', error: { type, message } });
  return Buffer.from(`event: error\ndata: ${data}\n\n`, 'utf8');
}

export class AnthropicUsageTap {
  private readonly parser: SseParser;
  private readonly tokens: TokenUsage = emptyUsage();
  private modelName: string | undefined;
  private stop: string | undefined;
  private started = false;
  private stopped = false;
  private failed = false;
  private failureType: string | undefined;
  private failureMessage: string | undefined;
  private events = 0;
  private malformed = 0;
  private contentDeltas = 0;
  private sawDeltaUsage = false;

  constructor(parser: SseParser = new SseParser()) {
    this.parser = parser;
  }

  /** A copy of the usage seen so far (output is the latest cumulative count). */
  get usage(): TokenUsage {
    return { ...this.tokens };
  }

  /**
   * Usage for billing a stream that ended early: before any `message_delta` reported output, count
   * at least one output token per content delta forwarded (every delta carries one or more), so a
   * client that leaves mid-stream is charged for what it already received.
   */
  get billableUsage(): TokenUsage {
    if (this.sawDeltaUsage) return this.usage;
    return { ...this.tokens, outputTokens: Math.max(this.tokens.outputTokens, this.contentDeltas) };
  }

  get model(): string | undefined {
    return this.modelName;
  }

  get stopReason(): string | undefined {
    return this.stop;
  }

  get sawMessageStart(): boolean {
    return this.started;
  }

  /** False for a truncated stream: the upstream or client went away before `message_stop`. */
  get sawMessageStop(): boolean {
    return this.stopped;
  }

  get sawError(): boolean {
    return this.failed;
  }

  get errorType(): string | undefined {
    return this.failureType;
  }

  get errorMessage(): string | undefined {
    return this.failureMessage;
  }

  /** Every dispatched SSE event, pings and content deltas included. */
  get eventCount(): number {
    return this.events;
  }

  /** Tracked events whose data was not a JSON object. */
  get malformedEvents(): number {
    return this.malformed;
  }

  /** Observes a chunk the relay has forwarded unchanged; never modifies or keeps `chunk`. */
  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.onEvent(event);
  }

  /** Call once when the upstream body ends or is aborted, to flush a last unterminated event. */
  end(): void {
    for (const event of this.parser.end()) this.onEvent(event);
  }

  private onEvent(event: SseEvent): void {
    this.events++;
    if (event.event === 'content_block_delta') {
      this.contentDeltas++;
      return;
    }
    // Anthropic names every event; skip parsing the high-volume ones that carry no usage.
    if (event.event !== undefined && !isTracked(event.event)) return;

    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      this.malformed++;
      return;
    }
    if (!isObject(json)) {
      this.malformed++;
      return;
    }
    const type = stringField(json, 'type') ?? event.event;
    if (type === undefined || !isTracked(type)) return;

    switch (type) {
      case 'message_start':
        this.onMessageStart(json);
        break;
      case 'message_delta':
        this.sawDeltaUsage = true;
        this.onMessageDelta(json);
        break;
      case 'message_stop':
        this.stopped = true;
        break;
      case 'error':
        this.onError(json);
        break;
    }
  }

  private onMessageStart(json: JsonObject): void {
    this.started = true;
    const message = json.message;
    if (!isObject(message)) return;
    this.modelName = stringField(message, 'model') ?? this.modelName;
    if (isObject(message.usage)) applyUsage(this.tokens, message.usage);
  }

  private onMessageDelta(json: JsonObject): void {
    const delta = json.delta;
    if (isObject(delta)) this.stop = stringField(delta, 'stop_reason') ?? this.stop;
    if (isObject(json.usage)) applyUsage(this.tokens, json.usage);
  }

  private onError(json: JsonObject): void {
    this.failed = true;
    const error = json.error;
    if (!isObject(error)) return;
    this.failureType = stringField(error, 'type');
    this.failureMessage = stringField(error, 'message');
  }
}
