import type { StreamConversion } from 'src/modules/relay/converters/converter';
import {
  GeminiChunkReader,
  GeminiStreamHandler,
} from 'src/modules/relay/converters/shared/gemini-chunk-reader';
import {
  AnthropicEventWriter,
  MessageContext,
} from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { isFunctionCall, messageUsage, signatureOf, stopReason, toolUseOf } from './response';

/**
 * A Gemini `streamGenerateContent?alt=sse` stream → the Anthropic Messages event stream, as
 * Claude Code reads it: `message_start` (with the input usage known so far), then per block
 * `content_block_start` / `content_block_delta` / `content_block_stop` — text (`text_delta`),
 * thinking (`thinking_delta`, then `signature_delta` when a signature comes), tool_use (one
 * `input_json_delta` with the whole arguments: Gemini sends a call whole) — then `message_delta`
 * with the stop reason and the usage, and `message_stop`. Blocks and signatures follow the same
 * rules as the non-stream response (response.ts), so the blocks a client assembles are the ones
 * it would have got unstreamed.
 *
 * An error object in the stream becomes an Anthropic `error` event (which the Anthropic SDKs and
 * Claude Code raise, retrying `overloaded_error`); so does a stream that ends without a
 * finishReason, so a client cannot take a cut-off answer for a complete one.
 */

type Json = Record<string, unknown>;

type Open = { kind: 'text' | 'thinking'; index: number } | null;

export class GeminiMessageEventStream implements StreamConversion, GeminiStreamHandler {
  private readonly reader = new GeminiChunkReader(this);
  private readonly writer: AnthropicEventWriter;
  private failedStream = false;
  private open: Open = null;
  private toolUses = 0;

  constructor(private readonly ctx: MessageContext) {
    this.writer = new AnthropicEventWriter(ctx);
  }

  push(chunk: Buffer): Buffer {
    this.reader.push(chunk);
    return this.writer.flush();
  }

  end(): Buffer {
    this.reader.end();
    if (!this.failedStream && !this.reader.finished) {
      this.failed('upstream stream ended before it was complete', 500);
    }
    return this.writer.flush();
  }

  part(part: Json): void {
    this.start();
    const signature = signatureOf(part);
    if (part.thought === true) {
      const index = this.openBlock('thinking');
      if (typeof part.text === 'string' && part.text.length > 0) {
        this.writer.delta(index, { type: 'thinking_delta', thinking: part.text });
      }
      if (signature !== undefined) {
        this.writer.delta(index, { type: 'signature_delta', signature });
        this.closeBlock();
      }
      return;
    }
    if (signature !== undefined) {
      const index = this.openBlock('thinking', true);
      this.writer.delta(index, { type: 'signature_delta', signature });
      this.closeBlock();
    }
    if (isFunctionCall(part)) {
      this.closeBlock();
      const block = toolUseOf(part, this.toolUses++, this.ctx.requestId);
      const index = this.writer.startBlock({ ...block, input: {} });
      this.writer.delta(index, {
        type: 'input_json_delta',
        partial_json: JSON.stringify(block.input),
      });
      this.writer.stopBlock(index);
    } else if (typeof part.text === 'string' && part.text.length > 0) {
      const index = this.openBlock('text');
      this.writer.delta(index, { type: 'text_delta', text: part.text });
    }
  }

  finish(reason: string): void {
    this.start();
    this.closeBlock();
    this.writer.finish(stopReason(reason, this.toolUses > 0), messageUsage(this.reader.usage));
  }

  failed(message: string, status: number): void {
    this.failedStream = true;
    this.writer.error(message, status);
  }

  private start(): void {
    this.writer.start(() => ({ ...messageUsage(this.reader.usage), output_tokens: 0 }));
  }

  /** The index of an open block of `kind`, opening one (and closing another) when needed. */
  private openBlock(kind: 'text' | 'thinking', fresh = false): number {
    if (this.open !== null && this.open.kind === kind && !fresh) return this.open.index;
    this.closeBlock();
    const index = this.writer.startTextBlock(kind);
    this.open = { kind, index };
    return index;
  }

  private closeBlock(): void {
    if (this.open === null) return;
    this.writer.stopBlock(this.open.index);
    this.open = null;
  }
}
