import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/**
 * Reading an Anthropic Messages request body field by field, shared by the converters from the
 * Messages API (to Gemini, to Chat Completions): type checks and refusals that become a 400 in
 * Anthropic's shape naming the field, and the parts whose reading does not depend on where the
 * request goes (the fields every converter knows, system text, message content blocks, stop
 * sequences, `top_k`, thinking, the answer's JSON Schema, custom tools, tool choice, image and
 * document sources, tool uses and tool results). Each converter maps what is read to its upstream.
 *
 * `where` arguments name the upstream in refusals ("Gemini models", "this model").
 */

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent for Anthropic: missing or null. */
export function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** A value as it may appear in an error message: JSON, cut short. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

/** A 400 in Anthropic's shape; the message leads with the field, as Anthropic's own do. */
export function fail(param: string, reason: string): never {
  throw new RelayException(RelayExceptionCode.INVALID_REQUEST, `${param}: ${reason}`, null, param);
}

export function requireString(value: unknown, path: string): string {
  if (typeof value !== 'string') fail(path, 'Input should be a valid string');
  return value;
}

export function requireObject(value: unknown, path: string): Json {
  if (!isObject(value)) fail(path, 'Input should be a valid object');
  return value;
}

/** The top-level fields every Messages converter reads; each adds its own and its ignored ones. */
export const MESSAGES_FIELDS: readonly string[] = [
  'model',
  'messages',
  'system',
  'max_tokens',
  'stop_sequences',
  'stream',
  'temperature',
  'top_p',
  'top_k',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
  'output_format',
];

/** Refuses top-level fields outside `known`, as Anthropic does. */
export function checkKnownFields(body: Json, known: ReadonlySet<string>): void {
  for (const key of Object.keys(body)) {
    if (!known.has(key)) fail(key, 'Extra inputs are not permitted');
  }
}

/** `stop_sequences`; undefined when absent or empty. */
export function stopSequences(value: unknown): string[] | undefined {
  if (!given(value)) return undefined;
  if (!Array.isArray(value)) fail('stop_sequences', 'Input should be a valid list');
  const list = value.map((item, i) => requireString(item, `stop_sequences.${i}`));
  return list.length > 0 ? list : undefined;
}

/** `top_k`: a non-negative integer, or undefined when absent. */
export function topK(value: unknown): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail('top_k', 'Input should be a non-negative integer');
  }
  return value;
}

/** `system` (a string or text blocks) as its texts, in order; empty ones included. */
export function systemTexts(value: unknown): string[] {
  if (!given(value)) return [];
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value))
    fail('system', 'Input should be a valid string or list of text blocks');
  return value.map((block: unknown, i) => {
    const spec = requireObject(block, `system.${i}`);
    if (spec.type !== 'text') fail(`system.${i}.type`, "system blocks must be 'text' blocks");
    return requireString(spec.text, `system.${i}.text`);
  });
}

/** `messages` as a list (not yet read one by one). */
export function messageList(value: unknown): unknown[] {
  if (!Array.isArray(value)) fail('messages', 'Input should be a valid list');
  return value;
}

/** The `i`-th message: its role (unchecked), its content as blocks and the content's path. */
export function readMessage(
  message: unknown,
  i: number,
): { role: unknown; blocks: Json[]; path: string } {
  const path = `messages.${i}`;
  const spec = requireObject(message, path);
  const blocks = contentBlocks(spec.content, `${path}.content`);
  return { role: spec.role, blocks, path: `${path}.content` };
}

/** A message's content as blocks (a string is one text block). */
export function contentBlocks(content: unknown, path: string): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) fail(path, 'Input should be a valid string or list of blocks');
  return content.map((block: unknown, j) => requireObject(block, `${path}.${j}`));
}

// ---- thinking and the answer's format --------------------------------------------------------

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/** `thinking` as read; `display` is the client's (checked only when asked to). */
export type ThinkingRequest =
  | { type: 'disabled' }
  | { type: 'adaptive'; display: unknown }
  | { type: 'enabled'; budget: number; display: unknown };

/**
 * `thinking`, its budget checked as Anthropic checks it (at least MIN_THINKING_BUDGET, below
 * `max_tokens` when that is known). `checkDisplay`: refuse a `display` other than summarized or
 * omitted (first, before the type).
 */
export function readThinking(
  value: unknown,
  maxTokens: number | undefined,
  checkDisplay: boolean,
): ThinkingRequest | undefined {
  if (!given(value)) return undefined;
  const thinking = requireObject(value, 'thinking');
  const display = thinking.display;
  if (checkDisplay && given(display) && display !== 'summarized' && display !== 'omitted') {
    fail('thinking.display', `unsupported value ${quote(display)}; use summarized or omitted`);
  }
  switch (thinking.type) {
    case 'disabled':
      return { type: 'disabled' };
    case 'adaptive':
      return { type: 'adaptive', display };
    case 'enabled': {
      const budget = thinking.budget_tokens;
      if (
        typeof budget !== 'number' ||
        !Number.isSafeInteger(budget) ||
        budget < MIN_THINKING_BUDGET
      ) {
        fail(
          'thinking.budget_tokens',
          `Input should be an integer of at least ${MIN_THINKING_BUDGET}`,
        );
      }
      if (maxTokens !== undefined && budget >= maxTokens) {
        fail('thinking.budget_tokens', `must be less than max_tokens (${maxTokens})`);
      }
      return { type: 'enabled', budget, display };
    }
    default:
      return fail(
        'thinking.type',
        `unsupported value ${quote(thinking.type)}; use enabled, adaptive or disabled`,
      );
  }
}

/** The answer's JSON Schema from `output_config.format` (or the older `output_format`). */
export function outputSchema(body: Json): Json | undefined {
  let format: unknown = body.output_format;
  let path = 'output_format';
  if (given(body.output_config)) {
    const config = requireObject(body.output_config, 'output_config');
    for (const key of Object.keys(config)) {
      if (key !== 'format' && key !== 'effort') {
        fail(`output_config.${key}`, 'Extra inputs are not permitted');
      }
    }
    if (given(config.format)) {
      if (given(format))
        fail('output_format', 'set output_config.format or output_format, not both');
      format = config.format;
      path = 'output_config.format';
    }
  }
  if (!given(format)) return undefined;
  const spec = requireObject(format, path);
  if (spec.type !== 'json_schema') {
    fail(`${path}.type`, `unsupported value ${quote(spec.type)}; use json_schema`);
  }
  return requireObject(spec.schema, `${path}.schema`);
}

// ---- tools -----------------------------------------------------------------------------------

/** A custom tool as read: its spec, its name and where it stands. */
export interface CustomTool {
  spec: Json;
  name: string;
  path: string;
}

/** `tools`, custom tools only (server tools are refused), each mapped as it is read. */
export function customTools<T>(value: unknown, where: string, map: (tool: CustomTool) => T): T[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail('tools', 'Input should be a valid list');
  return value.map((tool: unknown, i) => {
    const path = `tools.${i}`;
    const spec = requireObject(tool, path);
    if (given(spec.type) && spec.type !== 'custom') {
      fail(
        `${path}.type`,
        `${quote(spec.type)} tools run on Anthropic's servers and are not available on ${where}; only custom tools are`,
      );
    }
    return map({ spec, name: requireString(spec.name, `${path}.name`), path });
  });
}

export type ToolChoiceRequest = { disableParallel: boolean } & (
  { type: 'auto' | 'any' | 'none' } | { type: 'tool'; name: string }
);

/**
 * `tool_choice`. `parallelRefusal`: the reason to refuse `disable_parallel_tool_use: true` with
 * (first, before the type), for an upstream that cannot honour it.
 */
export function readToolChoice(
  value: unknown,
  parallelRefusal?: string,
): ToolChoiceRequest | undefined {
  if (!given(value)) return undefined;
  const choice = requireObject(value, 'tool_choice');
  const disableParallel = choice.disable_parallel_tool_use === true;
  if (disableParallel && parallelRefusal !== undefined) {
    fail('tool_choice.disable_parallel_tool_use', parallelRefusal);
  }
  switch (choice.type) {
    case 'auto':
    case 'any':
    case 'none':
      return { type: choice.type, disableParallel };
    case 'tool':
      return {
        type: 'tool',
        name: requireString(choice.name, 'tool_choice.name'),
        disableParallel,
      };
    default:
      return fail(
        'tool_choice.type',
        `unsupported value ${quote(choice.type)}; use auto, any, tool or none`,
      );
  }
}

/** A `tool_use` block of an assistant turn: its id, name and input. */
export function readToolUse(block: Json, path: string): { id: string; name: string; input: Json } {
  const id = requireString(block.id, `${path}.id`);
  const name = requireString(block.name, `${path}.name`);
  const input = given(block.input) ? requireObject(block.input, `${path}.input`) : {};
  return { id, name, input };
}

/**
 * A `tool_result` block's content (`path` is its own): a string is one text, absent none; in a
 * list of blocks each text block is handed to `text` and each image or document block to
 * `media`, in order. Other blocks are refused (`where` names the upstream).
 */
export function readToolResultContent(
  content: unknown,
  path: string,
  where: string,
  visit: { text: (value: string) => void; media: (block: Json, path: string) => void },
): void {
  if (!given(content)) return;
  if (typeof content === 'string') {
    visit.text(content);
    return;
  }
  contentBlocks(content, path).forEach((inner, k) => {
    const innerPath = `${path}.${k}`;
    if (inner.type === 'text') visit.text(requireString(inner.text, `${innerPath}.text`));
    else if (inner.type === 'image' || inner.type === 'document') visit.media(inner, innerPath);
    else
      fail(
        `${innerPath}.type`,
        `${quote(inner.type)} blocks are not supported in tool results on ${where}`,
      );
  });
}

// ---- sources of images and documents ---------------------------------------------------------

export type Source =
  | { type: 'base64'; mediaType: string; data: string }
  | { type: 'url'; url: string }
  | { type: 'text'; data: string };

/**
 * An image's or document's `source`, of one of the `accepted` types; another type is refused
 * with `unsupported` after the quoted type ("sources cannot be read …; use base64 or url").
 */
export function readSource<T extends Source['type']>(
  block: Json,
  path: string,
  accepted: readonly T[],
  unsupported: string,
): Extract<Source, { type: T }> {
  const source = requireObject(block.source, `${path}.source`);
  const type = source.type as T;
  if (!accepted.includes(type)) fail(`${path}.source.type`, `${quote(type)} ${unsupported}`);
  let read: Source;
  switch (type) {
    case 'base64':
      read = {
        type,
        mediaType: requireString(source.media_type, `${path}.source.media_type`),
        data: requireString(source.data, `${path}.source.data`),
      };
      break;
    case 'url':
      read = { type, url: requireString(source.url, `${path}.source.url`) };
      break;
    case 'text':
      read = { type, data: requireString(source.data, `${path}.source.data`) };
      break;
  }
  return read as Extract<Source, { type: T }>;
}
