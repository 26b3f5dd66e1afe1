import type { UsageTap } from 'src/modules/relay/relay.types';
import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import { emptyUsage, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { firstSignificantByte } from '../openai/openai-usage';

/**
 * What the usage taps that count forwarded pieces share (OpenAI Chat Completions and Responses,
 * Gemini): the usage the stream last reported, else one output token per piece forwarded (a
 * chunk, a delta), so a client that leaves mid-stream is charged for what it received; whether
 * the stream reached its proper end; whether the upstream sent an error. Subclasses read the
 * stream and set these.
 */
export abstract class StreamUsageTap implements UsageTap {
  protected reported: TokenUsage | null = null;
  /** Pieces forwarded that carry output (chunks, deltas). */
  protected forwarded = 0;
  protected done = false;
  protected failed = false;

  get usage(): TokenUsage {
    if (this.reported !== null) return { ...this.reported };
    return { ...emptyUsage(), outputTokens: this.forwarded };
  }

  get complete(): boolean {
    return this.done;
  }

  get sawError(): boolean {
    return this.failed;
  }

  abstract push(chunk: Buffer): void;
  abstract end(): void;
}

/** A StreamUsageTap over an SSE stream: each event is handed to `onEvent` as it completes. */
export abstract class SseUsageTap extends StreamUsageTap {
  private readonly parser = new SseParser();

  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.onEvent(event);
  }

  end(): void {
    for (const event of this.parser.end()) this.onEvent(event);
  }

  protected abstract onEvent(event: SseEvent): void;
}

/**
 * The usage of a body that is either one JSON object (read by `fromObject`) or a whole event
 * stream (an upstream that streamed anyway, or only streams), read with a fresh `tap`.
 */
export function usageOfBodyOrStream(
  body: Buffer,
  fromObject: (body: Buffer) => TokenUsage,
  tap: () => UsageTap,
): TokenUsage {
  if (firstSignificantByte(body) === 0x7b) return fromObject(body);
  const reader = tap();
  reader.push(body);
  reader.end();
  return reader.usage;
}
