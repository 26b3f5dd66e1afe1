import { openAIErrorBody, openAIErrorType } from 'src/modules/relay/dialects/openai/openai-error';
import { chatCompletionBody } from 'src/modules/relay/converters/shared/chat-chunk-writer';
import { responseFromEventStream } from 'src/modules/relay/providers/openai/openai-responses-stream';
import {
  firstSignificantByte,
  isJson,
  parseJson,
} from 'src/modules/relay/providers/openai/openai-usage';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { REASONING_DETAILS_FORMAT } from './request';

/**
 * OpenAI Responses objects → OpenAI `chat.completion` objects, plus the pieces the stream
 * converter shares: usage, finish reasons, reasoning details and errors.
 *
 * - `output_text` parts of message items → `content` (message items joined by a blank line);
 *   `refusal` parts → `refusal`.
 * - `function_call` items → `tool_calls` (`call_id` as the id).
 * - reasoning summaries → `reasoning_content` (the field DeepSeek- and OpenRouter-style clients
 *   read); each reasoning item also → `reasoning_details` entries in OpenRouter's convention
 *   (`reasoning.summary` and `reasoning.encrypted`, format `openai-responses-v1`), which a client
 *   sends back on the assistant message so a tool loop keeps its reasoning.
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
}

function count(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

/**
 * A Responses `usage` → Chat Completions `usage`: the same counts under Chat's names (both count
 * cached tokens inside the prompt and reasoning inside the completion). Zeros when absent.
 */
export function chatUsage(apiUsage: unknown): Json {
  const usage = isJson(apiUsage) ? apiUsage : {};
  const prompt = count(usage.input_tokens) ?? 0;
  const completion = count(usage.output_tokens) ?? 0;
  const inputDetails = isJson(usage.input_tokens_details) ? usage.input_tokens_details : {};
  const outputDetails = isJson(usage.output_tokens_details) ? usage.output_tokens_details : {};
  const promptDetails: Json = { cached_tokens: count(inputDetails.cached_tokens) ?? 0 };
  const writes = count(inputDetails.cache_write_tokens);
  if (writes !== undefined) promptDetails.cache_write_tokens = writes;
  const out: Json = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: count(usage.total_tokens) ?? prompt + completion,
    prompt_tokens_details: promptDetails,
  };
  const reasoning = count(outputDetails.reasoning_tokens);
  if (reasoning !== undefined) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}

/**
 * The `finish_reason` of a finished Response: `length` for a response cut by its token limit
 * (`content_filter` when a filter cut it), `tool_calls` when it calls functions, else `stop`.
 */
export function finishReason(response: Json, toolCalls: boolean): string {
  if (response.status === 'incomplete') {
    const details = response.incomplete_details;
    return isJson(details) && details.reason === 'content_filter' ? 'content_filter' : 'length';
  }
  return toolCalls ? 'tool_calls' : 'stop';
}

/** The summary of a reasoning item: its summary parts, separated by a blank line. */
export function summaryText(item: Json): string {
  if (!Array.isArray(item.summary)) return '';
  return item.summary
    .map((part: unknown) => (isJson(part) && typeof part.text === 'string' ? part.text : ''))
    .filter((text) => text.length > 0)
    .join('\n\n');
}

/**
 * A reasoning item's `reasoning_details` entries, numbered from `index`: its summary and its
 * encrypted content, each when present.
 */
export function reasoningDetailsOf(item: Json, index: number): Json[] {
  const id = typeof item.id === 'string' ? item.id : undefined;
  const entries: Json[] = [];
  const summary = summaryText(item);
  if (summary.length > 0) {
    entries.push({ type: 'reasoning.summary', summary, id, format: REASONING_DETAILS_FORMAT });
  }
  if (typeof item.encrypted_content === 'string' && item.encrypted_content.length > 0) {
    entries.push({
      type: 'reasoning.encrypted',
      data: item.encrypted_content,
      id,
      format: REASONING_DETAILS_FORMAT,
    });
  }
  return entries.map((entry, k) => ({ ...entry, index: index + k }));
}

/** The texts of a message item: its output_text parts and its refusal parts. */
export function messageTexts(item: Json): { text: string; refusal: string } {
  let text = '';
  let refusal = '';
  if (Array.isArray(item.content)) {
    for (const part of item.content as unknown[]) {
      if (!isJson(part)) continue;
      if (part.type === 'output_text' && typeof part.text === 'string') text += part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') refusal += part.refusal;
    }
  }
  return { text, refusal };
}

/** An OpenAI error type and code for a failed Response's `error` or an `error` event. */
export function openAIErrorOf(error: Json): { message: string; type: string; code: string | null } {
  const code = typeof error.code === 'string' ? error.code : null;
  const message = typeof error.message === 'string' ? error.message : 'upstream response failed';
  if (typeof error.type === 'string') return { message, type: error.type, code };
  let status = 500;
  if (code === 'rate_limit_exceeded') status = 429;
  else if (code === 'insufficient_quota') status = 402;
  else if (code === 'context_length_exceeded' || code?.startsWith('invalid_') === true)
    status = 400;
  return { message, type: openAIErrorType(status, code), code };
}

/**
 * A provider body → the final Response: a Response object (JSON), or a whole event stream from an
 * upstream that only streams. Anything else is the upstream's failure.
 */
function readResponse(providerBody: Buffer): Json {
  if (firstSignificantByte(providerBody) !== 0x7b) return responseFromEventStream(providerBody);
  const json = parseJson(providerBody);
  if (!isJson(json) || !Array.isArray(json.output)) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'the upstream answered with a body that is not a Responses response',
    );
  }
  return json;
}

/** A Response (JSON, or a whole event stream) → a `chat.completion` (JSON). */
export function toChatCompletion(providerBody: Buffer, ctx: ChatResponseContext): Buffer {
  const response = readResponse(providerBody);
  if (response.status === 'failed') {
    const error = openAIErrorOf(isJson(response.error) ? response.error : {});
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      `upstream response failed: ${error.message}`,
    );
  }

  const texts: string[] = [];
  const refusals: string[] = [];
  const reasoning: string[] = [];
  const details: Json[] = [];
  const toolCalls: Json[] = [];
  for (const item of (response.output ?? []) as unknown[]) {
    if (!isJson(item)) continue;
    switch (item.type) {
      case 'message': {
        const { text, refusal } = messageTexts(item);
        if (text.length > 0) texts.push(text);
        if (refusal.length > 0) refusals.push(refusal);
        break;
      }
      case 'function_call':
        toolCalls.push({
          id: item.call_id,
          type: 'function',
          function: {
            name: item.name,
            arguments: typeof item.arguments === 'string' ? item.arguments : '',
          },
        });
        break;
      case 'reasoning': {
        const summary = summaryText(item);
        if (summary.length > 0) reasoning.push(summary);
        details.push(...reasoningDetailsOf(item, details.length));
        break;
      }
      default:
        // Hosted tool calls only answer hosted tools, which this converter never sends.
        break;
    }
  }

  const refusal = refusals.length > 0 ? refusals.join('\n\n') : null;
  const chatMessage: Json = {
    role: 'assistant',
    content:
      texts.length > 0 ? texts.join('\n\n') : toolCalls.length > 0 || refusal !== null ? null : '',
    refusal,
  };
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
  if (reasoning.length > 0) chatMessage.reasoning_content = reasoning.join('\n\n');
  if (details.length > 0) chatMessage.reasoning_details = details;

  return chatCompletionBody(
    ctx,
    chatMessage,
    finishReason(response, toolCalls.length > 0),
    chatUsage(response.usage),
  );
}

/** Responses request fields → the Chat Completions field a client sent them as. */
const CHAT_PARAMS: Record<string, string> = {
  max_output_tokens: 'max_completion_tokens',
  'text.format': 'response_format',
  'text.verbosity': 'verbosity',
  'reasoning.effort': 'reasoning_effort',
  instructions: 'messages',
};

function chatParam(param: string): string {
  if (Object.hasOwn(CHAT_PARAMS, param)) return CHAT_PARAMS[param];
  if (param.startsWith('text.format')) return 'response_format';
  // input[i] does not line up with messages[i] (system messages become instructions).
  if (param === 'input' || param.startsWith('input[') || param.startsWith('input.'))
    return 'messages';
  return param;
}

/** Plain-text upstream bodies up to this length are shown; longer ones are likely pages. */
const MAX_TEXT_ERROR_CHARS = 300;

/**
 * An upstream error body → OpenAI's error shape, status unchanged. The Responses API's own
 * errors are already OpenAI-shaped: their message, type, param (renamed to the Chat Completions
 * field it came from) and code are kept. The Codex backend's `{"detail": "…"}` keeps its text
 * (and an "Unsupported parameter: x" names x). Short plain text is kept too; anything else (HTML,
 * huge bodies) becomes a generic message. Credentials are redacted in every case.
 */
export function chatErrorBody(status: number, providerBody: Buffer): Buffer {
  const text = providerBody.toString('utf8');
  let message: string | undefined;
  let type: string | undefined;
  let code: string | null | undefined;
  let param: string | null = null;
  const json = parseJson(text);
  if (isJson(json) && isJson(json.error)) {
    const error = json.error;
    if (typeof error.message === 'string') message = error.message;
    if (typeof error.type === 'string') type = error.type;
    if (typeof error.code === 'string' || error.code === null) code = error.code;
    if (typeof error.param === 'string') param = error.param;
  } else if (isJson(json) && typeof json.detail === 'string') {
    message = json.detail;
    param = /^Unsupported parameter: ([\w.[\]]+)/.exec(json.detail)?.[1] ?? null;
  } else if (json === undefined) {
    const trimmed = text.trim();
    if (trimmed.length > 0 && trimmed.length <= MAX_TEXT_ERROR_CHARS && !trimmed.startsWith('<')) {
      message = trimmed;
    }
  }
  if (param !== null) {
    const renamed = chatParam(param);
    if (renamed !== param && message !== undefined) message = `${message} (sent as ${renamed})`;
    param = renamed;
  }
  // openAIErrorBody redacts credentials from the message.
  return openAIErrorBody(status, message ?? `upstream error (HTTP ${status})`, code, param, type);
}
