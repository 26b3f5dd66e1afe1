import { generatedCallId } from 'src/modules/relay/converters/shared/gemini-request';
import { chatCompletionBody } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import {
  GeminiUsage,
  applyGeminiUsage,
  candidateParts,
  emptyGeminiUsage,
  endKind,
  endReason,
  firstCandidate,
  geminiError,
  outputTokens,
  parseGeminiResponse,
} from 'src/modules/relay/converters/shared/gemini-response';
import { openAIErrorBody } from 'src/modules/relay/dialects/openai/openai-error';
import { CALL_ID_PREFIX } from './request';

/**
 * Gemini GenerateContentResponses → OpenAI `chat.completion` objects, plus the pieces the stream
 * converter shares: tool calls, usage, finish reasons and errors.
 *
 * - text parts → `content`; thought parts (`thought: true`) → `reasoning_content` (the field
 *   DeepSeek- and OpenRouter-style clients read).
 * - functionCall parts → `tool_calls`: Gemini's call id when it gives one, else
 *   `call_sy_<request id>_<n>`; arguments are the JSON of `args`; a part's `thoughtSignature`
 *   → `extra_content.google.thought_signature` (Google's own OpenAI convention), which the
 *   client sends back with the call. Signatures on text parts are not returned: Gemini checks
 *   only those of function calls.
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
  /** Switchyard's request id, for the tool call ids Gemini does not give. */
  requestId: string;
}

/**
 * OpenAI's `usage`: the prompt as Gemini counts it (cached content included, as OpenAI counts
 * cached tokens), the completion with the thoughts (Gemini counts them apart, OpenAI inside).
 */
export function chatUsage(usage: GeminiUsage): Json {
  const completion = outputTokens(usage);
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: completion,
    total_tokens: usage.total ?? usage.prompt + completion,
    prompt_tokens_details: { cached_tokens: usage.cached },
    completion_tokens_details: { reasoning_tokens: usage.thoughts },
  };
}

/**
 * Gemini's finishReason → OpenAI's `finish_reason`: `length` for MAX_TOKENS, `content_filter`
 * for safety and other filters (and a blocked prompt), `tool_calls` when the answer calls
 * functions, else `stop`.
 */
export function finishReason(reason: string | undefined, toolCalls: boolean): string {
  switch (endKind(reason)) {
    case 'length':
      return 'length';
    case 'filtered':
      return 'content_filter';
    case 'stop':
    case 'other':
      return toolCalls ? 'tool_calls' : 'stop';
  }
}

/** A functionCall part → a Chat tool call (the `index`-th of the answer). */
export function toolCallOf(part: Json, index: number, requestId: string): Json {
  const call = part.functionCall as Json;
  const id =
    typeof call.id === 'string' && call.id.length > 0
      ? call.id
      : generatedCallId(CALL_ID_PREFIX, requestId, index);
  const toolCall: Json = {
    id,
    type: 'function',
    function: {
      name: typeof call.name === 'string' ? call.name : '',
      arguments: JSON.stringify(call.args ?? {}),
    },
  };
  if (typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0) {
    toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
  }
  return toolCall;
}

/** Whether a part is a function call. */
export function isFunctionCall(part: Json): boolean {
  return typeof part.functionCall === 'object' && part.functionCall !== null;
}

/** A non-streamed GenerateContentResponse (JSON) → a `chat.completion` (JSON). */
export function toChatCompletion(providerBody: Buffer, ctx: ChatResponseContext): Buffer {
  const response = parseGeminiResponse(providerBody);
  const candidate = firstCandidate(response);
  const texts: string[] = [];
  const thoughts: string[] = [];
  const toolCalls: Json[] = [];
  for (const part of candidateParts(candidate)) {
    if (isFunctionCall(part)) toolCalls.push(toolCallOf(part, toolCalls.length, ctx.requestId));
    else if (typeof part.text === 'string')
      (part.thought === true ? thoughts : texts).push(part.text);
    // inlineData, executableCode and other parts answer requests this converter never sends.
  }
  const message: Json = {
    role: 'assistant',
    content: texts.length > 0 ? texts.join('') : toolCalls.length > 0 ? null : '',
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thoughts.length > 0) message.reasoning_content = thoughts.join('');
  const usage = emptyGeminiUsage();
  applyGeminiUsage(usage, response.usageMetadata);
  return chatCompletionBody(
    ctx,
    message,
    finishReason(endReason(response, candidate), toolCalls.length > 0),
    chatUsage(usage),
  );
}

/** Gemini status names that have an OpenAI error code. */
const OPENAI_CODES: Readonly<Record<string, string>> = {
  RESOURCE_EXHAUSTED: 'rate_limit_exceeded',
  UNAUTHENTICATED: 'invalid_api_key',
  NOT_FOUND: 'model_not_found',
};

/** An upstream error body → OpenAI's error shape, status unchanged, message kept (redacted). */
export function chatErrorBody(status: number, providerBody: Buffer): Buffer {
  const error = geminiError(status, providerBody);
  const code =
    error.status !== undefined && Object.hasOwn(OPENAI_CODES, error.status)
      ? OPENAI_CODES[error.status]
      : undefined;
  return openAIErrorBody(status, error.message, code);
}
