import { openAIStreamErrorEvent } from 'src/modules/relay/dialects/openai/openai-error';

type Json = Record<string, unknown>;

/** What every chunk of one Chat Completions stream carries. */
export interface ChatChunkEnvelope {
  /** `chatcmpl-<request id>`. */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** `stream_options.include_usage`: every chunk but the usage chunk carries `usage: null`. */
  includeUsage: boolean;
}

/** A one-choice `chat.completion` body, as api.openai.com returns it (for non-stream answers). */
export function chatCompletionBody(
  ctx: Omit<ChatChunkEnvelope, 'includeUsage'>,
  message: Json,
  finishReason: string,
  usage: Json,
): Buffer {
  const completion = {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
    usage,
  };
  return Buffer.from(JSON.stringify(completion), 'utf8');
}

/**
 * Writes OpenAI `chat.completion.chunk` SSE as api.openai.com streams it, for stream converters
 * from other formats: `data: <json>\n\n` events with id, object, created and model; the role
 * chunk first (once); deltas; a finish chunk; the usage chunk (`choices: []`); `data: [DONE]`; or
 * OpenAI's stream error, after which nothing is written. Output collects until `take()`.
 */
export class ChatChunkWriter {
  private out: string[] = [];
  private started = false;
  private failedStream = false;

  constructor(private readonly ctx: ChatChunkEnvelope) {}

  /** Whether the stream was failed (nothing more is written). */
  get failed(): boolean {
    return this.failedStream;
  }

  /** The bytes written since the last take. */
  take(): Buffer {
    const bytes = Buffer.from(this.out.join(''), 'utf8');
    this.out = [];
    return bytes;
  }

  /** The first chunk, with the assistant role; written once, before any other. */
  start(): void {
    if (this.started || this.failedStream) return;
    this.started = true;
    this.write({ role: 'assistant', content: '' });
  }

  /** A delta chunk (`finish` set: the finish chunk). */
  delta(delta: Json, finish: string | null = null): void {
    this.start();
    this.write(delta, finish);
  }

  /** The usage chunk, when the client asked for one. */
  usage(usage: Json): void {
    if (!this.ctx.includeUsage || this.failedStream) return;
    this.out.push(`data: ${JSON.stringify({ ...this.envelope(), choices: [], usage })}\n\n`);
  }

  done(): void {
    if (!this.failedStream) this.out.push('data: [DONE]\n\n');
  }

  /** OpenAI's stream error (a `data:` line with an `error` object); nothing follows it. */
  fail(message: string, type = 'server_error', code: string | null = null): void {
    if (this.failedStream) return;
    this.failedStream = true;
    this.out.push(openAIStreamErrorEvent(message, type, code).toString('utf8'));
  }

  private envelope(): Json {
    return {
      id: this.ctx.id,
      object: 'chat.completion.chunk',
      created: this.ctx.created,
      model: this.ctx.model,
    };
  }

  private write(delta: Json, finish: string | null = null): void {
    if (this.failedStream) return;
    const chunk: Json = {
      ...this.envelope(),
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    };
    if (this.ctx.includeUsage) chunk.usage = null;
    this.out.push(`data: ${JSON.stringify(chunk)}\n\n`);
  }
}
