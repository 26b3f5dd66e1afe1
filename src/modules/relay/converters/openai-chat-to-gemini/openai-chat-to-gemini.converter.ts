import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import { toGeminiRequest } from './request';
import { ChatResponseContext, chatErrorBody, toChatCompletion } from './response';
import { GeminiChatChunkStream } from './stream';

/**
 * OpenAI Chat Completions clients served by Gemini accounts: requests to `/openai/v1/chat/
 * completions` become Gemini `generateContent` requests, and the answers, streamed or not,
 * become `chat.completion` objects and `chat.completion.chunk` streams. What maps to what, and
 * what is refused, is in request.ts and docs/clients.md.
 */
export class OpenAIChatToGeminiConverter implements Converter {
  readonly from = 'openai-chat' as const;
  readonly to = 'gemini' as const;

  /** `now` returns epoch milliseconds; tests pin it. */
  constructor(private readonly now: () => number = Date.now) {}

  convert(input: ConversionInput): Conversion {
    const plan = toGeminiRequest(input);
    const context = (): ChatResponseContext => ({
      id: `chatcmpl-${input.requestId}`,
      model: input.requestedModel,
      created: Math.floor(this.now() / 1000),
      requestId: input.requestId,
    });
    return {
      body: Buffer.from(JSON.stringify(plan.body), 'utf8'),
      response: (providerBody: Buffer): Buffer => toChatCompletion(providerBody, context()),
      stream: (): StreamConversion =>
        new GeminiChatChunkStream({ ...context(), includeUsage: plan.includeUsage }),
      error: (status: number, providerBody: Buffer): Buffer => chatErrorBody(status, providerBody),
    };
  }
}
