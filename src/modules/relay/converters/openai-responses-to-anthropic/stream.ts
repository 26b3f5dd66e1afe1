import type { StreamConversion } from 'src/modules/relay/converters/converter';
import {
  AnthropicEventReader,
  AnthropicStreamHandler,
} from 'src/modules/relay/converters/shared/anthropic-event-reader';
import type { Json } from 'src/modules/relay/converters/shared/openai-params';
import { redactCredentials } from 'src/modules/relay/dialects/openai/openai-error';
import { ResponseBuilder, ResponsesContext, ResponsesEvent } from './response';

/**
 * An Anthropic Messages SSE stream → the OpenAI Responses event stream, as api.openai.com sends
 * it: `event: <type>` and `data: {"type": <type>, …, "sequence_number": n}` for each event, n
 * counting from 0.
 *
 * `response.created` and `response.in_progress` open it; ResponseBuilder turns Claude's blocks
 * into the item events (`response.output_item.added` / `.done`, content parts, text, reasoning
 * summary, function call argument and custom tool input deltas, web search progress); the
 * stream ends with `response.completed`, or `response.incomplete` when Claude stopped at its token
 * limit or refused, carrying the whole Response with its usage.
 *
 * An Anthropic `error` event becomes `response.failed` (the Response with `error.code` and
 * `error.message`: what Codex CLI reads, retrying rate limits and server errors) followed by an
 * `error` event (what the openai SDKs raise as an APIError). Nothing follows them.
 */
export class ResponsesEventStream implements StreamConversion, AnthropicStreamHandler {
  private readonly reader = new AnthropicEventReader(this);
  private readonly builder: ResponseBuilder;
  /** What the events of the current push or end produce. */
  private out: string[] = [];
  private sequence = 0;
  private started = false;
  private stopReason: unknown = null;
  private over = false;

  constructor(ctx: ResponsesContext) {
    this.builder = new ResponseBuilder(ctx, (event) => this.write(event));
  }

  push(chunk: Buffer): Buffer {
    this.reader.push(chunk);
    return this.flush();
  }

  end(): Buffer {
    this.reader.end();
    // The relay calls end() only after message_stop; a stream that ends without one still must
    // not look complete.
    if (!this.over) this.failed('upstream stream ended before it was complete', undefined);
    return this.flush();
  }

  messageStart(): void {
    this.start();
  }

  blockStart(index: number, block: Json): void {
    this.start();
    this.builder.blockStart(index, block);
  }

  blockDelta(index: number, delta: Json): void {
    this.start();
    this.builder.blockDelta(index, delta);
  }

  blockStop(index: number): void {
    this.builder.blockStop(index);
  }

  messageDelta(delta: Json): void {
    if (typeof delta.stop_reason === 'string') this.stopReason = delta.stop_reason;
  }

  messageStop(): void {
    this.start();
    this.over = true;
    const response = this.builder.finish(this.stopReason, this.reader.usage);
    const type = response.status === 'incomplete' ? 'response.incomplete' : 'response.completed';
    this.write({ type, response });
  }

  failed(message: string, anthropicType: string | undefined): void {
    this.start();
    this.over = true;
    const response = this.builder.failed(redactCredentials(message), anthropicType);
    this.write({ type: 'response.failed', response });
    const error = response.error as Json;
    this.write({ type: 'error', code: error.code, message: error.message, param: null });
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    const response = this.builder.started();
    this.write({ type: 'response.created', response });
    this.write({ type: 'response.in_progress', response });
  }

  private write(event: ResponsesEvent): void {
    const data = JSON.stringify({ ...event, sequence_number: this.sequence++ });
    this.out.push(`event: ${event.type}\ndata: ${data}\n\n`);
  }

  private flush(): Buffer {
    const bytes = Buffer.from(this.out.join(''), 'utf8');
    this.out = [];
    return bytes;
  }
}
