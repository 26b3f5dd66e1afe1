import type { StreamConversion } from 'src/modules/relay/converters/converter';
import { ChatChunkWriter } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import {
  GeminiChunkReader,
  GeminiStreamHandler,
} from 'src/modules/relay/converters/shared/gemini-chunk-reader';
import { openAIErrorType } from 'src/modules/relay/dialects/openai/openai-error';
import {
  ChatResponseContext,
  chatUsage,
  finishReason,
  isFunctionCall,
  toolCallOf,
} from './response';

/**
 * A Gemini `streamGenerateContent?alt=sse` stream → OpenAI `chat.completion.chunk` SSE: a first
 * chunk with the assistant role; text parts → `delta.content`, thought parts →
 * `delta.reasoning_content`; each functionCall part (Gemini sends a call whole) → one
 * `delta.tool_calls` entry with its index, id, type, name and complete arguments (and the thought
 * signature as `extra_content`, as in the non-stream response); the finish chunk; with
 * `stream_options.include_usage` a usage chunk; `data: [DONE]`.
 *
 * An error object in the stream becomes OpenAI's stream error (a `data:` line with an `error`
 * object, which the OpenAI SDKs raise); so does a stream that ends without a finishReason, so a
 * client cannot take a cut-off answer for a complete one. Nothing follows the error.
 */

export interface ChatStreamContext extends ChatResponseContext {
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
}

export class GeminiChatChunkStream implements StreamConversion, GeminiStreamHandler {
  private readonly reader = new GeminiChunkReader(this);
  private readonly writer: ChatChunkWriter;
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
      if (this.reader.finished) {
        this.writer.usage(chatUsage(this.reader.usage));
        this.writer.done();
      } else {
        this.writer.fail('upstream stream ended before it was complete');
      }
    }
    return this.writer.take();
  }

  part(part: Record<string, unknown>): void {
    if (isFunctionCall(part)) {
      const call = toolCallOf(part, this.toolCalls, this.ctx.requestId);
      this.writer.delta({ tool_calls: [{ index: this.toolCalls, ...call }] });
      this.toolCalls++;
      return;
    }
    if (typeof part.text !== 'string' || part.text.length === 0) {
      // An empty part (often carrying only a signature) still opens the stream.
      this.writer.start();
      return;
    }
    this.writer.delta(
      part.thought === true ? { reasoning_content: part.text } : { content: part.text },
    );
  }

  finish(reason: string): void {
    this.writer.delta({}, finishReason(reason, this.toolCalls > 0));
  }

  failed(message: string, status: number): void {
    const code = status === 429 ? 'rate_limit_exceeded' : null;
    this.writer.fail(message, openAIErrorType(status, code), code);
  }
}
