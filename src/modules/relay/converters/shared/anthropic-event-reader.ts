import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import { AnthropicUsage, applyAnthropicUsage, emptyAnthropicUsage } from './anthropic-response';
import { Json, isObject } from './openai-params';

/** What a stream converter does with each Anthropic stream event. */
export interface AnthropicStreamHandler {
  messageStart(message: Json): void;
  blockStart(index: number, block: Json): void;
  blockDelta(index: number, delta: Json): void;
  blockStop(index: number): void;
  /** `message_delta`: the stop reason arrives (its usage is already applied). */
  messageDelta(delta: Json): void;
  messageStop(): void;
  /**
   * The stream failed: an Anthropic `error` event (its error type, e.g. `overloaded_error`), or
   * an event that is not JSON (type undefined). Nothing is dispatched after it.
   */
  failed(message: string, anthropicType: string | undefined): void;
}

/**
 * Reads an Anthropic Messages SSE stream from bytes split anywhere (SseParser keeps partial lines
 * and UTF-8 sequences) and dispatches its events to a handler, keeping the usage as the API
 * reports it. `ping` and event types added after this was written are skipped; nothing is
 * dispatched after `message_stop` or a failure.
 */
export class AnthropicEventReader {
  readonly usage: AnthropicUsage = emptyAnthropicUsage();
  private readonly parser = new SseParser();
  private over = false;
  private sawStop = false;

  constructor(private readonly handler: AnthropicStreamHandler) {}

  /** `message_stop` arrived. */
  get stopped(): boolean {
    return this.sawStop;
  }

  push(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) this.dispatch(event);
  }

  /** The bytes ended: dispatches a last event that had no blank line after it. */
  end(): void {
    for (const event of this.parser.end()) this.dispatch(event);
  }

  private dispatch(event: SseEvent): void {
    if (this.over || event.event === 'ping') return;
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      json = undefined;
    }
    if (!isObject(json)) {
      this.over = true;
      this.handler.failed('upstream sent a malformed stream event', undefined);
      return;
    }
    const type = typeof json.type === 'string' ? json.type : (event.event ?? '');
    const index = typeof json.index === 'number' ? json.index : -1;
    switch (type) {
      case 'message_start': {
        const message = isObject(json.message) ? json.message : {};
        applyAnthropicUsage(this.usage, message.usage);
        this.handler.messageStart(message);
        break;
      }
      case 'content_block_start':
        this.handler.blockStart(index, isObject(json.content_block) ? json.content_block : {});
        break;
      case 'content_block_delta':
        this.handler.blockDelta(index, isObject(json.delta) ? json.delta : {});
        break;
      case 'content_block_stop':
        this.handler.blockStop(index);
        break;
      case 'message_delta':
        applyAnthropicUsage(this.usage, json.usage);
        this.handler.messageDelta(isObject(json.delta) ? json.delta : {});
        break;
      case 'message_stop':
        this.over = true;
        this.sawStop = true;
        this.handler.messageStop();
        break;
      case 'error': {
        const error = isObject(json.error) ? json.error : {};
        this.over = true;
        this.handler.failed(
          typeof error.message === 'string' ? error.message : 'upstream stream failed',
          typeof error.type === 'string' ? error.type : undefined,
        );
        break;
      }
      default:
        // ping and event types added after this was written carry nothing to convert.
        break;
    }
  }
}
