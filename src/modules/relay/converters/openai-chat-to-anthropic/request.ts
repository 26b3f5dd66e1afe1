import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  ChatRefusal,
  chatRefusal,
  checkChatFields,
  commonChatRefusals,
} from 'src/modules/relay/converters/shared/chat-request-checks';
import { OpenAIRequestException } from 'src/modules/relay/dialects/openai/openai-error';

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

type Json = Record<string, unknown>;

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';

/** Thinking budget per `reasoning_effort`; `max` plus the answer room stays within 32,000. */
export const THINKING_BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16384,
  xhigh: 24576,
  max: 27648,
};

/** `max_tokens` when the client sets no limit, and the answer room added to a thinking budget. */
export const DEFAULT_MAX_TOKENS = 4096;

/** `max_tokens` for adaptive thinking (the `thinking` extension) when the client sets no limit. */
export const ADAPTIVE_THINKING_MAX_TOKENS = THINKING_BUDGETS.high + DEFAULT_MAX_TOKENS;

/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;

/**
 * Base name of the tool that carries a `json_schema` answer. Tool names share one character set,
 * so no name is impossible for a client; a client tool of the same name gets a numbered suffix.
 */
export const JSON_SCHEMA_TOOL = 'switchyard_json_response';

/** What the json_object instruction tells Claude. */
export const JSON_OBJECT_INSTRUCTION =
  'Answer with one valid JSON object and nothing else: no prose before or after it and no ' +
  'Markdown code fences.';

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

/** Top-level fields this module reads; anything else is refused like OpenAI does. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'messages',
  'stream',
  'stream_options',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'stop',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'thinking',
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
  'verbosity',
  'moderation',
  ...IGNORED_FIELDS,
]);

const IMAGE_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'image/jpeg',
  'image/png',
  'image/gif',
  'image/webp',
]);

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
/** Anthropic tool_use ids allow only these characters. */
const TOOL_ID_INVALID = /[^A-Za-z0-9_-]/g;

/** The Messages request plus what the response converters need to know about it. */
export interface ChatRequestPlan {
  /** The Anthropic Messages request body. */
  body: Json;
  /** The name of the tool that carries a `json_schema` answer, or null. */
  jsonTool: string | null;
  /** `stream_options.include_usage`: the stream ends with a usage chunk. */
  includeUsage: boolean;
}

interface Turn {
  role: 'user' | 'assistant';
  content: Json[];
}

type ThinkingPlan =
  | { kind: 'none' }
  | { kind: 'disabled' }
  | { kind: 'effort'; effort: ReasoningEffort }
  | { kind: 'budget'; budget: number; display: unknown }
  | { kind: 'adaptive'; display: unknown };

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent for OpenAI: missing or null. */
function given(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function fail(param: string | null, reason: string, code = 'invalid_value'): never {
  throw new OpenAIRequestException(param, param === null ? reason : `${param}: ${reason}`, code);
}

function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function requireString(value: unknown, param: string): string {
  if (typeof value !== 'string') fail(param, 'must be a string', 'invalid_type');
  return value;
}

/** Converts one Chat Completions request; throws OpenAIRequestException for what Claude cannot do. */
export function toAnthropicRequest(input: ConversionInput): ChatRequestPlan {
  const body = input.body;
  if (input.operation !== 'generate') {
    fail(null, 'Chat Completions has no token-counting operation', 'unsupported_value');
  }
  checkChatFields(body, input.stream, KNOWN_FIELDS, REFUSALS);

  const { system, turns } = convertMessages(body.messages);
  const clientTools = convertTools(body.tools);
  const thinking = resolveThinking(body);
  const thinkingActive = thinking.kind !== 'none' && thinking.kind !== 'disabled';
  const limits = resolveLimits(body, thinking);

  const format = body.response_format;
  let jsonTool: string | null = null;
  let tools = clientTools;
  let toolChoice = convertToolChoice(body, clientTools, thinkingActive);
  if (isObject(format) && format.type === 'json_object') {
    system.push({ type: 'text', text: JSON_OBJECT_INSTRUCTION });
  } else if (isObject(format) && format.type === 'json_schema') {
    if (thinkingActive) {
      fail(
        'response_format',
        'json_schema cannot be combined with reasoning_effort or thinking on Claude models ' +
          '(structured answers use forced tool use, which extended thinking does not allow)',
        'unsupported_value',
      );
    }
    jsonTool = uniqueToolName(clientTools ?? []);
    tools = [...(clientTools ?? []), jsonSchemaTool(format, jsonTool)];
    toolChoice = jsonSchemaToolChoice(toolChoice, clientTools !== undefined, jsonTool);
  } else if (given(format) && !(isObject(format) && format.type === 'text')) {
    fail('response_format.type', `unsupported response format ${quote(format)}`, 'invalid_value');
  }

  const out: Json = { model: input.upstreamModel, max_tokens: limits.maxTokens };
  if (system.length > 0) out.system = system;
  out.messages = turns;
  if (tools !== undefined && tools.length > 0) out.tools = tools;
  if (toolChoice !== undefined) out.tool_choice = toolChoice;
  const stop = stopSequences(body.stop);
  if (stop !== undefined) out.stop_sequences = stop;
  const temperature = samplingTemperature(body.temperature, thinkingActive);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = nucleus(body.top_p, thinkingActive);
  if (topP !== undefined) out.top_p = topP;
  if (limits.thinking !== undefined) out.thinking = limits.thinking;
  const userId = endUser(body);
  if (userId !== undefined) out.metadata = { user_id: userId };
  if (input.stream) out.stream = true;

  const options = body.stream_options;
  return {
    body: out,
    jsonTool,
    includeUsage: isObject(options) && options.include_usage === true,
  };
}

/**
 * The `max_tokens` the Messages request will carry, for admission and budget reservation before
 * the request is converted. Throws like toAnthropicRequest on bad token or thinking fields.
 */
export function anthropicMaxTokens(body: Json): number {
  return resolveLimits(body, resolveThinking(body)).maxTokens;
}

// ---- top-level fields ------------------------------------------------------------------------

/** What Claude cannot honour besides what no converted upstream can. */
const REFUSALS: readonly ChatRefusal[] = [
  ...commonChatRefusals('Claude models'),
  chatRefusal(
    'web_search_options',
    'web search is not available through Chat Completions on Claude models',
  ),
  chatRefusal(
    'verbosity',
    "Claude models have no verbosity setting; only 'medium' (the default) is accepted",
    'unsupported_value',
    (v) => v === 'medium',
  ),
  chatRefusal('moderation', 'OpenAI moderation is not available on Claude models'),
];

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

function samplingTemperature(value: unknown, thinking: boolean): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    fail('temperature', 'must be a number', 'invalid_type');
  }
  if (value < 0)
    fail('temperature', `must be at least 0 (got ${value})`, 'decimal_below_min_value');
  if (value > 1) {
    fail('temperature', `Claude models accept 0 to 1 (got ${value})`, 'decimal_above_max_value');
  }
  if (thinking && value !== 1) {
    fail(
      'temperature',
      'must be 1 (or absent) with reasoning_effort or thinking on Claude models',
      'unsupported_value',
    );
  }
  return value;
}

function nucleus(value: unknown, thinking: boolean): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail('top_p', 'must be a number', 'invalid_type');
  if (value < 0 || value > 1)
    fail('top_p', `must be between 0 and 1 (got ${value})`, 'invalid_value');
  if (thinking && value < 0.95) {
    fail(
      'top_p',
      'must be between 0.95 and 1 with reasoning_effort or thinking on Claude models',
      'unsupported_value',
    );
  }
  return value === 1 ? undefined : value;
}

/** `safety_identifier` (OpenAI's successor of `user` for abuse tracking), else `user`. */
function endUser(body: Json): string | undefined {
  for (const key of ['safety_identifier', 'user']) {
    const value = body[key];
    if (!given(value)) continue;
    const text = requireString(value, key);
    if (text.length > 0) return text;
  }
  return undefined;
}

// ---- thinking and token limits ---------------------------------------------------------------

function resolveThinking(body: Json): ThinkingPlan {
  const effort = body.reasoning_effort;
  const thinking = body.thinking;
  if (given(effort) && given(thinking)) {
    fail('thinking', 'set either reasoning_effort or thinking, not both', 'invalid_value');
  }
  if (given(effort)) {
    if (effort === 'none') return { kind: 'disabled' };
    if (typeof effort === 'string' && Object.hasOwn(THINKING_BUDGETS, effort)) {
      return { kind: 'effort', effort: effort as ReasoningEffort };
    }
    fail(
      'reasoning_effort',
      `unsupported value ${quote(effort)}; use none, minimal, low, medium, high, xhigh or max`,
      'unsupported_value',
    );
  }
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
      fail(
        'thinking.type',
        `unsupported value ${quote(thinking.type)}; use enabled, adaptive or disabled`,
        'unsupported_value',
      );
  }
}

function withDisplay(config: Json, display: unknown): Json {
  if (given(display)) config.display = display;
  return config;
}

function resolveLimits(body: Json, thinking: ThinkingPlan): { maxTokens: number; thinking?: Json } {
  const param = given(body.max_completion_tokens)
    ? 'max_completion_tokens'
    : given(body.max_tokens)
      ? 'max_tokens'
      : null;
  let cap: number | null = null;
  if (param !== null) {
    const value = body[param];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      fail(param, `must be a positive integer (got ${quote(value)})`, 'invalid_value');
    }
    cap = value;
  }
  switch (thinking.kind) {
    case 'none':
      return { maxTokens: cap ?? DEFAULT_MAX_TOKENS };
    case 'disabled':
      return { maxTokens: cap ?? DEFAULT_MAX_TOKENS, thinking: { type: 'disabled' } };
    case 'adaptive':
      return {
        maxTokens: cap ?? ADAPTIVE_THINKING_MAX_TOKENS,
        thinking: withDisplay({ type: 'adaptive' }, thinking.display),
      };
    case 'budget': {
      if (cap !== null && cap <= thinking.budget) {
        fail('thinking.budget_tokens', `must be less than ${param} (${cap})`, 'invalid_value');
      }
      return {
        maxTokens: cap ?? thinking.budget + DEFAULT_MAX_TOKENS,
        thinking: withDisplay(
          { type: 'enabled', budget_tokens: thinking.budget },
          thinking.display,
        ),
      };
    }
    case 'effort': {
      let budget = THINKING_BUDGETS[thinking.effort];
      if (cap === null) {
        return {
          maxTokens: budget + DEFAULT_MAX_TOKENS,
          thinking: { type: 'enabled', budget_tokens: budget },
        };
      }
      // The client's cap counts thinking, as OpenAI's counts reasoning: keep it, shrink the budget.
      if (cap <= MIN_THINKING_BUDGET) {
        fail(
          param,
          `must be more than ${MIN_THINKING_BUDGET} with reasoning_effort: Claude's smallest ` +
            `thinking budget is ${MIN_THINKING_BUDGET} tokens`,
          'integer_below_min_value',
        );
      }
      if (cap <= budget) budget = Math.max(MIN_THINKING_BUDGET, Math.floor(cap / 2));
      return { maxTokens: cap, thinking: { type: 'enabled', budget_tokens: budget } };
    }
  }
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
    const fn = tool.function;
    if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
    const name = requireString(fn.name, `${path}.function.name`);
    if (name.length === 0) fail(`${path}.function.name`, 'must not be empty', 'invalid_value');
    const out: Json = { name };
    if (given(fn.description))
      out.description = requireString(fn.description, `${path}.function.description`);
    out.input_schema = objectSchema(fn.parameters, `${path}.function.parameters`);
    if (fn.strict === true) out.strict = true;
    return out;
  });
}

/** A JSON Schema for a tool input, which Anthropic requires to describe an object. */
function objectSchema(value: unknown, path: string): Json {
  if (!given(value)) return { type: 'object', properties: {} };
  if (!isObject(value)) fail(path, 'must be a JSON Schema object', 'invalid_type');
  if (value.type === undefined) return { type: 'object', ...value };
  if (value.type !== 'object') {
    fail(
      `${path}.type`,
      `the root of the schema must be of type 'object' (got ${quote(value.type)})`,
      'invalid_value',
    );
  }
  return value;
}

function convertToolChoice(
  body: Json,
  tools: Json[] | undefined,
  thinking: boolean,
): Json | undefined {
  const choice = body.tool_choice;
  const noParallel = body.parallel_tool_calls === false;
  const hasTools = tools !== undefined;
  let out: Json;
  if (!given(choice) || choice === 'auto') {
    if (!hasTools) return undefined;
    if (!given(choice) && !noParallel) return undefined;
    out = { type: 'auto' };
  } else if (choice === 'none') {
    return hasTools ? { type: 'none' } : undefined;
  } else if (choice === 'required') {
    if (!hasTools) fail('tool_choice', "'required' needs tools", 'invalid_value');
    forcedWithThinking(thinking);
    out = { type: 'any' };
  } else if (isObject(choice) && choice.type === 'function') {
    const fn = choice.function;
    const name = isObject(fn) ? fn.name : undefined;
    if (typeof name !== 'string')
      fail('tool_choice.function.name', 'must be a string', 'invalid_type');
    if (!hasTools || !tools.some((tool) => tool.name === name)) {
      fail('tool_choice.function.name', `no tool named ${quote(name)} in tools`, 'invalid_value');
    }
    forcedWithThinking(thinking);
    out = { type: 'tool', name };
  } else {
    const type = isObject(choice) ? choice.type : choice;
    fail(
      'tool_choice',
      `${quote(type)} is not supported on Claude models; use none, auto, required or a function`,
      'unsupported_value',
    );
  }
  if (noParallel) out.disable_parallel_tool_use = true;
  return out;
}

function forcedWithThinking(thinking: boolean): void {
  if (thinking) {
    fail(
      'tool_choice',
      'Claude models cannot be forced to call a tool with reasoning_effort or thinking; use auto',
      'unsupported_value',
    );
  }
}

function uniqueToolName(tools: Json[]): string {
  const names = new Set(tools.map((tool) => tool.name));
  let name = JSON_SCHEMA_TOOL;
  for (let i = 2; names.has(name); i++) name = `${JSON_SCHEMA_TOOL}_${i}`;
  return name;
}

function jsonSchemaTool(format: Json, name: string): Json {
  const spec = format.json_schema;
  if (!isObject(spec)) fail('response_format.json_schema', 'must be an object', 'invalid_type');
  const schemaName = requireString(spec.name, 'response_format.json_schema.name');
  const what = given(spec.description)
    ? ` (${requireString(spec.description, 'response_format.json_schema.description')})`
    : '';
  const tool: Json = {
    name,
    description:
      `Give your final answer to the user by calling this tool. Its input is the answer: a JSON ` +
      `value following the "${schemaName}" schema${what}.`,
    input_schema: objectSchema(spec.schema, 'response_format.json_schema.schema'),
  };
  if (spec.strict === true) tool.strict = true;
  return tool;
}

/**
 * The tool choice that makes Claude answer through the JSON tool. With client tools in play the
 * model must still be free to call them, so it is made to call some tool (`any`); a client's
 * named tool stays forced; otherwise the JSON tool itself is forced.
 */
function jsonSchemaToolChoice(
  choice: Json | undefined,
  clientTools: boolean,
  jsonTool: string,
): Json {
  if (choice?.type === 'tool') return choice;
  const out: Json =
    clientTools && choice?.type !== 'none' ? { type: 'any' } : { type: 'tool', name: jsonTool };
  if (choice?.disable_parallel_tool_use === true) out.disable_parallel_tool_use = true;
  return out;
}

// ---- messages --------------------------------------------------------------------------------

function convertMessages(value: unknown): { system: Json[]; turns: Turn[] } {
  if (!Array.isArray(value) || value.length === 0) {
    fail('messages', 'must be a non-empty array', 'invalid_value');
  }
  const system: Json[] = [];
  const turns: Turn[] = [];
  value.forEach((message: unknown, i) => {
    const path = `messages[${i}]`;
    if (!isObject(message)) fail(path, 'must be an object', 'invalid_type');
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...textBlocks(message.content, `${path}.content`, false));
        break;
      case 'user':
        pushTurn(turns, 'user', userBlocks(message.content, `${path}.content`));
        break;
      case 'assistant':
        pushTurn(turns, 'assistant', assistantBlocks(message, path));
        break;
      case 'tool':
        pushTurn(turns, 'user', [toolResult(message, path)]);
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
  if (turns.length === 0) {
    // Anthropic needs a conversation besides the system prompt; say so before a round trip.
    fail(
      'messages',
      'needs at least one user, assistant or tool message with content',
      'invalid_value',
    );
  }
  return { system, turns };
}

/** Appends blocks as a turn, merging into the previous turn of the same role. */
function pushTurn(turns: Turn[], role: Turn['role'], blocks: Json[]): void {
  if (blocks.length === 0) return;
  const last = turns.at(-1);
  if (last === undefined || last.role !== role) {
    turns.push({ role, content: blocks });
    return;
  }
  last.content.push(...blocks);
  if (role === 'user') {
    // Anthropic wants a user turn's tool results before anything else in it.
    const results = last.content.filter((block) => block.type === 'tool_result');
    if (results.length > 0) {
      last.content = [...results, ...last.content.filter((block) => block.type !== 'tool_result')];
    }
  }
}

function textBlock(text: string, cache?: Json): Json[] {
  // Anthropic refuses empty text blocks; an empty string carries nothing to keep.
  if (text.length === 0) return [];
  const block: Json = { type: 'text', text };
  if (cache !== undefined) block.cache_control = cache;
  return [block];
}

/** `prompt_cache_breakpoint` → Anthropic `cache_control` (1h honours OpenAI's 30m minimum). */
function cacheControl(part: Json, path: string): Json | undefined {
  const breakpoint = part.prompt_cache_breakpoint;
  if (!given(breakpoint)) return undefined;
  if (!isObject(breakpoint))
    fail(`${path}.prompt_cache_breakpoint`, 'must be an object', 'invalid_type');
  const ttl = breakpoint.ttl;
  if (given(ttl) && ttl !== '30m') {
    fail(
      `${path}.prompt_cache_breakpoint.ttl`,
      `Claude caches for at most 1h; ${quote(ttl)} cannot be honoured`,
      'unsupported_value',
    );
  }
  return { type: 'ephemeral', ttl: '1h' };
}

/**
 * A message's content as blocks: a string is one text block; an array is converted part by part
 * (`part` gets each object part with its path), anything else is refused.
 */
function contentBlocks(
  content: unknown,
  path: string,
  part: (part: Record<string, unknown>, partPath: string) => Json[],
): Json[] {
  if (typeof content === 'string') return textBlock(content);
  if (!Array.isArray(content))
    fail(path, 'must be a string or an array of content parts', 'invalid_type');
  return content.flatMap((item: unknown, j) => {
    const partPath = `${path}[${j}]`;
    if (!isObject(item)) fail(partPath, 'must be an object', 'invalid_type');
    return part(item, partPath);
  });
}

function textPartBlock(part: Record<string, unknown>, partPath: string): Json[] {
  return textBlock(requireString(part.text, `${partPath}.text`), cacheControl(part, partPath));
}

/** String or text parts (system, developer and tool content); tool content may carry images. */
function textBlocks(content: unknown, path: string, images: boolean): Json[] {
  return contentBlocks(content, path, (part, partPath) => {
    if (part.type === 'text') return textPartBlock(part, partPath);
    if (images && part.type === 'image_url') return [imageBlock(part, partPath)];
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
        return [imageBlock(part, partPath)];
      case 'file':
        return [documentBlock(part, partPath)];
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

interface DataUrl {
  mediaType: string;
  data: string;
}

/** `data:<media type>[;params];base64,<data>`; null when `url` is not a data URL at all. */
function parseDataUrl(url: string, path: string): DataUrl | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma === -1) fail(path, 'malformed data URL (no comma)', 'invalid_value');
  const meta = url.slice(5, comma).split(';');
  if (!meta.slice(1).some((param) => param.trim().toLowerCase() === 'base64')) {
    fail(path, 'data URLs must be base64-encoded (data:<type>;base64,<data>)', 'invalid_value');
  }
  const data = url.slice(comma + 1);
  if (data.length === 0 || !BASE64.test(data))
    fail(path, 'the data URL does not hold valid base64', 'invalid_value');
  return { mediaType: meta[0].trim().toLowerCase(), data };
}

function imageBlock(part: Json, path: string): Json {
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
  const block: Json = { type: 'image' };
  const dataUrl = parseDataUrl(url, urlPath);
  if (dataUrl !== null) {
    const mediaType = dataUrl.mediaType === 'image/jpg' ? 'image/jpeg' : dataUrl.mediaType;
    if (!IMAGE_MEDIA_TYPES.has(mediaType)) {
      fail(
        urlPath,
        `image type ${quote(dataUrl.mediaType)} is not supported; use JPEG, PNG, GIF or WebP`,
        'invalid_value',
      );
    }
    block.source = { type: 'base64', media_type: mediaType, data: dataUrl.data };
  } else if (/^https?:\/\//i.test(url)) {
    block.source = { type: 'url', url };
  } else {
    fail(urlPath, 'must be an http(s) URL or a base64 data URL', 'invalid_value');
  }
  const cache = cacheControl(part, path);
  if (cache !== undefined) block.cache_control = cache;
  return block;
}

/** A `file` part with inline data: a PDF, or plain text. Uploaded file ids cannot be resolved. */
function documentBlock(part: Json, path: string): Json {
  const file = part.file;
  if (!isObject(file)) fail(`${path}.file`, 'must be an object', 'invalid_type');
  if (given(file.file_id) && !given(file.file_data)) {
    fail(
      `${path}.file.file_id`,
      'uploaded OpenAI files cannot be read from Claude models; send file_data',
      'unsupported_parameter',
    );
  }
  const raw = requireString(file.file_data, `${path}.file.file_data`);
  const dataPath = `${path}.file.file_data`;
  // file_data is a data URL in OpenAI's examples; bare base64 is accepted when it is a PDF.
  const dataUrl =
    parseDataUrl(raw, dataPath) ??
    (raw.startsWith('JVBERi0') && BASE64.test(raw)
      ? { mediaType: 'application/pdf', data: raw }
      : null);
  if (dataUrl === null)
    fail(dataPath, 'must be a base64 data URL (data:application/pdf;base64,…)', 'invalid_value');
  const block: Json = { type: 'document' };
  if (dataUrl.mediaType === 'application/pdf') {
    block.source = { type: 'base64', media_type: 'application/pdf', data: dataUrl.data };
  } else if (dataUrl.mediaType === 'text/plain') {
    block.source = {
      type: 'text',
      media_type: 'text/plain',
      data: Buffer.from(dataUrl.data, 'base64').toString('utf8'),
    };
  } else {
    fail(
      dataPath,
      `file type ${quote(dataUrl.mediaType)} is not supported; Claude models read PDF and plain-text files`,
      'invalid_value',
    );
  }
  if (given(file.filename)) block.title = requireString(file.filename, `${path}.file.filename`);
  const cache = cacheControl(part, path);
  if (cache !== undefined) block.cache_control = cache;
  return block;
}

function toolId(id: string): string {
  return id.replace(TOOL_ID_INVALID, '_');
}

function assistantBlocks(message: Json, path: string): Json[] {
  if (given(message.function_call)) {
    fail(
      `${path}.function_call`,
      "the deprecated functions API is not supported; use 'tool_calls'",
      'unsupported_parameter',
    );
  }
  if (given(message.audio)) {
    fail(
      `${path}.audio`,
      'Claude models cannot take back an audio response',
      'unsupported_parameter',
    );
  }
  // Thinking blocks lead an assistant turn, exactly as Claude produced them.
  const blocks: Json[] = thinkingBlocks(message.thinking_blocks, `${path}.thinking_blocks`);
  const content = message.content;
  if (typeof content === 'string') {
    blocks.push(...textBlock(content));
  } else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const partPath = `${path}.content[${j}]`;
      if (!isObject(part)) fail(partPath, 'must be an object', 'invalid_type');
      if (part.type === 'text')
        blocks.push(
          ...textBlock(requireString(part.text, `${partPath}.text`), cacheControl(part, partPath)),
        );
      else if (part.type === 'refusal')
        blocks.push(...textBlock(requireString(part.refusal, `${partPath}.refusal`)));
      else
        fail(
          `${partPath}.type`,
          `${quote(part.type)} parts are not allowed in assistant messages`,
          'invalid_value',
        );
    });
  } else if (given(content)) {
    fail(`${path}.content`, 'must be a string, an array of content parts or null', 'invalid_type');
  }
  if (given(message.refusal))
    blocks.push(...textBlock(requireString(message.refusal, `${path}.refusal`)));
  const calls = message.tool_calls;
  if (given(calls)) {
    if (!Array.isArray(calls)) fail(`${path}.tool_calls`, 'must be an array', 'invalid_type');
    calls.forEach((call: unknown, j) => blocks.push(toolUse(call, `${path}.tool_calls[${j}]`)));
  }
  return blocks;
}

function thinkingBlocks(value: unknown, path: string): Json[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail(path, 'must be an array', 'invalid_type');
  return value.map((block: unknown, k) => {
    const blockPath = `${path}[${k}]`;
    if (!isObject(block)) fail(blockPath, 'must be an object', 'invalid_type');
    if (block.type === 'thinking') {
      const signature = block.signature;
      if (typeof signature !== 'string' || signature.length === 0) {
        fail(
          `${blockPath}.signature`,
          'required: pass thinking blocks back exactly as received',
          'invalid_value',
        );
      }
      return {
        type: 'thinking',
        thinking: requireString(block.thinking, `${blockPath}.thinking`),
        signature,
      };
    }
    if (block.type === 'redacted_thinking') {
      return { type: 'redacted_thinking', data: requireString(block.data, `${blockPath}.data`) };
    }
    return fail(
      `${blockPath}.type`,
      `must be 'thinking' or 'redacted_thinking' (got ${quote(block.type)})`,
      'invalid_value',
    );
  });
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
  let input: unknown = {};
  // Some clients send '' for a call without arguments.
  if (args.trim().length > 0) {
    try {
      input = JSON.parse(args);
    } catch {
      fail(`${path}.function.arguments`, 'is not valid JSON', 'invalid_value');
    }
  }
  if (!isObject(input))
    fail(`${path}.function.arguments`, 'must be a JSON object', 'invalid_value');
  return { type: 'tool_use', id: toolId(id), name, input };
}

function toolResult(message: Json, path: string): Json {
  const id = requireString(message.tool_call_id, `${path}.tool_call_id`);
  if (id.length === 0) fail(`${path}.tool_call_id`, 'must not be empty', 'invalid_value');
  const block: Json = { type: 'tool_result', tool_use_id: toolId(id) };
  const content = message.content;
  if (typeof content === 'string') {
    if (content.length > 0) block.content = content;
  } else {
    const blocks = textBlocks(content, `${path}.content`, true);
    if (blocks.length > 0) block.content = blocks;
  }
  return block;
}
