import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  Turn,
  cacheControl,
  documentBlock,
  imageBlock,
  pushTurn,
  signedThinkingBlock,
  textBlock,
  toolId,
  toolInput,
  toolResult,
  withCache,
} from 'src/modules/relay/converters/shared/anthropic-content';
import { CHAT_PARAMETERS } from 'src/modules/relay/converters/shared/chat-request-checks';
import {
  assistantTexts,
  chatContent,
  forEachChatMessage,
  requireConversation,
  toolCallsOf,
} from 'src/modules/relay/converters/shared/chat-messages';
import {
  anthropicRequest,
  requireGenerate,
} from 'src/modules/relay/converters/shared/anthropic-request';
import {
  ADAPTIVE_THINKING_MAX_TOKENS,
  DEFAULT_MAX_TOKENS,
  MIN_THINKING_BUDGET,
  OutputCap,
  ReasoningEffort,
  THINKING_BUDGETS,
  ThinkingPlan,
  effortPlan,
  resolveLimits,
} from 'src/modules/relay/converters/shared/anthropic-sampling';
import {
  JSON_OBJECT_INSTRUCTION,
  JSON_SCHEMA_TOOL,
  ToolChoiceRequest,
  functionTool,
} from 'src/modules/relay/converters/shared/anthropic-tools';
import {
  Json,
  Refusal,
  checkFields,
  fail,
  given,
  isObject,
  never,
  quote,
  requireString,
} from 'src/modules/relay/converters/shared/openai-params';

/**
 * An OpenAI Chat Completions request body → an Anthropic Messages request body.
 *
 * Everything a client sends is either carried over, or refused with a 400 in OpenAI's shape that
 * names the parameter; nothing is dropped silently. The few fields accepted and ignored have no
 * effect a client could observe from Claude (they are best effort even at OpenAI) and are listed
 * in IGNORED_FIELDS and in docs/clients.md ("OpenAI-compatible clients on Claude models"):
 * `store`, `metadata`, `service_tier`, `seed`, `prompt_cache_key`, `prompt_cache_retention`,
 * `prompt_cache_options`, `stream_options.include_obfuscation`; on messages `name`, and on
 * assistant messages `reasoning_content` (Claude takes earlier thinking back only as signed
 * `thinking_blocks`); `image_url.detail`.
 *
 * Choices this module makes (documented in docs/clients.md):
 * - system and developer messages, wherever they stand, become the top-level `system` blocks in
 *   their order; consecutive turns of one role are merged, tool results first in a user turn.
 * - `max_completion_tokens` (else `max_tokens`) is a hard cap and is never raised. Without one,
 *   `max_tokens` is DEFAULT_MAX_TOKENS, or the thinking budget plus DEFAULT_MAX_TOKENS.
 * - `reasoning_effort` → `thinking: {type:'enabled', budget_tokens: THINKING_BUDGETS[effort]}`
 *   (`none` → `{type:'disabled'}`). When the client's cap is not above the budget, the budget
 *   becomes half the cap (at least 1024, so the cap must exceed 1024).
 * - `response_format: json_schema` → a forced tool (JSON_SCHEMA_TOOL) whose input schema is the
 *   schema; the converters turn its call back into the message content. It cannot be combined
 *   with thinking (Anthropic forbids forced tool use with thinking): 400.
 * - `response_format: json_object` → a system instruction to answer with one JSON object.
 * - `top_p: 1` is omitted: it is the untruncated default, and newer Claude models refuse
 *   `temperature` and `top_p` together.
 * - The legacy `functions` / `function_call` API is refused (use `tools`), as are tools other
 *   than `function`, `allowed_tools` tool choices, audio, logprobs, penalties, `n > 1`.
 * - Extension: Anthropic's own `thinking` object is accepted (as Anthropic's OpenAI
 *   compatibility layer does), exclusive with `reasoning_effort`.
 */

export {
  ADAPTIVE_THINKING_MAX_TOKENS,
  DEFAULT_MAX_TOKENS,
  JSON_OBJECT_INSTRUCTION,
  JSON_SCHEMA_TOOL,
  MIN_THINKING_BUDGET,
  THINKING_BUDGETS,
};
export type { ReasoningEffort };

/** What turns thinking on in a Chat Completions request, as error messages name it. */
const REASONING = 'reasoning_effort or thinking';

/** Accepted and ignored: no effect a client can observe from Claude (see the module comment). */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'store',
  'metadata',
  'service_tier',
  'seed',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
]);

/** Top-level fields this module reads (the extension `thinking` too); anything else is refused. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set(['thinking', ...CHAT_PARAMETERS]);

/** The Messages request plus what the response converters need to know about it. */
export interface ChatRequestPlan {
  /** The Anthropic Messages request body. */
  body: Json;
  /** The name of the tool that carries a `json_schema` answer, or null. */
  jsonTool: string | null;
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean;
}

/** Converts one Chat Completions request; throws OpenAIRequestException for what Claude cannot do. */
export function toAnthropicRequest(input: ConversionInput): ChatRequestPlan {
  requireGenerate(input, 'Chat Completions');
  const body = input.body;
  checkChatFields(body, input.stream);

  const { system, turns } = convertMessages(body.messages);
  const request = anthropicRequest(input, {
    reasoningParam: REASONING,
    system,
    turns,
    tools: convertTools(body.tools),
    toolChoice: chatToolChoice(body.tool_choice),
    thinking: resolveThinking(body),
    ...chatCap(body),
    format: body.response_format,
    formatParam: 'response_format',
    schemaOf: (format) => [format.json_schema, 'response_format.json_schema'],
    stopSequences: stopSequences(body.stop),
  });

  const options = body.stream_options;
  return {
    body: request.body,
    jsonTool: request.jsonTool,
    includeUsage: isObject(options) && options.include_usage === true,
  };
}

/**
 * The `max_tokens` the Messages request will carry, for admission and budget reservation before
 * the request is converted. Throws like toAnthropicRequest on bad token or thinking fields.
 */
export function anthropicMaxTokens(body: Json): number {
  const { cap, uncapped } = chatCap(body);
  return resolveLimits(cap, resolveThinking(body), uncapped).maxTokens;
}

// ---- top-level fields ------------------------------------------------------------------------

const REFUSALS: readonly Refusal[] = [
  {
    param: 'n',
    neutral: (v) => v === 1,
    reason: 'Claude models return one choice; only n = 1 is supported',
    code: 'unsupported_value',
  },
  {
    param: 'logprobs',
    neutral: (v) => v === false,
    reason: 'Claude models do not return log probabilities',
    code: 'unsupported_parameter',
  },
  {
    param: 'top_logprobs',
    neutral: (v) => v === 0,
    reason: 'Claude models do not return log probabilities',
    code: 'unsupported_parameter',
  },
  {
    param: 'presence_penalty',
    neutral: (v) => v === 0,
    reason: 'Claude models have no repetition penalties; only 0 is accepted',
    code: 'unsupported_parameter',
  },
  {
    param: 'frequency_penalty',
    neutral: (v) => v === 0,
    reason: 'Claude models have no repetition penalties; only 0 is accepted',
    code: 'unsupported_parameter',
  },
  {
    param: 'logit_bias',
    neutral: (v) => isObject(v) && Object.keys(v).length === 0,
    reason: 'Claude models do not accept token biases',
    code: 'unsupported_parameter',
  },
  {
    param: 'audio',
    neutral: never,
    reason: 'Claude models do not produce audio',
    code: 'unsupported_parameter',
  },
  {
    param: 'modalities',
    neutral: (v) => Array.isArray(v) && v.every((m) => m === 'text'),
    reason: "Claude models produce text only; only ['text'] is supported",
    code: 'unsupported_value',
  },
  {
    param: 'prediction',
    neutral: never,
    reason: 'Claude models do not support predicted outputs',
    code: 'unsupported_parameter',
  },
  {
    param: 'web_search_options',
    neutral: never,
    reason: 'web search is not available through Chat Completions on Claude models',
    code: 'unsupported_parameter',
  },
  {
    param: 'functions',
    neutral: never,
    reason: "the deprecated functions API is not supported; use 'tools'",
    code: 'unsupported_parameter',
  },
  {
    param: 'function_call',
    neutral: never,
    reason: "the deprecated functions API is not supported; use 'tool_choice'",
    code: 'unsupported_parameter',
  },
  {
    param: 'verbosity',
    neutral: (v) => v === 'medium',
    reason: "Claude models have no verbosity setting; only 'medium' (the default) is accepted",
    code: 'unsupported_value',
  },
  {
    param: 'moderation',
    neutral: never,
    reason: 'OpenAI moderation is not available on Claude models',
    code: 'unsupported_parameter',
  },
];

function checkChatFields(body: Json, stream: boolean): void {
  checkFields(body, KNOWN_FIELDS, REFUSALS);
  const options = body.stream_options;
  if (given(options)) {
    if (!stream) fail('stream_options', 'only allowed when stream is true', 'invalid_value');
    if (!isObject(options)) fail('stream_options', 'must be an object', 'invalid_type');
    if (given(options.include_usage) && typeof options.include_usage !== 'boolean') {
      fail('stream_options.include_usage', 'must be a boolean', 'invalid_type');
    }
  }
  if (given(body.parallel_tool_calls) && typeof body.parallel_tool_calls !== 'boolean') {
    fail('parallel_tool_calls', 'must be a boolean', 'invalid_type');
  }
}

function stopSequences(value: unknown): string[] | undefined {
  if (!given(value)) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) fail('stop', 'must be a string or an array of strings', 'invalid_type');
  const out = list.map((item, i) => {
    const text = requireString(item, `stop[${i}]`);
    // Anthropic refuses stop sequences made only of whitespace.
    if (text.trim().length === 0) {
      fail(
        'stop',
        'Claude models need stop sequences that contain a non-whitespace character',
        'invalid_value',
      );
    }
    return text;
  });
  return out.length > 0 ? out : undefined;
}

// ---- thinking and token limits ---------------------------------------------------------------

function resolveThinking(body: Json): ThinkingPlan {
  const effort = body.reasoning_effort;
  const thinking = body.thinking;
  if (given(effort) && given(thinking)) {
    fail('thinking', 'set either reasoning_effort or thinking, not both', 'invalid_value');
  }
  if (given(effort)) return effortPlan(effort, 'reasoning_effort');
  if (!given(thinking)) return { kind: 'none' };
  if (!isObject(thinking)) fail('thinking', 'must be an object', 'invalid_type');
  switch (thinking.type) {
    case 'disabled':
      return { kind: 'disabled' };
    case 'adaptive':
      return { kind: 'adaptive', display: thinking.display };
    case 'enabled': {
      const budget = thinking.budget_tokens;
      if (
        typeof budget !== 'number' ||
        !Number.isSafeInteger(budget) ||
        budget < MIN_THINKING_BUDGET
      ) {
        fail(
          'thinking.budget_tokens',
          `must be an integer of at least ${MIN_THINKING_BUDGET}`,
          'invalid_value',
        );
      }
      return { kind: 'budget', budget, display: thinking.display };
    }
    default:
      return fail(
        'thinking.type',
        `unsupported value ${quote(thinking.type)}; use enabled, adaptive or disabled`,
        'unsupported_value',
      );
  }
}

/**
 * `max_completion_tokens` (else `max_tokens`) caps; without either, DEFAULT_MAX_TOKENS of answer
 * room on top of any thinking budget.
 */
function chatCap(body: Json): { cap: OutputCap | null; uncapped: (budget: number) => number } {
  const param = given(body.max_completion_tokens)
    ? 'max_completion_tokens'
    : given(body.max_tokens)
      ? 'max_tokens'
      : null;
  return {
    cap: param === null ? null : { param, value: body[param] },
    uncapped: (budget) => budget + DEFAULT_MAX_TOKENS,
  };
}

// ---- tools -----------------------------------------------------------------------------------

function convertTools(value: unknown): Json[] | undefined {
  if (!given(value)) return undefined;
  if (!Array.isArray(value)) fail('tools', 'must be an array', 'invalid_type');
  if (value.length === 0) return undefined;
  return value.map((tool, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) fail(path, 'must be an object', 'invalid_type');
    if (tool.type !== 'function') {
      fail(
        `${path}.type`,
        `${quote(tool.type)} tools are not supported on Claude models; only 'function' tools are`,
        'unsupported_value',
      );
    }
    if (!isObject(tool.function)) fail(`${path}.function`, 'must be an object', 'invalid_type');
    return functionTool(tool.function, `${path}.function`);
  });
}

function chatToolChoice(choice: unknown): ToolChoiceRequest {
  if (!given(choice)) return { kind: 'unset' };
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { kind: choice };
  if (isObject(choice) && choice.type === 'function') {
    const fn = choice.function;
    const name = isObject(fn) ? fn.name : undefined;
    if (typeof name !== 'string')
      fail('tool_choice.function.name', 'must be a string', 'invalid_type');
    return { kind: 'tool', name, param: 'tool_choice.function.name' };
  }
  const type = isObject(choice) ? choice.type : choice;
  return fail(
    'tool_choice',
    `${quote(type)} is not supported on Claude models; use none, auto, required or a function`,
    'unsupported_value',
  );
}

// ---- messages --------------------------------------------------------------------------------

function convertMessages(value: unknown): { system: Json[]; turns: Turn[] } {
  const system: Json[] = [];
  const turns: Turn[] = [];
  forEachChatMessage(value, {
    system: (message, path) =>
      system.push(...textBlocks(message.content, `${path}.content`, false)),
    user: (message, path) =>
      pushTurn(turns, 'user', userBlocks(message.content, `${path}.content`)),
    assistant: (message, path) => pushTurn(turns, 'assistant', assistantBlocks(message, path)),
    tool: (message, path) => pushTurn(turns, 'user', [chatToolResult(message, path)]),
  });
  // Anthropic needs a conversation besides the system prompt; say so before a round trip.
  requireConversation(turns.length);
  return { system, turns };
}

/** A message's content as blocks: a string is one text block, parts are converted by `part`. */
function contentBlocks(
  content: unknown,
  path: string,
  part: (part: Record<string, unknown>, partPath: string) => Json[],
): Json[] {
  return chatContent(content, path, (text) => textBlock(text), part);
}

function textPartBlock(part: Record<string, unknown>, partPath: string): Json[] {
  return textBlock(requireString(part.text, `${partPath}.text`), cacheControl(part, partPath));
}

/** String or text parts (system, developer and tool content); tool content may carry images. */
function textBlocks(content: unknown, path: string, images: boolean): Json[] {
  return contentBlocks(content, path, (part, partPath) => {
    if (part.type === 'text') return textPartBlock(part, partPath);
    if (images && part.type === 'image_url') return [chatImageBlock(part, partPath)];
    return fail(
      `${partPath}.type`,
      `${quote(part.type)} parts are not allowed here; use text`,
      'invalid_value',
    );
  });
}

function userBlocks(content: unknown, path: string): Json[] {
  return contentBlocks(content, path, (part, partPath) => {
    switch (part.type) {
      case 'text':
        return textPartBlock(part, partPath);
      case 'image_url':
        return [chatImageBlock(part, partPath)];
      case 'file':
        return [chatDocumentBlock(part, partPath)];
      case 'input_audio':
        return fail(
          `${partPath}.type`,
          'Claude models do not accept audio input',
          'unsupported_value',
        );
      default:
        return fail(
          `${partPath}.type`,
          `unknown content part type ${quote(part.type)}`,
          'invalid_value',
        );
    }
  });
}

function chatImageBlock(part: Json, path: string): Json {
  // Some clients send the URL as a bare string rather than {url}; both mean the same image.
  const image = part.image_url;
  const url =
    typeof image === 'string'
      ? image
      : isObject(image)
        ? requireString(image.url, `${path}.image_url.url`)
        : undefined;
  if (url === undefined) fail(`${path}.image_url`, 'must be an object with a url', 'invalid_type');
  const urlPath = typeof image === 'string' ? `${path}.image_url` : `${path}.image_url.url`;
  return withCache(imageBlock(url, urlPath), part, path);
}

/** A `file` part with inline data: a PDF, or plain text. Uploaded file ids cannot be resolved. */
function chatDocumentBlock(part: Json, path: string): Json {
  const file = part.file;
  if (!isObject(file)) fail(`${path}.file`, 'must be an object', 'invalid_type');
  if (given(file.file_id) && !given(file.file_data)) {
    fail(
      `${path}.file.file_id`,
      'uploaded OpenAI files cannot be read from Claude models; send file_data',
      'unsupported_parameter',
    );
  }
  const dataPath = `${path}.file.file_data`;
  const block = documentBlock(requireString(file.file_data, dataPath), dataPath);
  if (given(file.filename)) block.title = requireString(file.filename, `${path}.file.filename`);
  return withCache(block, part, path);
}

function assistantBlocks(message: Json, path: string): Json[] {
  // Thinking blocks lead an assistant turn, exactly as Claude produced them.
  const blocks: Json[] = thinkingBlocks(message.thinking_blocks, `${path}.thinking_blocks`);
  blocks.push(
    ...assistantTexts(message, path, 'Claude models', (text, part, partPath) =>
      textBlock(text, part === undefined ? undefined : cacheControl(part, String(partPath))),
    ),
  );
  for (const [call, callPath] of toolCallsOf(message, path)) blocks.push(toolUse(call, callPath));
  return blocks;
}

function thinkingBlocks(value: unknown, path: string): Json[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail(path, 'must be an array', 'invalid_type');
  return value.map((block: unknown, k) => signedThinkingBlock(block, `${path}[${k}]`));
}

function toolUse(call: unknown, path: string): Json {
  if (!isObject(call)) fail(path, 'must be an object', 'invalid_type');
  if (call.type !== undefined && call.type !== 'function') {
    fail(
      `${path}.type`,
      `${quote(call.type)} tool calls are not supported on Claude models`,
      'unsupported_value',
    );
  }
  const id = requireString(call.id, `${path}.id`);
  const fn = call.function;
  if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
  const name = requireString(fn.name, `${path}.function.name`);
  const args = requireString(fn.arguments, `${path}.function.arguments`);
  return {
    type: 'tool_use',
    id: toolId(id),
    name,
    input: toolInput(args, `${path}.function.arguments`),
  };
}

function chatToolResult(message: Json, path: string): Json {
  const id = requireString(message.tool_call_id, `${path}.tool_call_id`);
  const content = message.content;
  return toolResult(
    id,
    `${path}.tool_call_id`,
    typeof content === 'string' ? content : textBlocks(content, `${path}.content`, true),
  );
}
