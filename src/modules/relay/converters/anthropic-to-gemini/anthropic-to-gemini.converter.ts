import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import { messageContext } from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { toGeminiRequest } from './request';
import { messageErrorBody, toMessage, toTokenCount } from './response';
import { GeminiMessageEventStream } from './stream';

/**
 * Anthropic Messages clients (Claude Code, the Anthropic SDKs) served by Gemini accounts:
 * `/v1/messages` requests become Gemini `generateContent` requests (and `count_tokens` a
 * `countTokens` request), and the answers, streamed or not, become Anthropic messages and event
 * streams. What maps to what, and what is refused, is in request.ts and docs/clients.md.
 */
export class AnthropicToGeminiConverter implements Converter {
  readonly from = 'anthropic-messages' as const;
  readonly to = 'gemini' as const;

  convert(input: ConversionInput): Conversion {
    const body = toGeminiRequest(input);
    const context = messageContext(input);
    const counting = input.operation === 'count_tokens';
    return {
      body: Buffer.from(JSON.stringify(body), 'utf8'),
      response: (providerBody: Buffer): Buffer =>
        counting ? toTokenCount(providerBody) : toMessage(providerBody, context),
      stream: (): StreamConversion => new GeminiMessageEventStream(context),
      error: (status: number, providerBody: Buffer): Buffer =>
        messageErrorBody(status, providerBody),
    };
  }
}
