import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';

/**
 * Checks every converter from OpenAI Chat Completions runs on the request before it converts it,
 * whatever the provider: unknown parameters, parameters no converted upstream can honour (`n > 1`,
 * log probabilities, penalties, audio, …), `stream_options` and `parallel_tool_calls`. Each
 * failure is an OpenAIRequestException: a 400 in OpenAI's shape naming the parameter.
 */

type Json = Record<string, unknown>;

export function isJsonObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent for OpenAI: missing or null. */
export function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Refuses the request: `param` leads the message, as OpenAI's own messages do. */
export function refuse(param: string | null, reason: string, code = 'invalid_value'): never {
  throw new OpenAIRequestException(param, param === null ? reason : `${param}: ${reason}`, code);
}

/** A value for an error message, cut to a readable length. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') refuse(param, 'must be a string', 'invalid_type');
  return value;
}

/**
 * Every request parameter the Chat Completions API defines. A converter reads, refuses or ignores
 * each of them; anything else is refused as OpenAI refuses a parameter it does not define.
 */
export const CHAT_PARAMETERS: readonly string[] = [
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'seed',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'verbosity',
  'user',
  'safety_identifier',
  'n',
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'logit_bias',
  'audio',
  'modalities',
  'prediction',
  'web_search_options',
  'functions',
  'function_call',
  'moderation',
  'store',
  'metadata',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
];

/** A parameter the provider cannot honour: refused unless it holds its neutral value. */
export interface ChatRefusal {
  param: string;
  neutral: (value: unknown) => boolean;
  reason: string;
  code: string;
}

const never = (): boolean => false;

/** A refusal of any value but the neutral ones. */
export function chatRefusal(
  param: string,
  reason: string,
  code = 'unsupported_parameter',
  neutral: (value: unknown) => boolean = never,
): ChatRefusal {
  return { param, neutral, reason, code };
}

/**
 * The parameters no converted upstream honours, with reasons naming the models that cannot
 * (`models`: "Claude models", …): one choice only, no log probabilities, no penalties or token
 * biases, text only, no predicted outputs, and not the deprecated functions API.
 */
export function commonChatRefusals(models: string): ChatRefusal[] {
  return [
    chatRefusal(
      'n',
      `${models} return one choice; only n = 1 is supported`,
      'unsupported_value',
      (v) => v === 1,
    ),
    chatRefusal(
      'logprobs',
      `${models} do not return log probabilities`,
      'unsupported_parameter',
      (v) => v === false,
    ),
    chatRefusal(
      'top_logprobs',
      `${models} do not return log probabilities`,
      'unsupported_parameter',
      (v) => v === 0,
    ),
    chatRefusal(
      'presence_penalty',
      `${models} have no repetition penalties; only 0 is accepted`,
      'unsupported_parameter',
      (v) => v === 0,
    ),
    chatRefusal(
      'frequency_penalty',
      `${models} have no repetition penalties; only 0 is accepted`,
      'unsupported_parameter',
      (v) => v === 0,
    ),
    chatRefusal(
      'logit_bias',
      `${models} do not accept token biases`,
      'unsupported_parameter',
      (v) => isJsonObject(v) && Object.keys(v).length === 0,
    ),
    chatRefusal('audio', `${models} do not produce audio`),
    chatRefusal(
      'modalities',
      `${models} produce text only; only ['text'] is supported`,
      'unsupported_value',
      (v) => Array.isArray(v) && v.every((m) => m === 'text'),
    ),
    chatRefusal('prediction', `${models} do not support predicted outputs`),
    chatRefusal('functions', "the deprecated functions API is not supported; use 'tools'"),
    chatRefusal(
      'function_call',
      "the deprecated functions API is not supported; use 'tool_choice'",
    ),
  ];
}

/**
 * Refuses a parameter outside `known` (as OpenAI refuses one it does not define), any refused
 * parameter that is not at its neutral value, `stream_options` on a request that does not
 * stream or of the wrong type, and a `parallel_tool_calls` that is not a boolean.
 */
export function checkChatFields(
  body: Json,
  stream: boolean,
  known: ReadonlySet<string>,
  refusals: readonly ChatRefusal[],
): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) refuse(key, `unknown parameter '${key}'`, 'unknown_parameter');
  }
  for (const { param, neutral, reason, code } of refusals) {
    const value = body[param];
    if (given(value) && !neutral(value)) refuse(param, `${reason} (got ${quote(value)})`, code);
  }
  const options = body.stream_options;
  if (given(options)) {
    if (!stream) refuse('stream_options', 'only allowed when stream is true', 'invalid_value');
    if (!isJsonObject(options)) refuse('stream_options', 'must be an object', 'invalid_type');
    if (given(options.include_usage) && typeof options.include_usage !== 'boolean') {
      refuse('stream_options.include_usage', 'must be a boolean', 'invalid_type');
    }
  }
  if (given(body.parallel_tool_calls) && typeof body.parallel_tool_calls !== 'boolean') {
    refuse('parallel_tool_calls', 'must be a boolean', 'invalid_type');
  }
}

/** `stream_options.include_usage`: the stream ends with a usage chunk. */
export function includeUsage(body: Json): boolean {
  const options = body.stream_options;
  return isJsonObject(options) && options.include_usage === true;
}

/**
 * The client's output cap: `max_completion_tokens`, else the older `max_tokens`; null when it
 * sets neither. Refuses a value that is not a positive integer.
 */
export function chatTokenCap(body: Json): { param: string; value: number } | null {
  const param = given(body.max_completion_tokens)
    ? 'max_completion_tokens'
    : given(body.max_tokens)
      ? 'max_tokens'
      : null;
  if (param === null) return null;
  const value = body[param];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    refuse(param, `must be a positive integer (got ${quote(value)})`, 'invalid_value');
  }
  return { param, value };
}
