import type { ErrorKind } from 'src/modules/relay/relay.exception';
import type { ParsedRequest } from 'src/modules/relay/relay.types';
import { parseJsonObject, requireModel } from 'src/modules/relay/dialects/dialect-helpers';
import {
  DEFAULT_MAX_TOKENS,
  invalidParam,
  OpenAIDialect,
  optionalBoolean,
  positiveInteger,
} from './openai.dialect';
import { openAIStreamErrorEvent } from './openai-error';

/**
 * OpenAI Chat Completions clients: the `openai` SDKs and the many apps that speak
 * `/v1/chat/completions`.
 */
export class OpenAIChatDialect extends OpenAIDialect {
  readonly name = 'openai-chat';
  readonly format = 'openai-chat' as const;

  parse(raw: Buffer): ParsedRequest {
    const record = parseJsonObject(raw, 'We could not parse the JSON body of your request.');
    const model = requireModel(record, 'you must provide a model parameter');
    if (!Array.isArray(record.messages) || record.messages.length === 0)
      throw invalidParam('messages: must be a non-empty array', 'messages');
    const stream = optionalBoolean(record.stream, 'stream');
    const maxTokens =
      positiveInteger(record.max_completion_tokens, 'max_completion_tokens') ??
      positiveInteger(record.max_tokens, 'max_tokens') ??
      DEFAULT_MAX_TOKENS;
    return { model, stream, maxTokens, body: record };
  }

  /** A `data:` line with an `error` object, which OpenAI's SDKs throw from the stream. */
  streamErrorEvent(kind: ErrorKind, message: string): Buffer {
    return openAIStreamErrorEvent(message, kind === 'rate_limited' ? 'requests' : 'server_error');
  }
}
