import { Json, fail, given, isObject, quote, requireString } from './openai-params';

/**
 * Walking a Chat Completions `messages` array, for converters from Chat Completions whatever the
 * provider: the roles, content given as a string or as parts, and the assistant message's text
 * (content, refusal parts, `refusal`), with the refusals every provider shares (the deprecated
 * functions API, audio answers given back, unknown roles). Each failure is a 400 in OpenAI's
 * shape naming the field.
 */

/** What a converter does with each message, by role (system and developer share one). */
export interface ChatMessageHandlers {
  system(message: Json, path: string): void;
  user(message: Json, path: string): void;
  assistant(message: Json, path: string): void;
  tool(message: Json, path: string): void;
}

/** Dispatches each message by role; refuses an empty list, `function` messages, unknown roles. */
export function forEachChatMessage(value: unknown, handlers: ChatMessageHandlers): void {
  if (!Array.isArray(value) || value.length === 0) {
    fail('messages', 'must be a non-empty array', 'invalid_value');
  }
  value.forEach((message: unknown, i) => {
    const path = `messages[${i}]`;
    if (!isObject(message)) fail(path, 'must be an object', 'invalid_type');
    switch (message.role) {
      case 'system':
      case 'developer':
        handlers.system(message, path);
        break;
      case 'user':
        handlers.user(message, path);
        break;
      case 'assistant':
        handlers.assistant(message, path);
        break;
      case 'tool':
        handlers.tool(message, path);
        break;
      case 'function':
        fail(
          `${path}.role`,
          "'function' messages belong to the deprecated functions API; use tools and 'tool' messages",
          'unsupported_value',
        );
        break;
      default:
        fail(`${path}.role`, `unknown role ${quote(message.role)}`, 'invalid_value');
    }
  });
}

/** Refuses a conversation with nothing but system messages, before a round trip. */
export function requireConversation(turns: number): void {
  if (turns === 0) {
    fail(
      'messages',
      'needs at least one user, assistant or tool message with content',
      'invalid_value',
    );
  }
}

/**
 * A message's content converted: a string by `text`; an array part by part (`part` gets each
 * object part with its path); anything else is refused.
 */
export function chatContent<T>(
  content: unknown,
  path: string,
  text: (value: string) => T[],
  part: (part: Json, partPath: string) => T[],
): T[] {
  if (typeof content === 'string') return text(content);
  if (!Array.isArray(content)) {
    fail(path, 'must be a string or an array of content parts', 'invalid_type');
  }
  return content.flatMap((item: unknown, j) => {
    const partPath = `${path}[${j}]`;
    if (!isObject(item)) fail(partPath, 'must be an object', 'invalid_type');
    return part(item, partPath);
  });
}

/**
 * An assistant message's texts, in order: its content (a string, or text and refusal parts,
 * `text` getting the part for what else it carries) and its `refusal`. Refuses the deprecated
 * `function_call` and an `audio` answer given back (`models` names who cannot take it).
 */
export function assistantTexts<T>(
  message: Json,
  path: string,
  models: string,
  text: (value: string, part?: Json, partPath?: string) => T[],
): T[] {
  if (given(message.function_call)) {
    fail(
      `${path}.function_call`,
      "the deprecated functions API is not supported; use 'tool_calls'",
      'unsupported_parameter',
    );
  }
  if (given(message.audio)) {
    fail(`${path}.audio`, `${models} cannot take back an audio response`, 'unsupported_parameter');
  }
  const out: T[] = [];
  const content = message.content;
  if (given(content)) {
    if (typeof content !== 'string' && !Array.isArray(content)) {
      fail(
        `${path}.content`,
        'must be a string, an array of content parts or null',
        'invalid_type',
      );
    }
    out.push(
      ...chatContent(content, `${path}.content`, text, (part, partPath) => {
        if (part.type === 'text') {
          return text(requireString(part.text, `${partPath}.text`), part, partPath);
        }
        if (part.type === 'refusal')
          return text(requireString(part.refusal, `${partPath}.refusal`));
        return fail(
          `${partPath}.type`,
          `${quote(part.type)} parts are not allowed in assistant messages`,
          'invalid_value',
        );
      }),
    );
  }
  if (given(message.refusal)) out.push(...text(requireString(message.refusal, `${path}.refusal`)));
  return out;
}

/** An assistant message's `tool_calls` (an array, or absent), each with its path. */
export function toolCallsOf(message: Json, path: string): [unknown, string][] {
  const calls = message.tool_calls;
  if (!given(calls)) return [];
  if (!Array.isArray(calls)) fail(`${path}.tool_calls`, 'must be an array', 'invalid_type');
  return calls.map((call: unknown, j) => [call, `${path}.tool_calls[${j}]`]);
}
