import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import { toAnthropicRequest } from './request';
import { ChatResponseContext, chatErrorBody, toChatCompletion } from './response';
import { ChatCompletionChunkStream } from './stream';

/**
 * OpenAI Chat Completions clients served by Claude accounts: requests to `/openai/v1/chat/
 * completions` become Anthropic Messages requests, and the answers, streamed or not, become
 * `chat.completion` objects and `chat.completion.chunk` streams. What maps to what, and what is
 * refused, is in request.ts and docs/clients.md.
 */
export class OpenAIChatToAnthropicConverter implements Converter {
  readonly from = 'openai-chat' as const;
  readonly to = 'anthropic-messages' as const;

  /** `now` returns epoch milliseconds; tests pin it. */
  constructor(private readonly now: () => number = Date.now) {}

  convert(input: ConversionInput): Conversion {
    const plan = toAnthropicRequest(input);
    const body = Buffer.from(JSON.stringify(plan.body), 'utf8');
    const context = (): ChatResponseContext => ({
      id: `chatcmpl-${input.requestId}`,
      model: input.requestedModel,
      created: Math.floor(this.now() / 1000),
      jsonTool: plan.jsonTool,
    });
    return {
      body,
      response: (providerBody: Buffer): Buffer => toChatCompletion(providerBody, context()),
      stream: (): StreamConversion =>
        new ChatCompletionChunkStream({ ...context(), includeUsage: plan.includeUsage }),
      error: (status: number, providerBody: Buffer): Buffer => chatErrorBody(status, providerBody),
    };
  }
}
