import type { Conversion, ConversionInput } from 'src/modules/relay/converters/converter';
import {
  OpenAIToAnthropicConverter,
  anthropicConversion,
} from 'src/modules/relay/converters/shared/anthropic-request';
import { toAnthropicRequest } from './request';
import { ChatResponseContext, toChatCompletion } from './response';
import { ChatCompletionChunkStream } from './stream';

/**
 * OpenAI Chat Completions clients served by Claude accounts: requests to `/openai/v1/chat/
 * completions` become Anthropic Messages requests, and the answers, streamed or not, become
 * `chat.completion` objects and `chat.completion.chunk` streams. What maps to what, and what is
 * refused, is in request.ts and docs/clients.md.
 */
export class OpenAIChatToAnthropicConverter extends OpenAIToAnthropicConverter {
  readonly from = 'openai-chat' as const;

  convert(input: ConversionInput): Conversion {
    const plan = toAnthropicRequest(input);
    return anthropicConversion(
      plan.body,
      (): ChatResponseContext => ({
        id: `chatcmpl-${input.requestId}`,
        model: input.requestedModel,
        created: Math.floor(this.now() / 1000),
        jsonTool: plan.jsonTool,
      }),
      toChatCompletion,
      (ctx) => new ChatCompletionChunkStream({ ...ctx, includeUsage: plan.includeUsage }),
    );
  }
}
