import type { StreamConversion } from 'src/modules/relay/converters/converter';
import { ChatChunkWriter } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import { responsesEventType } from 'src/modules/relay/providers/openai/openai-responses-stream';
import { isJson } from 'src/modules/relay/providers/openai/openai-usage';
import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import {
  ChatResponseContext,
  chatUsage,
  finishReason,
  messageTexts,
  openAIErrorOf,
  reasoningDetailsOf,
  summaryText,
} from './response';

/**
 * An OpenAI Responses event stream → OpenAI `chat.completion.chunk` SSE, as api.openai.com
 * streams Chat Completions: every chunk a `data: <json>\n\n` line carrying id, object, created
 * and model; a first chunk with the assistant role; content, refusal, reasoning and tool-call
 * deltas; a chunk with the finish reason; with `stream_options.include_usage` a last chunk with
 * `choices: []` and the usage (every other chunk then carries `usage: null`); `data: [DONE]`.
 *
 * - `response.output_text.delta` → `delta.content`; `response.refusal.delta` → `delta.refusal`;
 *   `response.reasoning_summary_text.delta` → `delta.reasoning_content`; a finished reasoning
 *   item → `delta.reasoning_details` (its summary and encrypted content). Texts of separate items
 *   and summary parts are separated by a blank line, as in the non-stream response.
 * - `function_call` items → `delta.tool_calls` with Chat's tool-call index (counting calls
 *   only, in the order they start): the first delta has id, type and name with empty arguments,
 *   then the argument fragments, found by output index, so calls streamed side by side stay
 *   apart. Whatever `…arguments.done` or the finished item holds beyond the fragments is sent
 *   too, as is an item or a whole output that arrives only finished.
 * - `response.failed` and `error` → OpenAI's stream error (a `data:` line with an `error`
 *   object, which the OpenAI SDKs raise); nothing follows it, not even `[DONE]`.
 * - A stream that ends without `response.completed` or `response.incomplete` ends with that
 *   error too, never with `[DONE]`, so a client cannot take a cut-off answer for a complete one.
 */

type Json = Record<string, unknown>;

export interface ChatStreamContext extends ChatResponseContext {
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
}

interface ToolState {
  /** Chat's tool-call index. */
  index: number;
  /** The arguments sent so far. */
  sent: string;
}

interface ItemState {
  type: unknown;
  /** Deltas of its text arrived (the finished item then adds nothing but what they missed). */
  streamed: boolean;
  tool?: ToolState;
}

/** A blank line between the texts of separate items or summary parts. */
class Joiner {
  private emitted = false;
  private pending = false;

  /** A new item or part begins: the next text is preceded by a separator if any came before. */
  split(): void {
    if (this.emitted) this.pending = true;
  }

  /** `text` as sent, with its separator. */
  next(text: string): string {
    const out = this.pending ? `\n\n${text}` : text;
    this.pending = false;
    this.emitted = true;
    return out;
  }
}

export class ChatChunkStream implements StreamConversion {
  private readonly parser = new SseParser();
  private readonly items = new Map<number, ItemState>();
  private readonly indexOfItem = new Map<string, number>();
  private readonly text = new Joiner();
  private readonly refusal = new Joiner();
  private readonly reasoning = new Joiner();
  /** Collects what the events of the current push or end produce. */
  private readonly writer: ChatChunkWriter;
  private done = false;
  private toolCalls = 0;
  private details = 0;

  constructor(private readonly ctx: ChatStreamContext) {
    this.writer = new ChatChunkWriter(ctx);
  }

  push(chunk: Buffer): Buffer {
    for (const event of this.parser.push(chunk)) this.onEvent(event);
    return this.writer.take();
  }

  end(): Buffer {
    for (const event of this.parser.end()) this.onEvent(event);
    if (!this.writer.failed) {
      if (this.done) this.writer.done();
      else this.writer.fail('upstream stream ended before it was complete');
    }
    return this.writer.take();
  }

  private onEvent(event: SseEvent): void {
    if (this.writer.failed || this.done) return;
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      json = undefined;
    }
    if (!isJson(json)) {
      this.writer.fail('upstream sent a malformed stream event', 'server_error', null);
      return;
    }
    const type = typeof json.type === 'string' ? json.type : (responsesEventType(event) ?? '');
    switch (type) {
      case 'response.created':
      case 'response.in_progress':
        this.writer.start();
        break;
      case 'response.output_item.added':
        this.writer.start();
        if (isJson(json.item)) this.onItemAdded(json.item, json.output_index);
        break;
      case 'response.output_text.delta':
        this.onTextDelta(json, 'content');
        break;
      case 'response.refusal.delta':
        this.onTextDelta(json, 'refusal');
        break;
      case 'response.reasoning_summary_part.added':
        this.reasoning.split();
        break;
      case 'response.reasoning_summary_text.delta':
        this.onTextDelta(json, 'reasoning_content');
        break;
      case 'response.function_call_arguments.delta': {
        const tool = this.itemOf(json)?.tool;
        if (tool !== undefined && typeof json.delta === 'string') this.sendArgs(tool, json.delta);
        break;
      }
      case 'response.function_call_arguments.done': {
        const tool = this.itemOf(json)?.tool;
        if (tool !== undefined) this.completeArgs(tool, json.arguments);
        break;
      }
      case 'response.output_item.done':
        this.writer.start();
        if (isJson(json.item)) this.onItemDone(json.item, json.output_index);
        break;
      case 'response.completed':
      case 'response.incomplete':
        this.writer.start();
        this.onTerminal(isJson(json.response) ? json.response : {});
        break;
      case 'response.failed': {
        const response = isJson(json.response) ? json.response : {};
        const error = openAIErrorOf(isJson(response.error) ? response.error : {});
        this.writer.fail(error.message, error.type, error.code);
        break;
      }
      case 'error': {
        // The event's own `type` is "error"; some upstreams nest the error object instead.
        const error = openAIErrorOf(
          isJson(json.error) ? json.error : { code: json.code, message: json.message },
        );
        this.writer.fail(error.message, error.type, error.code);
        break;
      }
      default:
        // Part boundaries, `….done` repeats of the deltas, and event types added after this was
        // written carry nothing a chunk can show.
        break;
    }
  }

  private itemOf(json: Json): ItemState | undefined {
    if (typeof json.output_index === 'number') return this.items.get(json.output_index);
    const index = typeof json.item_id === 'string' ? this.indexOfItem.get(json.item_id) : undefined;
    return index === undefined ? undefined : this.items.get(index);
  }

  private onItemAdded(item: Json, outputIndex: unknown): ItemState {
    const state: ItemState = { type: item.type, streamed: false };
    if (typeof outputIndex === 'number') this.items.set(outputIndex, state);
    if (typeof item.id === 'string' && typeof outputIndex === 'number') {
      this.indexOfItem.set(item.id, outputIndex);
    }
    switch (item.type) {
      case 'message':
        this.text.split();
        this.refusal.split();
        break;
      case 'reasoning':
        this.reasoning.split();
        break;
      case 'function_call': {
        const tool: ToolState = { index: this.toolCalls++, sent: '' };
        state.tool = tool;
        this.writer.delta({
          tool_calls: [
            {
              index: tool.index,
              id: item.call_id,
              type: 'function',
              function: { name: item.name, arguments: '' },
            },
          ],
        });
        this.completeArgs(tool, item.arguments);
        break;
      }
      default:
        break;
    }
    return state;
  }

  private onTextDelta(json: Json, field: 'content' | 'refusal' | 'reasoning_content'): void {
    this.writer.start();
    const state = this.itemOf(json);
    if (state !== undefined) state.streamed = true;
    else if (typeof json.output_index === 'number') {
      // No added event came for it: remember it, so its finished item does not repeat the text.
      const type = field === 'reasoning_content' ? 'reasoning' : 'message';
      this.items.set(json.output_index, { type, streamed: true });
    }
    if (typeof json.delta === 'string') this.sendText(field, json.delta);
  }

  private sendText(field: 'content' | 'refusal' | 'reasoning_content', text: string): void {
    if (text.length === 0) return;
    const joiner =
      field === 'content' ? this.text : field === 'refusal' ? this.refusal : this.reasoning;
    this.writer.delta({ [field]: joiner.next(text) });
  }

  private sendArgs(tool: ToolState, fragment: string): void {
    if (fragment.length === 0) return;
    tool.sent += fragment;
    this.writer.delta({ tool_calls: [{ index: tool.index, function: { arguments: fragment } }] });
  }

  /** Sends what the complete arguments hold beyond the fragments already sent. */
  private completeArgs(tool: ToolState, full: unknown): void {
    if (typeof full !== 'string' || !full.startsWith(tool.sent)) return;
    this.sendArgs(tool, full.slice(tool.sent.length));
  }

  private onItemDone(item: Json, outputIndex: unknown): void {
    const known = typeof outputIndex === 'number' ? this.items.get(outputIndex) : undefined;
    // An item that arrives only finished is announced first, as its added event would have.
    const state = known ?? this.onItemAdded(item, outputIndex);
    switch (item.type) {
      case 'message':
        if (!state.streamed) {
          const { text, refusal } = messageTexts(item);
          this.sendText('content', text);
          this.sendText('refusal', refusal);
        }
        break;
      case 'reasoning': {
        if (!state.streamed) this.sendText('reasoning_content', summaryText(item));
        const entries = reasoningDetailsOf(item, this.details);
        if (entries.length > 0) {
          this.details += entries.length;
          this.writer.delta({ reasoning_details: entries });
        }
        break;
      }
      case 'function_call':
        if (state.tool !== undefined) this.completeArgs(state.tool, item.arguments);
        break;
      default:
        break;
    }
    state.streamed = true;
  }

  private onTerminal(response: Json): void {
    // Items the stream never showed (an upstream that sends only the final response).
    if (Array.isArray(response.output)) {
      response.output.forEach((item: unknown, index) => {
        if (isJson(item) && !this.items.has(index)) this.onItemDone(item, index);
      });
    }
    this.writer.delta({}, finishReason(response, this.toolCalls > 0));
    this.writer.usage(chatUsage(response.usage));
    this.done = true;
  }
}
