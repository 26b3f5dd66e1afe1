import type { StreamConversion } from 'src/modules/relay/converters/converter';
import { openAIStreamErrorEvent } from 'src/modules/relay/dialects/openai/openai-error';
import { SseEvent, SseParser } from 'src/modules/relay/sse/sse-parser';
import {
  AnthropicUsage,
  ChatResponseContext,
  applyAnthropicUsage,
  chatUsage,
  emptyAnthropicUsage,
  finishReason,
  isObject,
  openAIErrorForAnthropic,
  thinkingBlockOf,
} from './response';

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

type Json = Record<string, unknown>;

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

const DONE = 'data: [DONE]\n\n';

export class ChatCompletionChunkStream implements StreamConversion {
  private readonly parser = new SseParser();
  private readonly usage: AnthropicUsage = emptyAnthropicUsage();
  private readonly blocks = new Map<number, BlockState>();
  private started = false;
  private finished = false;
  private stopped = false;
  private failed = false;
  private toolCalls = 0;

  constructor(private readonly ctx: ChatStreamContext) {}

  push(chunk: Buffer): Buffer {
    const out: string[] = [];
    for (const event of this.parser.push(chunk)) this.onEvent(event, out);
    return Buffer.from(out.join(''), 'utf8');
  }

  end(): Buffer {
    const out: string[] = [];
    for (const event of this.parser.end()) this.onEvent(event, out);
    if (!this.failed) {
      if (this.stopped) out.push(DONE);
      else this.fail(out, 'upstream stream ended before it was complete', 'server_error', null);
    }
    return Buffer.from(out.join(''), 'utf8');
  }

  private onEvent(event: SseEvent, out: string[]): void {
    if (this.failed || this.stopped || event.event === 'ping') return;
    let json: unknown;
    try {
      json = JSON.parse(event.data);
    } catch {
      json = undefined;
    }
    if (!isObject(json)) {
      this.fail(out, 'upstream sent a malformed stream event', 'server_error', null);
      return;
    }
    const type = typeof json.type === 'string' ? json.type : (event.event ?? '');
    switch (type) {
      case 'message_start':
        if (isObject(json.message)) applyAnthropicUsage(this.usage, json.message.usage);
        this.start(out);
        break;
      case 'content_block_start':
        this.start(out);
        this.onBlockStart(json, out);
        break;
      case 'content_block_delta':
        this.start(out);
        this.onBlockDelta(json, out);
        break;
      case 'content_block_stop':
        this.onBlockStop(json, out);
        break;
      case 'message_delta':
        applyAnthropicUsage(this.usage, json.usage);
        if (isObject(json.delta) && typeof json.delta.stop_reason === 'string') {
          this.finish(out, json.delta.stop_reason);
        }
        break;
      case 'message_stop':
        this.finish(out, undefined);
        if (this.ctx.includeUsage) out.push(this.usageChunk());
        this.stopped = true;
        break;
      case 'error': {
        const error = isObject(json.error) ? json.error : {};
        const mapped = openAIErrorForAnthropic(
          typeof error.type === 'string' ? error.type : undefined,
        );
        const message =
          typeof error.message === 'string' ? error.message : 'upstream stream failed';
        this.fail(out, message, mapped.type, mapped.code);
        break;
      }
      default:
        // ping and event types added after this was written carry nothing a chunk can show.
        break;
    }
  }

  private onBlockStart(json: Json, out: string[]): void {
    const index = typeof json.index === 'number' ? json.index : -1;
    const block = isObject(json.content_block) ? json.content_block : {};
    switch (block.type) {
      case 'text':
        this.blocks.set(index, { kind: 'text' });
        if (typeof block.text === 'string' && block.text.length > 0) {
          out.push(this.chunk({ content: block.text }));
        }
        break;
      case 'thinking': {
        const text = typeof block.thinking === 'string' ? block.thinking : '';
        this.blocks.set(index, { kind: 'thinking', parts: [text], signature: '' });
        if (text.length > 0) out.push(this.chunk({ reasoning_content: text }));
        break;
      }
      case 'redacted_thinking':
        this.blocks.set(index, { kind: 'other' });
        out.push(this.chunk({ thinking_blocks: [thinkingBlockOf(block)] }));
        break;
      case 'tool_use':
        if (block.name === this.ctx.jsonTool) {
          this.blocks.set(index, { kind: 'json' });
          break;
        }
        this.blocks.set(index, { kind: 'tool', index: this.toolCalls });
        out.push(
          this.chunk({
            tool_calls: [
              {
                index: this.toolCalls,
                id: block.id,
                type: 'function',
                function: { name: block.name, arguments: '' },
              },
            ],
          }),
        );
        this.toolCalls++;
        break;
      default:
        this.blocks.set(index, { kind: 'other' });
    }
  }

  private onBlockDelta(json: Json, out: string[]): void {
    const state = this.blocks.get(typeof json.index === 'number' ? json.index : -1);
    const delta = isObject(json.delta) ? json.delta : {};
    switch (delta.type) {
      case 'text_delta':
        if (typeof delta.text === 'string' && delta.text.length > 0) {
          out.push(this.chunk({ content: delta.text }));
        }
        break;
      case 'thinking_delta':
        if (typeof delta.thinking === 'string' && delta.thinking.length > 0) {
          if (state?.kind === 'thinking') state.parts.push(delta.thinking);
          out.push(this.chunk({ reasoning_content: delta.thinking }));
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
          out.push(this.chunk({ content: fragment }));
        } else if (state?.kind === 'tool') {
          out.push(
            this.chunk({ tool_calls: [{ index: state.index, function: { arguments: fragment } }] }),
          );
        }
        break;
      }
      default:
        // citations_delta and newer delta types have no Chat Completions field.
        break;
    }
  }

  private onBlockStop(json: Json, out: string[]): void {
    const state = this.blocks.get(typeof json.index === 'number' ? json.index : -1);
    if (state?.kind !== 'thinking') return;
    out.push(
      this.chunk({
        thinking_blocks: [
          { type: 'thinking', thinking: state.parts.join(''), signature: state.signature },
        ],
      }),
    );
  }

  private start(out: string[]): void {
    if (this.started) return;
    this.started = true;
    out.push(this.chunk({ role: 'assistant', content: '' }));
  }

  private finish(out: string[], stopReason: string | undefined): void {
    if (this.finished) return;
    this.start(out);
    this.finished = true;
    out.push(this.chunk({}, finishReason(stopReason, this.toolCalls > 0)));
  }

  private fail(out: string[], message: string, type: string, code: string | null): void {
    this.failed = true;
    out.push(openAIStreamErrorEvent(message, type, code).toString('utf8'));
  }

  private envelope(): Json {
    return {
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
    };
  }

  private chunk(delta: Json, finish: string | null = null): string {
    const chunk: Json = {
      ...this.envelope(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    // OpenAI: with include_usage, every chunk but the last carries usage: null.
    if (this.ctx.includeUsage) chunk.usage = null;
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  private usageChunk(): string {
    const chunk = { ...this.envelope(), choices: [], usage: chatUsage(this.usage) };
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }
}
