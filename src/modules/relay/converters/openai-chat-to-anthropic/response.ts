import { openAIErrorBody, openAIErrorType } from 'src/modules/relay/dialects/openai/openai-error';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/**
 * Anthropic Messages responses → OpenAI `chat.completion` objects, plus the pieces the stream
 * converter shares: usage, finish reasons and errors.
 *
 * Thinking comes back as `reasoning_content` (the field DeepSeek, LiteLLM and OpenRouter-style
 * clients read) and, with signatures, as `thinking_blocks` (LiteLLM's convention), which clients
 * send back on the assistant message so tool use with thinking continues.
 */

type Json = Record<string, unknown>;

/** What every response of one request shares. */
export interface ChatResponseContext {
  /** `chatcmpl-<request id>`. */
  id: string;
  /** The model the client asked for. */
  model: string;
  /** Unix seconds. */
  created: number;
  /** The tool that carries a `json_schema` answer (its call becomes the content), or null. */
  jsonTool: string | null;
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

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
 * OpenAI's `usage`: the prompt is everything Claude read (uncached, cache writes and cache
 * reads), `cached_tokens` the cache reads.
 */
export function chatUsage(usage: AnthropicUsage): Json {
  const prompt = usage.inputTokens + usage.cacheCreationTokens + usage.cacheReadTokens;
  const out: Json = {
    prompt_tokens: prompt,
    completion_tokens: usage.outputTokens,
    total_tokens: prompt + usage.outputTokens,
    prompt_tokens_details: {
      cached_tokens: usage.cacheReadTokens,
      cache_write_tokens: usage.cacheCreationTokens,
    },
  };
  if (usage.thinkingTokens !== undefined) {
    out.completion_tokens_details = { reasoning_tokens: usage.thinkingTokens };
  }
  return out;
}

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`. A `tool_use` stop only means `tool_calls`
 * when the client has tool calls to run: a call of the json_schema tool is the answer itself.
 */
export function finishReason(stopReason: unknown, clientToolCalls: boolean): string {
  switch (stopReason) {
    case 'tool_use':
      return clientToolCalls ? 'tool_calls' : 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      // end_turn, stop_sequence, pause_turn (a finished turn for a Chat Completions client)
      return 'stop';
  }
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
export function chatErrorBody(status: number, providerBody: Buffer): Buffer {
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

/** A signed thinking block (or a redacted one) as LiteLLM's `thinking_blocks` carry it. */
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

/** A non-streamed Messages response (JSON) → a `chat.completion` (JSON). */
export function toChatCompletion(providerBody: Buffer, ctx: ChatResponseContext): Buffer {
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

  const texts: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: Json[] = [];
  const toolCalls: Json[] = [];
  for (const block of message.content as unknown[]) {
    if (!isObject(block)) continue;
    switch (block.type) {
      case 'text':
        if (typeof block.text === 'string') texts.push(block.text);
        break;
      case 'thinking':
      case 'redacted_thinking': {
        const out = thinkingBlockOf(block);
        if (out !== null) thinkingBlocks.push(out);
        if (typeof block.thinking === 'string') reasoning.push(block.thinking);
        break;
      }
      case 'tool_use': {
        const args = JSON.stringify(block.input ?? {});
        if (block.name === ctx.jsonTool) {
          texts.push(args);
        } else {
          toolCalls.push({
            id: block.id,
            type: 'function',
            function: { name: block.name, arguments: args },
          });
        }
        break;
      }
      default:
        // Server tool blocks only answer server tools, which this converter never sends.
        break;
    }
  }

  const chatMessage: Json = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '',
    refusal: null,
  };
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
  if (thinkingBlocks.length > 0) {
    chatMessage.reasoning_content = reasoning.join('');
    chatMessage.thinking_blocks = thinkingBlocks;
  }
  const usage = emptyAnthropicUsage();
  applyAnthropicUsage(usage, message.usage);

  const completion = {
    id: ctx.id,
    object: 'chat.completion',
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: chatMessage,
        logprobs: null,
        finish_reason: finishReason(message.stop_reason, toolCalls.length > 0),
      },
    ],
    usage: chatUsage(usage),
  };
  return Buffer.from(JSON.stringify(completion), 'utf8');
}
