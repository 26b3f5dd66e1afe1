import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import { toResponsesRequest } from './request';
import { ChatResponseContext, chatErrorBody, toChatCompletion } from './response';
import { ChatChunkStream } from './stream';

/**
 * OpenAI Chat Completions clients served by accounts that only speak the OpenAI Responses API
 * (Codex on a ChatGPT plan): requests to `/openai/v1/chat/completions` become Responses requests,
 * and the answers, streamed or not, become `chat.completion` objects and `chat.completion.chunk`
 * streams. With `upstreamStreamsOnly` the upstream is always asked for a stream, and a client
 * that asked for one body gets it assembled from the whole stream. What maps to what, and what
 * is refused, is in request.ts and docs/clients.md.
 */
export class OpenAIChatToOpenAIResponsesConverter implements Converter {
  readonly from = 'openai-chat' as const;
  readonly to = 'openai-responses' as const;

  /** `now` returns epoch milliseconds; tests pin it. */
  constructor(private readonly now: () => number = Date.now) {}

  convert(input: ConversionInput): Conversion {
    const plan = toResponsesRequest(input);
    const body = Buffer.from(JSON.stringify(plan.body), 'utf8');
    const context = (): ChatResponseContext => ({
      id: `chatcmpl-${input.requestId}`,
      model: input.requestedModel,
      created: Math.floor(this.now() / 1000),
    });
    return {
      body,
      response: (providerBody: Buffer): Buffer => toChatCompletion(providerBody, context()),
      stream: (): StreamConversion =>
        new ChatChunkStream({ ...context(), includeUsage: plan.includeUsage }),
      error: (status: number, providerBody: Buffer): Buffer => chatErrorBody(status, providerBody),
    };
  }
}
