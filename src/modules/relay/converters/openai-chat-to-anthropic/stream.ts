import type { StreamConversion } from 'src/modules/relay/converters/converter';
import { ChatChunkWriter } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import {
  AnthropicEventReader,
  AnthropicStreamHandler,
} from 'src/modules/relay/converters/shared/anthropic-event-reader';
import {
  openAIErrorForAnthropic,
  thinkingBlockOf,
} from 'src/modules/relay/converters/shared/anthropic-response';
import type { Json } from 'src/modules/relay/converters/shared/openai-params';
import { ChatResponseContext, chatUsage, finishReason } from './response';

/**
 * An Anthropic Messages SSE stream → OpenAI `chat.completion.chunk` SSE, as api.openai.com
 * streams it: every chunk a `data: <json>\n\n` line carrying id, object, created and model; a
 * first chunk with the assistant role; content, reasoning and tool-call deltas; a chunk with
 * the finish reason; with `stream_options.include_usage` a last chunk with `choices: []` and the
 * usage (every other chunk then carries `usage: null`); `data: [DONE]`.
 *
 * - text deltas → `delta.content`; thinking deltas → `delta.reasoning_content`; a finished
 *   thinking block → `delta.thinking_blocks: [{type, thinking, signature}]` (redacted ones when
 *   they start), so a client can send them back.
 * - tool_use blocks → `delta.tool_calls` with OpenAI's tool-call index (counting tool calls only,
 *   in order): the first delta has id, type and name with empty arguments, then argument
 *   fragments as they arrive. The json_schema tool's fragments are the content instead.
 * - An Anthropic `error` event → OpenAI's stream error (a `data:` line with an `error` object,
 *   which the OpenAI SDKs raise); nothing follows it, not even `[DONE]`.
 * - A stream that ends without `message_stop` ends with that error too, never with `[DONE]`, so
 *   a client cannot take a cut-off answer for a complete one.
 */

export interface ChatStreamContext extends ChatResponseContext {
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
}

type BlockState =
  | { kind: 'text' }
  | { kind: 'thinking'; parts: string[]; signature: string }
  | { kind: 'tool'; index: number }
  | { kind: 'json' }
  | { kind: 'other' };

export class ChatCompletionChunkStream implements StreamConversion, AnthropicStreamHandler {
  private readonly reader = new AnthropicEventReader(this);
  private readonly blocks = new Map<number, BlockState>();
  /** Collects what the events of the current push or end produce. */
  private readonly writer: ChatChunkWriter;
  private finished = false;
  private toolCalls = 0;

  constructor(private readonly ctx: ChatStreamContext) {
    this.writer = new ChatChunkWriter(ctx);
  }

  push(chunk: Buffer): Buffer {
    this.reader.push(chunk);
    return this.writer.take();
  }

  end(): Buffer {
    this.reader.end();
    if (!this.writer.failed) {
      if (this.reader.stopped) this.writer.done();
      else this.writer.fail('upstream stream ended before it was complete');
    }
    return this.writer.take();
  }

  messageStart(): void {
    this.writer.start();
  }

  messageDelta(delta: Json): void {
    if (typeof delta.stop_reason === 'string') this.finish(delta.stop_reason);
  }

  messageStop(): void {
    this.finish(undefined);
    this.writer.usage(chatUsage(this.reader.usage));
  }

  failed(message: string, anthropicType: string | undefined): void {
    const mapped = openAIErrorForAnthropic(anthropicType);
    this.writer.fail(message, mapped.type, mapped.code);
  }

  blockStart(index: number, block: Json): void {
    this.writer.start();
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        if (typeof block.text === 'string' && block.text.length > 0) {
          this.writer.delta({ content: block.text });
        }
        break;
      case 'thinking': {
        const text = typeof block.thinking === 'string' ? block.thinking : '';
        this.blocks.set(index, { kind: 'thinking', parts: [text], signature: '' });
        if (text.length > 0) this.writer.delta({ reasoning_content: text });
        break;
      }
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'other' });
        this.writer.delta({ thinking_blocks: [thinkingBlockOf(block)] });
        break;
      case 'tool_use':
        if (block.name === this.ctx.jsonTool) {
          this.blocks.set(index, { kind: 'json' });
          break;
        }
        this.blocks.set(index, { kind: 'tool', index: this.toolCalls });
        this.writer.delta({
          tool_calls: [
            {
              index: this.toolCalls,
              id: block.id,
              type: 'function',
              function: { name: block.name, arguments: '' },
            },
          ],
        });
        this.toolCalls++;
        break;
      default:
        this.blocks.set(index, { kind: 'other' });
    }
  }

  blockDelta(index: number, delta: Json): void {
    this.writer.start();
    const state = this.blocks.get(index);
    switch (delta.type) {
      case 'text_delta':
        if (typeof delta.text === 'string' && delta.text.length > 0) {
          this.writer.delta({ content: delta.text });
        }
        break;
      case 'thinking_delta':
        if (typeof delta.thinking === 'string' && delta.thinking.length > 0) {
          if (state?.kind === 'thinking') state.parts.push(delta.thinking);
          this.writer.delta({ reasoning_content: delta.thinking });
        }
        break;
      case 'signature_delta':
        if (state?.kind === 'thinking' && typeof delta.signature === 'string') {
          state.signature += delta.signature;
        }
        break;
      case 'input_json_delta': {
        const fragment = delta.partial_json;
        if (typeof fragment !== 'string' || fragment.length === 0) break;
        if (state?.kind === 'json') {
          this.writer.delta({ content: fragment });
        } else if (state?.kind === 'tool') {
          this.writer.delta({
            tool_calls: [{ index: state.index, function: { arguments: fragment } }],
          });
        }
        break;
      }
      default:
        // citations_delta and newer delta types have no Chat Completions field.
        break;
    }
  }

  blockStop(index: number): void {
    const state = this.blocks.get(index);
    if (state?.kind !== 'thinking') return;
    this.writer.delta({
      thinking_blocks: [
        { type: 'thinking', thinking: state.parts.join(''), signature: state.signature },
      ],
    });
  }

  private finish(stopReason: string | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.writer.delta({}, finishReason(stopReason, this.toolCalls > 0));
  }
}
