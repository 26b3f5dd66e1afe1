import { openAIErrorBody, openAIErrorType } from 'src/modules/relay/dialects/openai/openai-error';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { Json, isObject } from './openai-params';

/**
 * Reading Anthropic Messages answers for OpenAI clients, shared by the Chat Completions and
 * Responses converters: the message body, token usage, thinking blocks and errors.
 */

/** A non-streamed Messages response, or UPSTREAM_BAD_RESPONSE when the body is not one. */
export function parseAnthropicMessage(providerBody: Buffer): Json & { content: unknown[] } {
  let message: unknown;
  try {
    message = JSON.parse(providerBody.toString('utf8'));
  } catch {
    message = undefined;
  }
  if (!isObject(message) || !Array.isArray(message.content)) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'the upstream answered with a body that is not a Messages response',
    );
  }
  return message as Json & { content: unknown[] };
}

/** Token counts of a Messages response or stream, as the API last reported them. */
export interface AnthropicUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** `output_tokens_details.thinking_tokens`, when the API reports it. */
  thinkingTokens: number | undefined;
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function emptyAnthropicUsage(): AnthropicUsage {
  return {
    inputTokens: 0,
    outputTokens: 0,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    thinkingTokens: undefined,
  };
}

/**
 * Applies an API `usage` object: the fields present overwrite, never add, because
 * `message_delta` repeats cumulative counts (newer API versions repeat input and cache counts
 * too), exactly as the Anthropic usage tap reads them.
 */
export function applyAnthropicUsage(usage: AnthropicUsage, apiUsage: unknown): void {
  if (!isObject(apiUsage)) return;
  usage.inputTokens = count(apiUsage.input_tokens) ?? usage.inputTokens;
  usage.outputTokens = count(apiUsage.output_tokens) ?? usage.outputTokens;
  usage.cacheReadTokens = count(apiUsage.cache_read_input_tokens) ?? usage.cacheReadTokens;
  usage.cacheCreationTokens =
    count(apiUsage.cache_creation_input_tokens) ?? usage.cacheCreationTokens;
  const details = apiUsage.output_tokens_details;
  if (isObject(details))
    usage.thinkingTokens = count(details.thinking_tokens) ?? usage.thinkingTokens;
}

/**
 * OpenAI's prompt (input) tokens: everything Claude read, uncached input, cache writes and cache
 * reads; OpenAI's `cached_tokens` are the cache reads among them.
 */
export function promptTokens(usage: AnthropicUsage): number {
  return usage.inputTokens + usage.cacheCreationTokens + usage.cacheReadTokens;
}

/** A signed thinking block (or a redacted one), as clients give it back. */
export function thinkingBlockOf(block: Json): Json | null {
  if (block.type === 'thinking') {
    return {
      type: 'thinking',
      thinking: typeof block.thinking === 'string' ? block.thinking : '',
      signature: typeof block.signature === 'string' ? block.signature : '',
    };
  }
  if (block.type === 'redacted_thinking') {
    return { type: 'redacted_thinking', data: typeof block.data === 'string' ? block.data : '' };
  }
  return null;
}

/** Anthropic error types → the status Anthropic sends them with. */
const ANTHROPIC_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Anthropic error types that have an OpenAI error code. */
const ANTHROPIC_ERROR_CODE: Record<string, string> = {
  authentication_error: 'invalid_api_key',
  billing_error: 'insufficient_quota',
  rate_limit_error: 'rate_limit_exceeded',
};

/** An OpenAI type and code for an Anthropic error type (unknown types count as server errors). */
export function openAIErrorForAnthropic(anthropicType: string | undefined): {
  type: string;
  code: string | null;
} {
  const status =
    anthropicType !== undefined && Object.hasOwn(ANTHROPIC_ERROR_STATUS, anthropicType)
      ? ANTHROPIC_ERROR_STATUS[anthropicType]
      : 500;
  const code =
    anthropicType !== undefined && Object.hasOwn(ANTHROPIC_ERROR_CODE, anthropicType)
      ? ANTHROPIC_ERROR_CODE[anthropicType]
      : null;
  return { type: openAIErrorType(status, code), code };
}

/** Plain-text upstream bodies up to this length are shown; longer ones are likely pages. */
const MAX_TEXT_ERROR_CHARS = 300;

/**
 * An upstream error body → OpenAI's error shape, status unchanged. Anthropic's JSON keeps its
 * message; short plain text is kept too; anything else (HTML, huge bodies) becomes a generic
 * message rather than being echoed. Credentials are redacted in every case.
 */
export function openAIErrorBodyFromAnthropic(status: number, providerBody: Buffer): Buffer {
  const text = providerBody.toString('utf8');
  let message: string | undefined;
  let anthropicType: string | undefined;
  try {
    const json: unknown = JSON.parse(text);
    if (isObject(json) && isObject(json.error)) {
      if (typeof json.error.message === 'string') message = json.error.message;
      if (typeof json.error.type === 'string') anthropicType = json.error.type;
    }
  } catch {
    const trimmed = text.trim();
    if (trimmed.length > 0 && trimmed.length <= MAX_TEXT_ERROR_CHARS && !trimmed.startsWith('<')) {
      message = trimmed;
    }
  }
  const code =
    anthropicType !== undefined ? openAIErrorForAnthropic(anthropicType).code : undefined;
  // openAIErrorBody redacts credentials from the message.
  return openAIErrorBody(status, message ?? `upstream error (HTTP ${status})`, code ?? undefined);
}
