import type { ConversionInput } from 'src/modules/relay/converters/converter';
import * as anthropic from 'src/modules/relay/converters/shared/anthropic-content';
import {
  anthropicRequest,
  requireGenerate,
} from 'src/modules/relay/converters/shared/anthropic-request';
import {
  OutputCap,
  ThinkingPlan,
  effortPlan,
  resolveLimits,
} from 'src/modules/relay/converters/shared/anthropic-sampling';
import {
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
  requireArray,
  requireObject,
  requireString,
} from 'src/modules/relay/converters/shared/openai-params';

/**
 * An OpenAI Responses request body (`POST /v1/responses`, what Codex CLI and the openai SDKs'
 * `responses.create` send) → an Anthropic Messages request body.
 *
 * As with Chat Completions, everything is carried over, refused with a 400 in OpenAI's shape
 * naming the parameter, or, for the fields in IGNORED_FIELDS and the few listed below, accepted
 * without effect. What maps to what is in docs/clients.md ("Codex CLI and the Responses API on
 * Claude models"). The choices made here:
 *
 * - Nothing is stored: `previous_response_id`, `conversation`, `item_reference` items, stored
 *   `prompt`s and `background` runs need server-side state and are refused. `store` is accepted
 *   either way (Codex sends false; the Response says `store: false`).
 * - `instructions` and system/developer messages become the top-level `system` blocks, in order.
 *   Items become turns: messages, `function_call` / `custom_tool_call` / `local_shell_call` →
 *   assistant `tool_use`, their outputs → user `tool_result` (consecutive ones, from parallel
 *   calls, in one user turn).
 * - `reasoning` items: Claude's signed thinking travels in `encrypted_content` (see
 *   encodeThinking), so a client that sends the output items back (Codex does, with
 *   `store: false`) continues tool use with thinking. Reasoning items without it, or with
 *   OpenAI's own encrypted reasoning, which Claude cannot read, are dropped; so are
 *   `web_search_call` items (the search ran on Anthropic's side; its findings live on in the
 *   answer that follows).
 * - Tools: `function` as is; `custom` (freeform, e.g. Codex's `apply_patch` with its Lark grammar)
 *   → a tool taking one string `input`, the grammar in its description; `local_shell` → a tool
 *   with the exec action's schema (LOCAL_SHELL_TOOL); `web_search` → Anthropic's web search
 *   server tool, except in cached mode (`external_web_access: false`, Codex's default), which
 *   Claude cannot honour: the tool is then left out rather than searching the live web.
 * - `max_output_tokens` is a hard cap; without one `max_tokens` is DEFAULT_MAX_OUTPUT_TOKENS
 *   (Responses clients such as Codex never set a limit and expect the model's full output).
 * - `reasoning.effort` → a thinking budget as for Chat Completions' `reasoning_effort`.
 * - `text.format` json_schema / json_object → as Chat Completions' `response_format`.
 */

/**
 * `max_tokens` without `max_output_tokens`: the largest output every current Claude model
 * accepts (Opus 4 and 4.1 allow 32,000), with room for the largest thinking budget (27,648).
 */
export const DEFAULT_MAX_OUTPUT_TOKENS = 32000;

/** The Claude tool that stands for the built-in `local_shell` tool. */
export const LOCAL_SHELL_TOOL = 'local_shell';

/** The name of Anthropic's web search server tool. */
export const WEB_SEARCH_TOOL = 'web_search';

/** Accepted and ignored: no effect a client can observe from Claude. */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'store',
  'metadata',
  'service_tier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
  // Codex CLI sends its own string map (installation and session ids).
  'client_metadata',
]);

/** Top-level fields this module reads; anything else is refused like OpenAI does. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([
  'model',
  'input',
  'instructions',
  'stream',
  'stream_options',
  'max_output_tokens',
  'max_tool_calls',
  'temperature',
  'top_p',
  'top_logprobs',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'reasoning',
  'text',
  'include',
  'truncation',
  'user',
  'safety_identifier',
  'previous_response_id',
  'conversation',
  'background',
  'background_options',
  'prompt',
  'moderation',
  'context_management',
  'image',
  'access_programs',
  ...IGNORED_FIELDS,
]);

const NO_STATE =
  'Switchyard stores no responses or conversations; send the whole conversation in input';

const REFUSALS: readonly Refusal[] = [
  {
    param: 'previous_response_id',
    neutral: never,
    reason: NO_STATE,
    code: 'unsupported_parameter',
  },
  { param: 'conversation', neutral: never, reason: NO_STATE, code: 'unsupported_parameter' },
  {
    param: 'background',
    neutral: (v) => v === false,
    reason: 'background responses need stored responses, which Switchyard does not keep',
    code: 'unsupported_value',
  },
  {
    param: 'background_options',
    neutral: never,
    reason: 'background responses need stored responses, which Switchyard does not keep',
    code: 'unsupported_parameter',
  },
  {
    param: 'prompt',
    neutral: never,
    reason: 'stored prompt templates live at OpenAI; send instructions and input instead',
    code: 'unsupported_parameter',
  },
  {
    param: 'moderation',
    neutral: never,
    reason: 'OpenAI moderation is not available on Claude models',
    code: 'unsupported_parameter',
  },
  {
    param: 'context_management',
    neutral: (v) => Array.isArray(v) && v.length === 0,
    reason: 'server-side compaction is not available on Claude models',
    code: 'unsupported_parameter',
  },
  {
    param: 'image',
    neutral: never,
    reason: 'image options are not available on Claude models',
    code: 'unsupported_parameter',
  },
  {
    param: 'access_programs',
    neutral: never,
    reason: 'OpenAI access programs do not apply to Claude models',
    code: 'unsupported_parameter',
  },
  {
    param: 'top_logprobs',
    neutral: (v) => v === 0,
    reason: 'Claude models do not return log probabilities',
    code: 'unsupported_parameter',
  },
  {
    param: 'truncation',
    neutral: (v) => v === 'disabled',
    reason:
      "Claude models do not drop earlier input to fit the context window; only 'disabled' " +
      '(the default) is accepted',
    code: 'unsupported_value',
  },
];

/** `include` values: honoured, or without effect because what they name never occurs here. */
const INCLUDABLE: ReadonlySet<string> = new Set([
  // Honoured: reasoning items always carry Claude's signed thinking (see the module comment).
  'reasoning.encrypted_content',
  // Honoured: web_search_call actions list the result URLs.
  'web_search_call.action.sources',
  'web_search_call.results',
  // Inputs are not stored, and these tools are refused.
  'message.input_image.image_url',
  'file_search_call.results',
  'code_interpreter_call.outputs',
  'computer_call_output.output.image_url',
]);

/** How a Claude tool's calls go back to the client. */
export type ToolKind = 'function' | 'custom' | 'local_shell';

/** The Messages request plus what the response converters need to know about it. */
export interface ResponsesRequestPlan {
  /** The Anthropic Messages request body. */
  body: Json;
  /** The client's tools by the Claude tool name they were sent as. */
  tools: ReadonlyMap<string, ToolKind>;
  /** Functions of a `namespace` tool, by the Claude tool name they were sent as. */
  namespaced: ReadonlyMap<string, { namespace: string; name: string }>;
  /** The name of the tool that carries a `json_schema` answer, or null. */
  jsonTool: string | null;
  /** `reasoning.summary` asks for reasoning summaries (Claude's thinking text). */
  summaries: boolean;
  /** `include` asks for the URLs of web search results. */
  searchSources: boolean;
}

/** Converts one Responses request; throws OpenAIRequestException for what Claude cannot do. */
export function toAnthropicRequest(input: ConversionInput): ResponsesRequestPlan {
  requireGenerate(input, 'the Responses API');
  const body = input.body;
  checkResponsesFields(body, input.stream);
  const include = includes(body.include);

  const system: Json[] = [];
  if (given(body.instructions)) {
    system.push(...anthropic.textBlock(requireString(body.instructions, 'instructions')));
  }
  const turns = convertInput(body.input, system);
  const tools = convertTools(body.tools, body.max_tool_calls);
  const reasoning = reasoningOf(body);
  const text = given(body.text) ? requireObject(body.text, 'text') : {};
  checkVerbosity(text.verbosity);
  const request = anthropicRequest(input, {
    reasoningParam: 'reasoning.effort',
    system,
    turns,
    tools: tools.anthropic.length > 0 ? tools.anthropic : undefined,
    toolChoice: responsesToolChoice(body.tool_choice, tools.kinds),
    thinking: resolveThinking(reasoning),
    ...responsesCap(body),
    format: text.format,
    formatParam: 'text.format',
    schemaOf: (format) => [format, 'text.format'],
  });

  return {
    body: request.body,
    tools: tools.kinds,
    namespaced: tools.namespaced,
    jsonTool: request.jsonTool,
    summaries: wantsSummaries(reasoning),
    searchSources:
      include.has('web_search_call.action.sources') || include.has('web_search_call.results'),
  };
}

/**
 * The `max_tokens` the Messages request will carry, for admission and budget reservation before
 * the request is converted. Throws like toAnthropicRequest on bad token or reasoning fields.
 */
export function anthropicMaxTokens(body: Json): number {
  const { cap, uncapped } = responsesCap(body);
  return resolveLimits(cap, resolveThinking(reasoningOf(body)), uncapped).maxTokens;
}

/** `max_output_tokens` caps; without it, DEFAULT_MAX_OUTPUT_TOKENS whatever the thinking budget. */
function responsesCap(body: Json): { cap: OutputCap | null; uncapped: () => number } {
  return {
    cap: given(body.max_output_tokens)
      ? { param: 'max_output_tokens', value: body.max_output_tokens }
      : null,
    uncapped: () => DEFAULT_MAX_OUTPUT_TOKENS,
  };
}

// ---- top-level fields ------------------------------------------------------------------------

function checkResponsesFields(body: Json, stream: boolean): void {
  checkFields(body, KNOWN_FIELDS, REFUSALS);
  const options = body.stream_options;
  if (given(options)) {
    if (!stream) fail('stream_options', 'only allowed when stream is true', 'invalid_value');
    requireObject(options, 'stream_options');
  }
  if (given(body.parallel_tool_calls) && typeof body.parallel_tool_calls !== 'boolean') {
    fail('parallel_tool_calls', 'must be a boolean', 'invalid_type');
  }
}

function includes(value: unknown): Set<string> {
  if (!given(value)) return new Set();
  return new Set(
    requireArray(value, 'include').map((item, i) => {
      const name = requireString(item, `include[${i}]`);
      if (name === 'message.output_text.logprobs') {
        fail(`include[${i}]`, 'Claude models do not return log probabilities', 'unsupported_value');
      }
      if (!INCLUDABLE.has(name)) fail(`include[${i}]`, `unknown value ${quote(name)}`);
      return name;
    }),
  );
}

/** `text.verbosity`: Claude has no such setting; accepted (Codex sends it) without effect. */
function checkVerbosity(value: unknown): void {
  if (given(value) && value !== 'low' && value !== 'medium' && value !== 'high') {
    fail('text.verbosity', `unsupported value ${quote(value)}; use low, medium or high`);
  }
}

// ---- reasoning -------------------------------------------------------------------------------

const SUMMARIES: ReadonlySet<unknown> = new Set(['auto', 'concise', 'detailed']);

function reasoningOf(body: Json): Json | undefined {
  return given(body.reasoning) ? requireObject(body.reasoning, 'reasoning') : undefined;
}

function resolveThinking(reasoning: Json | undefined): ThinkingPlan {
  if (reasoning === undefined) return { kind: 'none' };
  if (given(reasoning.mode) && reasoning.mode !== 'standard') {
    fail('reasoning.mode', `${quote(reasoning.mode)} is not available on Claude models`);
  }
  const context = reasoning.context;
  if (given(context) && context !== 'auto' && context !== 'current_turn' && context !== 'all_turns')
    fail('reasoning.context', `unsupported value ${quote(context)}`);
  return given(reasoning.effort)
    ? effortPlan(reasoning.effort, 'reasoning.effort')
    : { kind: 'none' };
}

/** `reasoning.summary` (or the deprecated `generate_summary`): auto, concise or detailed. */
function wantsSummaries(reasoning: Json | undefined): boolean {
  if (reasoning === undefined) return false;
  let wanted = false;
  for (const key of ['summary', 'generate_summary']) {
    const value = reasoning[key];
    // Codex sends 'none' for models without summaries.
    if (!given(value) || value === 'none') continue;
    if (!SUMMARIES.has(value)) {
      fail(`reasoning.${key}`, `unsupported value ${quote(value)}; use auto, concise or detailed`);
    }
    wanted = true;
  }
  return wanted;
}

// ---- tools -----------------------------------------------------------------------------------

interface ConvertedTools {
  anthropic: Json[];
  kinds: Map<string, ToolKind>;
  namespaced: Map<string, { namespace: string; name: string }>;
}

/**
 * The Claude name of a function inside a `namespace` tool (Codex CLI groups its sub-agent tools
 * so): Claude has no namespaces and allows no dots, so `<namespace>__<name>`.
 */
export function namespacedName(namespace: string, name: string): string {
  return `${namespace}__${name}`;
}

function convertTools(value: unknown, maxToolCalls: unknown): ConvertedTools {
  const converted: ConvertedTools = { anthropic: [], kinds: new Map(), namespaced: new Map() };
  if (!given(value)) return converted;
  const names = new Set<string>();
  const flat: { spec: Json; path: string }[] = [];
  requireArray(value, 'tools').forEach((tool, i) => {
    const path = `tools[${i}]`;
    const spec = requireObject(tool, path);
    if (spec.type !== 'namespace') {
      flat.push({ spec, path });
      return;
    }
    // A namespace's functions become Claude tools of their own, named into the namespace.
    const namespace = requireString(spec.name, `${path}.name`);
    requireArray(spec.tools, `${path}.tools`).forEach((inner, j) => {
      const innerPath = `${path}.tools[${j}]`;
      const innerSpec = requireObject(inner, innerPath);
      if (innerSpec.type !== 'function') {
        fail(
          `${innerPath}.type`,
          'a namespace may only hold function tools on Claude models',
          'unsupported_value',
        );
      }
      const name = requireString(innerSpec.name, `${innerPath}.name`);
      const claudeName = namespacedName(namespace, name);
      converted.namespaced.set(claudeName, { namespace, name });
      flat.push({ spec: { ...innerSpec, name: claudeName }, path: innerPath });
    });
  });
  flat.forEach(({ spec, path }) => {
    const out = convertTool(spec, path, maxToolCalls);
    if (out === null) return;
    const name = String(out.tool.name);
    if (names.has(name)) fail(`${path}.name`, `more than one tool is named ${quote(name)}`);
    names.add(name);
    converted.anthropic.push(out.tool);
    if (out.kind !== null) converted.kinds.set(name, out.kind);
  });
  return converted;
}

/** One tool; null when it is left out (cached web search). */
function convertTool(
  spec: Json,
  path: string,
  maxToolCalls: unknown,
): { tool: Json; kind: ToolKind | null } | null {
  switch (spec.type) {
    case 'function':
      if (spec.defer_loading === true) {
        fail(
          `${path}.defer_loading`,
          'tool search is not available on Claude models',
          'unsupported_value',
        );
      }
      return { tool: functionTool(spec, path), kind: 'function' };
    case 'custom':
      return { tool: customTool(spec, path), kind: 'custom' };
    case 'local_shell':
      return { tool: localShellTool(), kind: 'local_shell' };
    case 'web_search':
    case 'web_search_2025_08_26':
    case 'web_search_preview':
    case 'web_search_preview_2025_03_11': {
      const tool = webSearchTool(spec, path, maxToolCalls);
      return tool === null ? null : { tool, kind: null };
    }
    default:
      return fail(
        `${path}.type`,
        `${quote(spec.type)} tools are not available on Claude models; use function, custom, ` +
          'local_shell or web_search tools',
        'unsupported_value',
      );
  }
}

/**
 * A freeform tool: Claude tools take JSON, so the text travels as the one string property
 * `input`, and the format (a Lark grammar or a regular expression) is told in the description,
 * since Claude cannot be held to a grammar.
 */
function customTool(spec: Json, path: string): Json {
  const name = requireString(spec.name, `${path}.name`);
  if (name.length === 0) fail(`${path}.name`, 'must not be empty');
  if (spec.defer_loading === true) {
    fail(
      `${path}.defer_loading`,
      'tool search is not available on Claude models',
      'unsupported_value',
    );
  }
  const parts: string[] = [];
  if (given(spec.description)) parts.push(requireString(spec.description, `${path}.description`));
  parts.push(
    'This tool takes free-form text, not JSON arguments: put the whole text, exactly as it ' +
      'should be received, in the string property "input".',
  );
  const format = given(spec.format) ? requireObject(spec.format, `${path}.format`) : undefined;
  if (format !== undefined && format.type === 'grammar') {
    const definition = requireString(format.definition, `${path}.format.definition`);
    if (format.syntax === 'lark') {
      parts.push(`The text must match this Lark grammar:\n${definition}`);
    } else if (format.syntax === 'regex') {
      parts.push(`The text must match this regular expression:\n${definition}`);
    } else {
      fail(`${path}.format.syntax`, `unsupported value ${quote(format.syntax)}; use lark or regex`);
    }
  } else if (format !== undefined && format.type !== 'text') {
    fail(`${path}.format.type`, `unsupported value ${quote(format.type)}; use text or grammar`);
  }
  return {
    name,
    description: parts.join('\n\n'),
    input_schema: {
      type: 'object',
      properties: { input: { type: 'string', description: 'The free-form text.' } },
      required: ['input'],
      additionalProperties: false,
    },
  };
}

/** The built-in local shell tool as a Claude tool whose input is the exec action. */
function localShellTool(): Json {
  return {
    name: LOCAL_SHELL_TOOL,
    description:
      "Runs a command on the user's machine and returns its output. The command is an argv " +
      'array (program first), not a shell string.',
    input_schema: {
      type: 'object',
      properties: {
        command: {
          type: 'array',
          items: { type: 'string' },
          description: 'The program and its arguments.',
        },
        working_directory: { type: 'string', description: 'The directory to run it in.' },
        timeout_ms: { type: 'integer', description: 'How long it may run, in milliseconds.' },
        env: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Environment variables to set.',
        },
        user: { type: 'string', description: 'The user to run it as.' },
      },
      required: ['command'],
    },
  };
}

/**
 * OpenAI's web search → Anthropic's web search server tool (domains, location and
 * `max_tool_calls` carry over). Cached mode (`external_web_access: false`) reads only OpenAI's
 * cache, which Claude does not have; rather than search the live web where the client asked not
 * to, the tool is left out (null).
 */
function webSearchTool(spec: Json, path: string, maxToolCalls: unknown): Json | null {
  if (spec.external_web_access === false) return null;
  const tool: Json = { type: 'web_search_20250305', name: WEB_SEARCH_TOOL };
  if (given(spec.filters)) {
    const filters = requireObject(spec.filters, `${path}.filters`);
    if (given(filters.allowed_domains)) {
      tool.allowed_domains = requireArray(
        filters.allowed_domains,
        `${path}.filters.allowed_domains`,
      ).map((domain, j) => requireString(domain, `${path}.filters.allowed_domains[${j}]`));
    }
  }
  if (given(spec.user_location)) {
    const location = requireObject(spec.user_location, `${path}.user_location`);
    const out: Json = { type: 'approximate' };
    for (const key of ['city', 'region', 'country', 'timezone']) {
      if (given(location[key]))
        out[key] = requireString(location[key], `${path}.user_location.${key}`);
    }
    tool.user_location = out;
  }
  if (given(maxToolCalls)) {
    if (typeof maxToolCalls !== 'number' || !Number.isSafeInteger(maxToolCalls) || maxToolCalls < 1)
      fail('max_tool_calls', `must be a positive integer (got ${quote(maxToolCalls)})`);
    tool.max_uses = maxToolCalls;
  }
  return tool;
}

function responsesToolChoice(
  choice: unknown,
  kinds: ReadonlyMap<string, ToolKind>,
): ToolChoiceRequest {
  if (!given(choice)) return { kind: 'unset' };
  if (choice === 'auto' || choice === 'none' || choice === 'required') return { kind: choice };
  if (isObject(choice) && (choice.type === 'function' || choice.type === 'custom')) {
    const name = requireString(choice.name, 'tool_choice.name');
    const kind = kinds.get(name);
    // A function choice must name a function tool, a custom choice a custom tool.
    if (kind !== choice.type) {
      fail('tool_choice.name', `no ${String(choice.type)} tool named ${quote(name)} in tools`);
    }
    return { kind: 'tool', name, param: 'tool_choice.name' };
  }
  const type = isObject(choice) ? choice.type : choice;
  return fail(
    'tool_choice',
    `${quote(type)} is not supported on Claude models; use none, auto, required, a function or ` +
      'a custom tool',
    'unsupported_value',
  );
}

// ---- input items -----------------------------------------------------------------------------

/** Converts `input` into turns; system and developer messages go to `system`. */
function convertInput(value: unknown, system: Json[]): anthropic.Turn[] {
  const turns: anthropic.Turn[] = [];
  if (typeof value === 'string') {
    anthropic.pushTurn(turns, 'user', anthropic.textBlock(value));
  } else if (Array.isArray(value)) {
    // local_shell_call_output items name their call by the call's item id or its call id.
    const shellCalls = new Map<string, string>();
    value.forEach((item: unknown, i) => {
      const path = `input[${i}]`;
      convertItem(requireObject(item, path), path, turns, system, shellCalls);
    });
  } else {
    fail('input', 'must be a string or an array of input items', 'invalid_type');
  }
  if (turns.length === 0) {
    // Anthropic needs a conversation besides the system prompt; say so before a round trip.
    fail('input', 'needs at least one user or assistant message with content', 'invalid_value');
  }
  return turns;
}

function convertItem(
  item: Json,
  path: string,
  turns: anthropic.Turn[],
  system: Json[],
  shellCalls: Map<string, string>,
): void {
  // Easy input messages may leave out the type; an item reference may too.
  const type = item.type ?? (given(item.role) ? 'message' : 'item_reference');
  switch (type) {
    case 'message':
      convertMessage(item, path, turns, system);
      break;
    case 'function_call': {
      const args = requireString(item.arguments, `${path}.arguments`);
      const name = requireString(item.name, `${path}.name`);
      anthropic.pushTurn(turns, 'assistant', [
        toolUse(
          item,
          path,
          given(item.namespace)
            ? namespacedName(requireString(item.namespace, `${path}.namespace`), name)
            : name,
          anthropic.toolInput(args, `${path}.arguments`),
        ),
      ]);
      break;
    }
    case 'custom_tool_call':
      anthropic.pushTurn(turns, 'assistant', [
        toolUse(item, path, requireString(item.name, `${path}.name`), {
          input: requireString(item.input, `${path}.input`),
        }),
      ]);
      break;
    case 'local_shell_call': {
      const callId = requireString(item.call_id, `${path}.call_id`);
      if (typeof item.id === 'string') shellCalls.set(item.id, callId);
      const action = requireObject(item.action, `${path}.action`);
      if (action.type !== 'exec')
        fail(`${path}.action.type`, `unsupported value ${quote(action.type)}`);
      const { type: _exec, ...exec } = action;
      anthropic.pushTurn(turns, 'assistant', [
        toolUse(item, path, LOCAL_SHELL_TOOL, withoutNulls(exec)),
      ]);
      break;
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
      anthropic.pushTurn(turns, 'user', [
        anthropic.toolResult(
          requireString(item.call_id, `${path}.call_id`),
          `${path}.call_id`,
          toolOutput(item.output, `${path}.output`),
        ),
      ]);
      break;
    case 'local_shell_call_output': {
      const id = requireString(item.id, `${path}.id`);
      anthropic.pushTurn(turns, 'user', [
        anthropic.toolResult(
          shellCalls.get(id) ?? id,
          `${path}.id`,
          requireString(item.output, `${path}.output`),
        ),
      ]);
      break;
    }
    case 'reasoning':
      anthropic.pushTurn(
        turns,
        'assistant',
        decodeThinking(item.encrypted_content, `${path}.encrypted_content`),
      );
      break;
    case 'web_search_call':
      // Searched on Anthropic's side; its results cannot be given back (see the module comment).
      break;
    case 'item_reference':
      fail(path, `item references need stored responses; ${NO_STATE}`, 'unsupported_value');
      break;
    default:
      fail(
        `${path}.type`,
        `${quote(type)} items are not available on Claude models`,
        'unsupported_value',
      );
  }
}

function toolUse(item: Json, path: string, name: string, input: Json): Json {
  return {
    type: 'tool_use',
    id: anthropic.toolId(requireString(item.call_id, `${path}.call_id`)),
    name,
    input,
  };
}

function withoutNulls(value: Json): Json {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => given(v)));
}

function convertMessage(item: Json, path: string, turns: anthropic.Turn[], system: Json[]): void {
  const content = item.content;
  const contentPath = `${path}.content`;
  switch (item.role) {
    case 'system':
    case 'developer':
      system.push(...contentBlocks(content, contentPath, systemPart));
      break;
    case 'user':
      anthropic.pushTurn(turns, 'user', contentBlocks(content, contentPath, userPart));
      break;
    case 'assistant':
      // `phase` (commentary or final answer) and `status` mean nothing to Claude.
      anthropic.pushTurn(turns, 'assistant', contentBlocks(content, contentPath, assistantPart));
      break;
    default:
      fail(`${path}.role`, `unknown role ${quote(item.role)}`);
  }
}

type PartConverter = (part: Json, path: string) => Json[];

/** A message's content: a string is one text block; parts are converted one by one. */
function contentBlocks(content: unknown, path: string, part: PartConverter): Json[] {
  if (typeof content === 'string') return anthropic.textBlock(content);
  return requireArray(content, path).flatMap((item: unknown, j) => {
    const partPath = `${path}[${j}]`;
    return part(requireObject(item, partPath), partPath);
  });
}

function inputText(part: Json, path: string): Json[] {
  return anthropic.textBlock(
    requireString(part.text, `${path}.text`),
    anthropic.cacheControl(part, path),
  );
}

function notHere(part: Json, path: string, where: string): never {
  return fail(`${path}.type`, `${quote(part.type)} parts are not allowed in ${where}`);
}

const systemPart: PartConverter = (part, path) =>
  part.type === 'input_text'
    ? inputText(part, path)
    : notHere(part, path, 'system or developer messages; use input_text');

const userPart: PartConverter = (part, path) => {
  switch (part.type) {
    case 'input_text':
      return inputText(part, path);
    case 'input_image':
      return [inputImage(part, path)];
    case 'input_file':
      return [inputFile(part, path)];
    case 'input_audio':
      return fail(`${path}.type`, 'Claude models do not accept audio input', 'unsupported_value');
    default:
      return notHere(part, path, 'user messages');
  }
};

const assistantPart: PartConverter = (part, path) => {
  switch (part.type) {
    case 'output_text':
    case 'input_text':
      // Annotations (citations) cannot be given back to Claude; the text carries the answer.
      return anthropic.textBlock(requireString(part.text, `${path}.text`));
    case 'refusal':
      return anthropic.textBlock(requireString(part.refusal, `${path}.refusal`));
    default:
      return notHere(part, path, 'assistant messages');
  }
};

/** What a tool call's output may hold: text, images and files (like a user message's parts). */
function toolOutput(output: unknown, path: string): string | Json[] {
  if (typeof output === 'string') return output;
  return contentBlocks(output, path, (part, partPath) =>
    part.type === 'input_text' || part.type === 'input_image' || part.type === 'input_file'
      ? userPart(part, partPath)
      : notHere(part, partPath, 'tool outputs'),
  );
}

const UPLOADED_FILES = 'uploaded OpenAI files cannot be read from Claude models';

function inputImage(part: Json, path: string): Json {
  if (given(part.file_id)) {
    fail(`${path}.file_id`, `${UPLOADED_FILES}; send image_url`, 'unsupported_parameter');
  }
  // `detail` has no Claude equivalent: Claude reads images at its own resolution.
  const urlPath = `${path}.image_url`;
  return anthropic.withCache(
    anthropic.imageBlock(requireString(part.image_url, urlPath), urlPath),
    part,
    path,
  );
}

function inputFile(part: Json, path: string): Json {
  if (given(part.file_id)) {
    fail(`${path}.file_id`, `${UPLOADED_FILES}; send file_data`, 'unsupported_parameter');
  }
  let block: Json;
  if (given(part.file_data)) {
    const dataPath = `${path}.file_data`;
    block = anthropic.documentBlock(requireString(part.file_data, dataPath), dataPath);
  } else if (given(part.file_url)) {
    const url = requireString(part.file_url, `${path}.file_url`);
    if (!/^https?:\/\//i.test(url)) fail(`${path}.file_url`, 'must be an http(s) URL');
    // Anthropic fetches the document (a PDF) itself.
    block = { type: 'document', source: { type: 'url', url } };
  } else {
    return fail(path, 'needs file_data or file_url');
  }
  if (given(part.filename)) block.title = requireString(part.filename, `${path}.filename`);
  return anthropic.withCache(block, part, path);
}

// ---- signed thinking in reasoning items ------------------------------------------------------

/**
 * Marks `encrypted_content` that holds Claude's thinking blocks (base64url JSON after it);
 * OpenAI's own encrypted reasoning never starts with it.
 */
const THINKING_PREFIX = 'switchyard.thinking.v1:';

/**
 * Claude's thinking blocks of one reasoning item, as `encrypted_content`. The thinking text and
 * its signature must go back to Claude unchanged (Anthropic checks the signature), so they travel
 * together, in a form clients treat as opaque.
 */
export function encodeThinking(blocks: readonly Json[]): string {
  return THINKING_PREFIX + Buffer.from(JSON.stringify(blocks), 'utf8').toString('base64url');
}

/** The thinking blocks an `encrypted_content` carries; none when it is not Switchyard's. */
function decodeThinking(value: unknown, path: string): Json[] {
  if (typeof value !== 'string' || !value.startsWith(THINKING_PREFIX)) return [];
  let blocks: unknown;
  try {
    blocks = JSON.parse(
      Buffer.from(value.slice(THINKING_PREFIX.length), 'base64url').toString('utf8'),
    );
  } catch {
    blocks = undefined;
  }
  if (!Array.isArray(blocks)) {
    fail(path, 'is damaged: pass reasoning items back exactly as received');
  }
  return blocks.map((block: unknown, k) => anthropic.signedThinkingBlock(block, `${path}[${k}]`));
}
