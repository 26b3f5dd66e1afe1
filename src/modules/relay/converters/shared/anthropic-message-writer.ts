import type { ConversionInput } from 'src/modules/relay/converters/converter';
import { anthropicErrorType } from 'src/modules/relay/dialects/anthropic/anthropic.dialect';
import { anthropicErrorEvent } from 'src/modules/relay/providers/anthropic/anthropic-usage.tap';

/**
 * Writing Anthropic Messages answers from other APIs' answers, shared by the converters from the
 * Messages API (Gemini, Chat Completions): the message body, the error body and the event
 * stream's framing (message_start, content blocks, errors). What goes in the blocks, the stop
 * reason and the usage is each converter's.
 */

type Json = Record<string, unknown>;

/** What every response of one request shares. */
export interface MessageContext {
  /** `msg_<request id>`. */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Switchyard's request id, for the tool use ids the upstream does not give. */
  requestId: string;
}

/** The context of a request's answers. */
export function messageContext(input: ConversionInput): MessageContext {
  return {
    id: `msg_${input.requestId.replace(/[^A-Za-z0-9_-]/g, '')}`,
    model: input.requestedModel,
    requestId: input.requestId,
  };
}

/** A non-streamed Anthropic message (JSON). */
export function messageBody(
  ctx: MessageContext,
  content: Json[],
  stopReason: string,
  usage: Json,
): Buffer {
  const message = {
    id: ctx.id,
    type: 'message',
    role: 'assistant',
    model: ctx.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
  return Buffer.from(JSON.stringify(message), 'utf8');
}

/** The Anthropic error type for an upstream status (503: the upstream is overloaded, as 529 says). */
export function anthropicTypeOf(status: number): string {
  return status === 503 ? 'overloaded_error' : anthropicErrorType(status);
}

/** Anthropic's error body for an upstream status and a (redacted) message. */
export function anthropicErrorBody(status: number, message: string): Buffer {
  return Buffer.from(
    JSON.stringify({ type: 'error', error: { type: anthropicTypeOf(status), message } }),
    'utf8',
  );
}

/**
 * The events of one Anthropic Messages stream, collected until `flush`: `message_start` once,
 * content blocks, and an `error` event for a stream that fails.
 */
export class AnthropicEventWriter {
  private out: string[] = [];
  private started = false;
  /** The index the next block gets. */
  private blocks = 0;

  constructor(private readonly ctx: MessageContext) {}

  /** Writes `message_start` (with `usage`) unless it went out already. */
  start(usage: () => Json): void {
    if (this.started) return;
    this.started = true;
    this.event('message_start', {
      message: {
        id: this.ctx.id,
        type: 'message',
        role: 'assistant',
        model: this.ctx.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(),
      },
    });
  }

  get hasStarted(): boolean {
    return this.started;
  }

  /** Starts a block and returns its index. */
  startBlock(contentBlock: Json): number {
    const index = this.blocks++;
    this.event('content_block_start', { index, content_block: contentBlock });
    return index;
  }

  /** Starts an empty text or thinking block and returns its index. */
  startTextBlock(kind: 'text' | 'thinking'): number {
    return this.startBlock(
      kind === 'text'
        ? { type: 'text', text: '' }
        : { type: 'thinking', thinking: '', signature: '' },
    );
  }

  delta(index: number, delta: Json): void {
    this.event('content_block_delta', { index, delta });
  }

  stopBlock(index: number): void {
    this.event('content_block_stop', { index });
  }

  /** `message_delta` with the stop reason and the usage, then `message_stop`. */
  finish(stopReason: string, usage: Json): void {
    this.event('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage,
    });
    this.event('message_stop', {});
  }

  /** An `error` event for an upstream status. */
  error(message: string, status: number): void {
    this.out.push(anthropicErrorEvent(anthropicTypeOf(status), message).toString('utf8'));
  }

  /** The events written since the last flush. */
  flush(): Buffer {
    const bytes = Buffer.from(this.out.join(''), 'utf8');
    this.out = [];
    return bytes;
  }

  private event(type: string, payload: Json): void {
    this.out.push(`event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`);
  }
}
