import type { StreamConversion } from 'src/modules/relay/converters/converter';
import {
  AnthropicEventWriter,
  MessageContext,
} from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { SseParser } from 'src/modules/relay/sse/sse-parser';
import { THINKING_SIGNATURE } from './request';
import { callId, messageUsage, reasoningText, stopReason } from './response';

/**
 * A Chat Completions chunk stream → the Anthropic Messages event stream, as Claude Code and the
 * Anthropic SDKs read it: `message_start`, then per block `content_block_start` / `_delta` /
 * `_stop` — thinking (`thinking_delta`s from the reasoning text, then a `signature_delta` with
 * THINKING_SIGNATURE), text (`text_delta`), tool_use (`input_json_delta`s with the argument
 * fragments as they come) — then `message_delta` with the stop reason and the usage, and
 * `message_stop`. The end is written at `data: [DONE]` (the usage chunk of `include_usage` comes
 * after the finish_reason), or at the stream's end for a server that sends no [DONE] but did
 * finish. Chunks may split anywhere, even inside a UTF-8 character (the SSE parser works on
 * bytes).
 *
 * An `error` object in the stream becomes an Anthropic `error` event; so does a stream that ends
 * without a finish_reason, so a client cannot take a cut-off answer for a complete one.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ToolBlock {
  index: number;
  open: boolean;
}

export class ChatMessageEventStream implements StreamConversion {
  private readonly parser = new SseParser();
  private readonly writer: AnthropicEventWriter;
  private finished = false;
  private failedStream = false;
  /** The open text or thinking block. */
  private open: { kind: 'text' | 'thinking'; index: number } | null = null;
  /** Tool call blocks by the server's tool call index (or id, for servers that give no index). */
  private readonly tools = new Map<string, ToolBlock>();
  private lastToolKey: string | null = null;
  private finishReason: unknown = null;
  private usage: unknown = undefined;

  constructor(private readonly ctx: MessageContext) {
    this.writer = new AnthropicEventWriter(ctx);
  }

  push(chunk: Buffer): Buffer {
    for (const event of this.parser.push(chunk)) this.onData(event.data);
    return this.writer.flush();
  }

  end(): Buffer {
    for (const event of this.parser.end()) this.onData(event.data);
    if (!this.finished && !this.failedStream) {
      if (this.finishReason !== null) this.finish();
      else this.failed('upstream stream ended before it was complete', 500);
    }
    return this.writer.flush();
  }

  private onData(data: string): void {
    if (this.finished || this.failedStream) return;
    if (data.trim() === '[DONE]') {
      if (this.finishReason !== null || this.writer.hasStarted) this.finish();
      else this.failed('upstream stream ended before it was complete', 500);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(json)) return;
    if (json.error !== undefined && json.error !== null) {
      const error = json.error;
      const message =
        isObject(error) && typeof error.message === 'string'
          ? error.message
          : 'the upstream reported an error';
      const code = isObject(error) && typeof error.code === 'number' ? error.code : 500;
      this.failed(message, code);
      return;
    }
    this.start();
    if (isObject(json.usage)) this.usage = json.usage;
    const choice = Array.isArray(json.choices) ? (json.choices as unknown[])[0] : undefined;
    if (!isObject(choice)) return;
    const delta = isObject(choice.delta) ? choice.delta : {};
    const thinking = reasoningText(delta);
    if (thinking.length > 0) {
      const index = this.openBlock('thinking');
      this.writer.delta(index, { type: 'thinking_delta', thinking });
    }
    if (typeof delta.content === 'string' && delta.content.length > 0) {
      const index = this.openBlock('text');
      this.writer.delta(index, { type: 'text_delta', text: delta.content });
    }
    if (Array.isArray(delta.tool_calls)) {
      (delta.tool_calls as unknown[]).forEach((call, position) => {
        if (isObject(call)) this.toolDelta(call, position);
      });
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) {
      this.finishReason = choice.finish_reason;
    }
  }

  private toolDelta(call: Json, position: number): void {
    const fn = isObject(call.function) ? call.function : {};
    const id = typeof call.id === 'string' && call.id.length > 0 ? call.id : null;
    let key: string;
    if (typeof call.index === 'number') key = `i${call.index}`;
    else if (id !== null) key = `id${id}`;
    else key = this.lastToolKey ?? `p${position}`;
    let tool = this.tools.get(key);
    if (tool === undefined) {
      this.closeBlock();
      const index = this.writer.startBlock({
        type: 'tool_use',
        id: callId(id, this.ctx.requestId, this.tools.size),
        name: typeof fn.name === 'string' ? fn.name : '',
        input: {},
      });
      tool = { index, open: true };
      this.tools.set(key, tool);
    }
    this.lastToolKey = key;
    const args = fn.arguments;
    if (typeof args === 'string' && args.length > 0 && tool.open) {
      this.writer.delta(tool.index, { type: 'input_json_delta', partial_json: args });
    }
  }

  private finish(): void {
    this.start();
    this.closeBlock();
    this.closeTools();
    this.finished = true;
    this.writer.finish(
      stopReason(this.finishReason, this.tools.size > 0),
      messageUsage(this.usage),
    );
  }

  private failed(message: string, status: number): void {
    this.failedStream = true;
    this.writer.error(message, status);
  }

  private start(): void {
    this.writer.start(() => messageUsage(undefined));
  }

  /** The index of the open block of `kind`, opening one (and closing others) when needed. */
  private openBlock(kind: 'text' | 'thinking'): number {
    if (this.open !== null && this.open.kind === kind) return this.open.index;
    this.closeBlock();
    this.closeTools();
    const index = this.writer.startTextBlock(kind);
    this.open = { kind, index };
    return index;
  }

  private closeBlock(): void {
    if (this.open === null) return;
    if (this.open.kind === 'thinking') {
      this.writer.delta(this.open.index, {
        type: 'signature_delta',
        signature: THINKING_SIGNATURE,
      });
    }
    this.writer.stopBlock(this.open.index);
    this.open = null;
  }

  private closeTools(): void {
    for (const tool of this.tools.values()) {
      if (!tool.open) continue;
      tool.open = false;
      this.writer.stopBlock(tool.index);
    }
  }
}
