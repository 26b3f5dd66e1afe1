import type { UsageTap } from 'src/modules/relay/relay.types';
import type { WireFormat } from 'src/modules/relay/wire-format';
import type { TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { OpenAIChatTap, usageFromChatCompletion } from './openai-chat.tap';
import { responseFromEventStream } from './openai-responses-stream';
import { OpenAIResponsesTap, usageFromResponse } from './openai-responses.tap';

/** The usage tap over an OpenAI-family stream in `format`. */
export function openAITap(format: WireFormat): UsageTap {
  return format === 'openai-chat' ? new OpenAIChatTap() : new OpenAIResponsesTap();
}

/** The usage of an OpenAI-family non-stream body (or error body) in `format`. */
export function openAIUsageFromBody(format: WireFormat, body: Buffer): TokenUsage {
  return format === 'openai-chat' ? usageFromChatCompletion(body) : usageFromResponse(body);
}

/** A whole Responses event stream as the Response object `response.completed` carried. */
export function assembleResponsesStream(body: Buffer): Buffer {
  return Buffer.from(JSON.stringify(responseFromEventStream(body)));
}
