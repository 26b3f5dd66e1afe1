import type {
  Conversion,
  ConversionInput,
  Converter,
  StreamConversion,
} from 'src/modules/relay/converters/converter';
import { messageContext } from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { toChatRequest } from './request';
import { messageErrorBody, toMessage } from './response';
import { ChatMessageEventStream } from './stream';

/**
 * Anthropic Messages clients (Claude Code, the Anthropic SDKs) served by openai-compatible
 * accounts (DeepSeek, OpenRouter, Qwen, a local vLLM or Ollama, …): `/v1/messages` requests
 * become Chat Completions requests fitted to the account's quirks, and the answers, streamed or
 * not, become Anthropic messages and event streams. `count_tokens` is refused (such servers
 * have no counting endpoint). What maps to what is in request.ts and docs/clients.md.
 */
export class AnthropicToOpenAIChatConverter implements Converter {
  readonly from = 'anthropic-messages' as const;
  readonly to = 'openai-chat' as const;

  convert(input: ConversionInput): Conversion {
    const body = toChatRequest(input);
    const context = messageContext(input);
    return {
      body: Buffer.from(JSON.stringify(body), 'utf8'),
      response: (providerBody: Buffer): Buffer => toMessage(providerBody, context),
      stream: (): StreamConversion => new ChatMessageEventStream(context),
      error: (status: number, providerBody: Buffer): Buffer =>
        messageErrorBody(status, providerBody),
    };
  }
}
