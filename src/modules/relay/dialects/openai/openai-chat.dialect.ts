import type { Request } from 'express';
import {
  RelayException,
  RelayExceptionCode,
  type ErrorKind,
} from 'src/modules/relay/relay.exception';
import type {
  InboundDialect,
  ParsedRequest,
  RelayErrorView,
  RenderedError,
} from 'src/modules/relay/relay.types';
import {
  bearerToken,
  jsonError,
  parseJsonObject,
  requireModel,
} from 'src/modules/relay/dialects/dialect-helpers';
import { openAIErrorBody, openAIStreamErrorEvent } from './openai-error';

/** Output tokens assumed for admission when the client sets no limit. */
const DEFAULT_MAX_TOKENS = 4096;

/** OpenAI's `code` for the kinds its SDKs and apps look for; Switchyard's own code otherwise. */
const CODES: Partial<Record<ErrorKind, string>> = {
  auth: 'invalid_api_key',
  rate_limited: 'rate_limit_exceeded',
  budget: 'insufficient_quota',
  not_found: 'model_not_found',
};

function invalid(message: string, param: string): RelayException {
  return new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, param);
}

function positiveInteger(value: unknown, param: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw invalid(`${param}: must be a positive integer`, param);
  return value;
}

/**
 * OpenAI Chat Completions clients: the `openai` SDKs and the many apps that speak
 * `/v1/chat/completions`. The key comes as `Authorization: Bearer` (or `x-api-key`); errors go
 * back as `{"error":{"message","type","param","code"}}`, an exhausted budget as OpenAI's
 * `insufficient_quota` 429 and an overloaded upstream as 503, which the SDKs retry.
 */
export class OpenAIChatDialect implements InboundDialect {
  readonly name = 'openai-chat';
  readonly format = 'openai-chat' as const;
  readonly defaultPlatform = null;

  extractKey(req: Request): string | null {
    const token = bearerToken(req.headers);
    if (token !== null) return token;
    const apiKey = req.headers['x-api-key'];
    return typeof apiKey === 'string' && apiKey.length > 0 ? apiKey : null;
  }

  parse(raw: Buffer): ParsedRequest {
    const record = parseJsonObject(raw, 'We could not parse the JSON body of your request.');
    const model = requireModel(record, 'you must provide a model parameter');
    if (!Array.isArray(record.messages) || record.messages.length === 0)
      throw invalid('messages: must be a non-empty array', 'messages');
    if (record.stream !== undefined && record.stream !== null && typeof record.stream !== 'boolean')
      throw invalid('stream: must be a boolean', 'stream');
    const maxTokens =
      positiveInteger(record.max_completion_tokens, 'max_completion_tokens') ??
      positiveInteger(record.max_tokens, 'max_tokens') ??
      DEFAULT_MAX_TOKENS;
    return { model, stream: record.stream === true, maxTokens, body: record };
  }

  renderError(error: RelayErrorView): RenderedError {
    // OpenAI has no 529 and answers a spent quota with 429 insufficient_quota.
    const status = error.kind === 'overloaded' ? 503 : error.kind === 'budget' ? 429 : error.status;
    const code = error.reason ?? CODES[error.kind] ?? error.code.toLowerCase();
    const body = openAIErrorBody(status, error.message, code, error.param ?? null);
    return jsonError(status, body, error.headers);
  }

  streamErrorEvent(kind: ErrorKind, message: string): Buffer {
    return openAIStreamErrorEvent(
      message,
      kind === 'rate_limited' ? 'rate_limit_error' : undefined,
    );
  }
}
