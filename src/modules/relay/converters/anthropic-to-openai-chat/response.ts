import {
  MessageContext,
  anthropicErrorBody,
  messageBody,
} from 'src/modules/relay/converters/shared/anthropic-message-writer';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import { THINKING_SIGNATURE } from './request';

/**
 * Chat Completions answers → Anthropic Messages answers, plus what the stream converter shares:
 * stop reasons, usage, reasoning text, tool inputs and errors.
 *
 * A message's reasoning text (`reasoning_content`: DeepSeek, vLLM, Qwen, Kimi; `reasoning`:
 * OpenRouter, Ollama; else OpenRouter's `reasoning_details` text) becomes a `thinking` block
 * signed THINKING_SIGNATURE, first; then the text as a `text` block; then each tool call as a
 * `tool_use` block (the server's call id, `arguments` parsed as `input`).
 */

type Json = Record<string, unknown>;

export type { MessageContext };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

/**
 * A Chat Completions `usage` → Anthropic's: `input_tokens` without the cached tokens (OpenAI
 * counts them inside `prompt_tokens`; DeepSeek as `prompt_cache_hit_tokens`),
 * `cache_read_input_tokens` the cached ones, `output_tokens` the completion (reasoning
 * included). All 0 when the server reported none.
 */
export function messageUsage(usage: unknown): Json {
  const u = isObject(usage) ? usage : {};
  const prompt = count(u.prompt_tokens);
  const details = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cached = Math.min(
    prompt,
    details.cached_tokens !== undefined
      ? count(details.cached_tokens)
      : count(u.prompt_cache_hit_tokens),
  );
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: count(u.completion_tokens),
  };
}

/**
 * `finish_reason` → `stop_reason`: `tool_use` when the answer calls tools, `max_tokens` for
 * `length`, `refusal` for `content_filter`, else `end_turn` (Chat Completions does not say
 * whether a stop sequence ended the answer).
 */
export function stopReason(reason: unknown, toolUse: boolean): string {
  if (toolUse || reason === 'tool_calls' || reason === 'function_call') return 'tool_use';
  if (reason === 'length') return 'max_tokens';
  if (reason === 'content_filter') return 'refusal';
  return 'end_turn';
}

/** A message's (or a delta's) reasoning text, or '' when it has none. */
export function reasoningText(message: Json): string {
  for (const key of ['reasoning_content', 'reasoning']) {
    const value = message[key];
    if (typeof value === 'string' && value.length > 0) return value;
  }
  const details = message.reasoning_details;
  if (Array.isArray(details)) {
    return details
      .map((detail: unknown) =>
        isObject(detail) && typeof detail.text === 'string' ? detail.text : '',
      )
      .join('');
  }
  return '';
}

/** A call's `arguments` as the tool_use `input` (unparseable arguments: an empty object). */
export function toolInput(args: unknown): Json {
  if (isObject(args)) return args;
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return isObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/** A tool call id, or one made from the request id when the server gave none. */
export function callId(id: unknown, requestId: string, index: number): string {
  if (typeof id === 'string' && id.length > 0) return id;
  return `toolu_sy_${requestId.replace(/[^A-Za-z0-9_-]/g, '')}_${index}`;
}

function parse(providerBody: Buffer): Json {
  let json: unknown;
  try {
    json = JSON.parse(providerBody.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (!isObject(json) || !Array.isArray(json.choices)) {
    throw new RelayException(
      RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
      'the upstream answered with a body that is not a chat completion',
    );
  }
  return json;
}

/** A non-streamed `chat.completion` (JSON) → an Anthropic message (JSON). */
export function toMessage(providerBody: Buffer, ctx: MessageContext): Buffer {
  const completion = parse(providerBody);
  const choice = (completion.choices as unknown[])[0];
  const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
  const content: Json[] = [];
  const thinking = reasoningText(message);
  if (thinking.length > 0) {
    content.push({ type: 'thinking', thinking, signature: THINKING_SIGNATURE });
  }
  if (typeof message.content === 'string' && message.content.length > 0) {
    content.push({ type: 'text', text: message.content });
  }
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as unknown[]) : [];
  calls.forEach((call, index) => {
    if (!isObject(call)) return;
    const fn = isObject(call.function) ? call.function : {};
    content.push({
      type: 'tool_use',
      id: callId(call.id, ctx.requestId, index),
      name: typeof fn.name === 'string' ? fn.name : '',
      input: toolInput(fn.arguments),
    });
  });
  return messageBody(
    ctx,
    content,
    stopReason(
      isObject(choice) ? choice.finish_reason : undefined,
      content.some((block) => block.type === 'tool_use'),
    ),
    messageUsage(completion.usage),
  );
}

/** The message of an OpenAI-shaped (or any) error body, cut short; never the raw body whole. */
export function upstreamErrorMessage(status: number, providerBody: Buffer | string): string {
  const text = typeof providerBody === 'string' ? providerBody : providerBody.toString('utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  let message: unknown;
  if (isObject(json)) {
    const error = json.error;
    message = isObject(error) ? error.message : typeof error === 'string' ? error : json.message;
    if (message === undefined && typeof json.detail === 'string') message = json.detail;
  }
  const chosen =
    typeof message === 'string' && message.length > 0 ? message : `upstream error (${status})`;
  return chosen.length > 1000 ? `${chosen.slice(0, 1000)}…` : chosen;
}

/** An upstream error body → Anthropic's error shape, status unchanged. */
export function messageErrorBody(status: number, providerBody: Buffer): Buffer {
  return anthropicErrorBody(status, upstreamErrorMessage(status, providerBody));
}
