import type { ConversionInput } from 'src/modules/relay/converters/converter';
import {
  CHAT_PARAMETERS,
  ChatRefusal,
  chatRefusal,
  chatTokenCap,
  checkChatFields,
  commonChatRefusals,
  given,
  includeUsage,
  isJsonObject as isObject,
  quote,
  refuse as fail,
  requireString,
} from 'src/modules/relay/converters/shared/chat-request-checks';
import { forEachChatMessage } from 'src/modules/relay/converters/shared/chat-messages';

/**
 * An OpenAI Chat Completions request body → an OpenAI Responses request body, for accounts that
 * only speak the Responses API (Codex on a ChatGPT plan).
 *
 * Everything a client sends is carried over, refused with a 400 in OpenAI's shape naming the
 * parameter, or (IGNORED_FIELDS, listed in docs/clients.md) accepted without effect: `store`
 * (the upstream request is never stored: `store: false`), `metadata`, `service_tier`, `seed`,
 * `stream_options.include_obfuscation`, a message's `name`, `reasoning_content` on an assistant
 * message, `prompt_cache_breakpoint` on system and developer parts (they become `instructions`, a
 * plain string), and `reasoning_details` entries other than the encrypted Responses reasoning
 * this converter returns.
 *
 * Choices this module makes:
 * - system and developer messages, wherever they stand, become `instructions` (their texts in
 *   order, separated by a blank line); `instructions` is always sent, DEFAULT_INSTRUCTIONS when
 *   there are none, because the Codex backend refuses a request without them ("Instructions are
 *   required"), and a chat app that sends no system message still expects an answer.
 * - user content → `message` items with `input_text` / `input_image` / `input_file` parts;
 *   assistant content → `message` items with `output_text` / `refusal` parts, their `tool_calls`
 *   → `function_call` items; tool messages → `function_call_output` items.
 * - function tools are flattened, with `strict` always explicit: the Responses API makes a tool
 *   without it strict, Chat Completions does not.
 * - `reasoning_effort` → `reasoning.effort`; any effort but `none` also asks for a reasoning
 *   summary (returned as `reasoning_content`) and for the encrypted reasoning
 *   (`include: ['reasoning.encrypted_content']`), returned in `reasoning_details` for the client
 *   to send back, as OpenRouter's clients do, so a tool loop keeps its reasoning with store off.
 * - `stop` is refused: the Responses API has no stop sequences.
 */

type Json = Record<string, unknown>;

/** Who cannot do what, in refusals. */
const MODELS = 'Responses API models';

/** The `format` of the `reasoning_details` entries this converter returns and takes back. */
export const REASONING_DETAILS_FORMAT = 'openai-responses-v1';

export const REASONING_EFFORTS: ReadonlySet<string> = new Set([
  'none',
  'minimal',
  'low',
  'medium',
  'high',
  'xhigh',
  'max',
]);

/** Accepted and ignored: no effect through a Responses-only upstream (see the module comment). */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'store',
  'metadata',
  'service_tier',
  'seed',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([...CHAT_PARAMETERS]);

const REFUSALS: readonly ChatRefusal[] = [
  ...commonChatRefusals(MODELS),
  chatRefusal(
    'stop',
    'the Responses API has no stop sequences',
    'unsupported_parameter',
    (v) => v === '' || (Array.isArray(v) && v.length === 0),
  ),
  chatRefusal(
    'web_search_options',
    'web search is not available through Chat Completions on Responses API accounts',
  ),
  chatRefusal('moderation', 'OpenAI moderation is not available on Responses API accounts'),
];

const IMAGE_DETAILS: ReadonlySet<string> = new Set(['auto', 'low', 'high']);
const VERBOSITIES: ReadonlySet<string> = new Set(['low', 'medium', 'high']);
const CACHE_RETENTIONS: ReadonlySet<string> = new Set(['in_memory', '24h']);
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The Responses request plus what the response converters need to know about it. */
export interface ResponsesRequestPlan {
  /** The Responses request body. */
  body: Json;
  /** `stream_options.include_usage`: the chunk stream ends with a usage chunk. */
  includeUsage: boolean;
}

/** Converts one Chat Completions request; throws OpenAIRequestException for what cannot be sent. */
export function toResponsesRequest(input: ConversionInput): ResponsesRequestPlan {
  const body = input.body;
  if (input.operation !== 'generate') {
    fail(null, 'Chat Completions has no token-counting operation', 'unsupported_value');
  }
  checkChatFields(body, input.stream, KNOWN_FIELDS, REFUSALS);

  const { instructions, items } = convertMessages(body.messages);
  const tools = convertTools(body.tools);
  const reasoning = reasoningConfig(body.reasoning_effort);

  const out: Json = {
    model: input.upstreamModel,
    instructions: instructions === '' ? DEFAULT_INSTRUCTIONS : instructions,
    input: items,
  };
  if (tools !== undefined) out.tools = tools;
  const toolChoice = convertToolChoice(body.tool_choice, tools);
  if (toolChoice !== undefined) out.tool_choice = toolChoice;
  if (given(body.parallel_tool_calls)) out.parallel_tool_calls = body.parallel_tool_calls;
  if (reasoning !== undefined) out.reasoning = reasoning;
  out.store = false;
  if (input.stream || input.upstreamStreamsOnly === true) out.stream = true;
  if (reasoning !== undefined && reasoning.effort !== 'none') {
    out.include = ['reasoning.encrypted_content'];
  }
  copyPromptCache(body, out);
  const text = textConfig(body);
  if (text !== undefined) out.text = text;
  const cap = chatTokenCap(body);
  if (cap !== null) out.max_output_tokens = cap.value;
  const temperature = boundedNumber(body.temperature, 'temperature', 2);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = boundedNumber(body.top_p, 'top_p', 1);
  if (topP !== undefined) out.top_p = topP;
  for (const key of ['user', 'safety_identifier']) {
    if (given(body[key])) out[key] = requireString(body[key], key);
  }

  return { body: out, includeUsage: includeUsage(body) };
}

// ---- top-level fields ------------------------------------------------------------------------

function boundedNumber(value: unknown, param: string, max: number): number | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    fail(param, 'must be a number', 'invalid_type');
  if (value < 0 || value > max) {
    fail(param, `must be between 0 and ${max} (got ${value})`, 'invalid_value');
  }
  return value;
}

function reasoningConfig(value: unknown): { effort: string; summary?: string } | undefined {
  if (!given(value)) return undefined;
  if (typeof value !== 'string' || !REASONING_EFFORTS.has(value)) {
    fail(
      'reasoning_effort',
      `unsupported value ${quote(value)}; use none, minimal, low, medium, high, xhigh or max`,
      'unsupported_value',
    );
  }
  return value === 'none' ? { effort: value } : { effort: value, summary: 'auto' };
}

/** `prompt_cache_key`, `prompt_cache_retention` and `prompt_cache_options` mean the same there. */
function copyPromptCache(body: Json, out: Json): void {
  if (given(body.prompt_cache_key)) {
    out.prompt_cache_key = requireString(body.prompt_cache_key, 'prompt_cache_key');
  }
  const retention = body.prompt_cache_retention;
  if (given(retention)) {
    if (typeof retention !== 'string' || !CACHE_RETENTIONS.has(retention)) {
      fail('prompt_cache_retention', `must be 'in_memory' or '24h' (got ${quote(retention)})`);
    }
    out.prompt_cache_retention = retention;
  }
  const options = body.prompt_cache_options;
  if (given(options)) {
    if (!isObject(options)) fail('prompt_cache_options', 'must be an object', 'invalid_type');
    out.prompt_cache_options = options;
  }
}

/** `response_format` → `text.format`, `verbosity` → `text.verbosity`. */
function textConfig(body: Json): Json | undefined {
  const text: Json = {};
  const format = body.response_format;
  if (given(format)) {
    if (!isObject(format)) fail('response_format', 'must be an object', 'invalid_type');
    switch (format.type) {
      case 'text':
      case 'json_object':
        text.format = { type: format.type };
        break;
      case 'json_schema':
        text.format = jsonSchemaFormat(format.json_schema);
        break;
      default:
        fail('response_format.type', `unsupported response format ${quote(format.type)}`);
    }
  }
  const verbosity = body.verbosity;
  if (given(verbosity)) {
    if (typeof verbosity !== 'string' || !VERBOSITIES.has(verbosity)) {
      fail('verbosity', `must be low, medium or high (got ${quote(verbosity)})`);
    }
    text.verbosity = verbosity;
  }
  return Object.keys(text).length > 0 ? text : undefined;
}

function jsonSchemaFormat(spec: unknown): Json {
  const path = 'response_format.json_schema';
  if (!isObject(spec)) fail(path, 'must be an object', 'invalid_type');
  const out: Json = { type: 'json_schema', name: requireString(spec.name, `${path}.name`) };
  if (given(spec.description)) {
    out.description = requireString(spec.description, `${path}.description`);
  }
  // The Responses API requires the schema that Chat Completions leaves optional.
  if (!isObject(spec.schema)) {
    fail(`${path}.schema`, 'is required and must be a JSON Schema object', 'invalid_value');
  }
  out.schema = spec.schema;
  if (given(spec.strict)) {
    if (typeof spec.strict !== 'boolean')
      fail(`${path}.strict`, 'must be a boolean', 'invalid_type');
    out.strict = spec.strict;
  }
  return out;
}

// ---- tools -----------------------------------------------------------------------------------

function convertTools(value: unknown): Json[] | undefined {
  if (!given(value)) return undefined;
  if (!Array.isArray(value)) fail('tools', 'must be an array', 'invalid_type');
  if (value.length === 0) return undefined;
  return value.map((tool: unknown, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) fail(path, 'must be an object', 'invalid_type');
    if (tool.type !== 'function') {
      fail(
        `${path}.type`,
        `${quote(tool.type)} tools are not supported on ${MODELS}; only 'function' tools are`,
        'unsupported_value',
      );
    }
    const fn = tool.function;
    if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
    const name = requireString(fn.name, `${path}.function.name`);
    if (name.length === 0) fail(`${path}.function.name`, 'must not be empty');
    const out: Json = { type: 'function', name };
    if (given(fn.description)) {
      out.description = requireString(fn.description, `${path}.function.description`);
    }
    const parameters = fn.parameters;
    if (given(parameters) && !isObject(parameters)) {
      fail(`${path}.function.parameters`, 'must be a JSON Schema object', 'invalid_type');
    }
    out.parameters = parameters ?? { type: 'object', properties: {} };
    if (given(fn.strict) && typeof fn.strict !== 'boolean') {
      fail(`${path}.function.strict`, 'must be a boolean', 'invalid_type');
    }
    out.strict = fn.strict === true;
    return out;
  });
}

function toolName(value: unknown, param: string, tools: Json[] | undefined): string {
  const name = requireString(value, param);
  if (tools === undefined || !tools.some((tool) => tool.name === name)) {
    fail(param, `no tool named ${quote(name)} in tools`);
  }
  return name;
}

function convertToolChoice(choice: unknown, tools: Json[] | undefined): unknown {
  if (!given(choice)) return undefined;
  if (choice === 'none' || choice === 'auto') {
    // OpenAI refuses a tool_choice without tools; with none to choose from it changes nothing.
    return tools === undefined ? undefined : choice;
  }
  if (choice === 'required') {
    if (tools === undefined) fail('tool_choice', "'required' needs tools");
    return choice;
  }
  if (isObject(choice) && choice.type === 'function') {
    const fn = choice.function;
    return {
      type: 'function',
      name: toolName(isObject(fn) ? fn.name : undefined, 'tool_choice.function.name', tools),
    };
  }
  if (isObject(choice) && choice.type === 'allowed_tools') {
    return allowedTools(choice.allowed_tools, tools);
  }
  const type = isObject(choice) ? choice.type : choice;
  return fail(
    'tool_choice',
    `${quote(type)} is not supported on ${MODELS}; use none, auto, required, a function or ` +
      'allowed_tools',
    'unsupported_value',
  );
}

/** `{type: 'allowed_tools', allowed_tools: {mode, tools}}` → `{type, mode, tools}`, flattened. */
function allowedTools(value: unknown, tools: Json[] | undefined): Json {
  const path = 'tool_choice.allowed_tools';
  if (!isObject(value)) fail(path, 'must be an object', 'invalid_type');
  if (value.mode !== 'auto' && value.mode !== 'required') {
    fail(`${path}.mode`, `must be auto or required (got ${quote(value.mode)})`);
  }
  if (!Array.isArray(value.tools) || value.tools.length === 0) {
    fail(`${path}.tools`, 'must be a non-empty array', 'invalid_value');
  }
  const allowed = value.tools.map((tool: unknown, i) => {
    const toolPath = `${path}.tools[${i}]`;
    if (!isObject(tool) || tool.type !== 'function') {
      fail(toolPath, "only 'function' tools can be allowed", 'unsupported_value');
    }
    const fn = tool.function;
    const name = toolName(isObject(fn) ? fn.name : undefined, `${toolPath}.function.name`, tools);
    return { type: 'function', name };
  });
  return { type: 'allowed_tools', mode: value.mode, tools: allowed };
}

// ---- messages --------------------------------------------------------------------------------

/** Sent as `instructions` when the client's messages hold no system or developer text. */
export const DEFAULT_INSTRUCTIONS = 'You are a helpful assistant.';

function convertMessages(value: unknown): { instructions: string; items: Json[] } {
  const instructions: string[] = [];
  const items: Json[] = [];
  forEachChatMessage(value, {
    system: (message, path) =>
      instructions.push(...systemTexts(message.content, `${path}.content`)),
    user: (message, path) =>
      items.push({
        type: 'message',
        role: 'user',
        content: userParts(message.content, `${path}.content`),
      }),
    assistant: (message, path) => items.push(...assistantItems(message, path)),
    tool: (message, path) => items.push(toolOutput(message, path)),
  });
  return { instructions: instructions.join('\n\n'), items };
}

/**
 * A message's content as parts: a string is one text part; an array is converted part by part
 * (`part` gets each object part with its path), anything else is refused.
 */
function contentParts(
  content: unknown,
  path: string,
  text: (text: string) => Json,
  part: (part: Json, partPath: string) => Json,
): Json[] {
  if (typeof content === 'string') return [text(content)];
  if (!Array.isArray(content)) {
    fail(path, 'must be a string or an array of content parts', 'invalid_type');
  }
  return content.map((item: unknown, j) => {
    const partPath = `${path}[${j}]`;
    if (!isObject(item)) fail(partPath, 'must be an object', 'invalid_type');
    return part(item, partPath);
  });
}

/** The texts of system and developer content (a string or text parts). */
function systemTexts(content: unknown, path: string): string[] {
  const parts = contentParts(
    content,
    path,
    (text) => ({ text }),
    (part, partPath) => {
      if (part.type !== 'text') {
        fail(`${partPath}.type`, `${quote(part.type)} parts are not allowed here; use text`);
      }
      return { text: requireString(part.text, `${partPath}.text`) };
    },
  );
  return parts.map((part) => part.text as string).filter((text) => text.length > 0);
}

/** A `prompt_cache_breakpoint` means the same on both sides; it is checked and carried. */
function withBreakpoint(out: Json, part: Json, path: string): Json {
  const breakpoint = part.prompt_cache_breakpoint;
  if (!given(breakpoint)) return out;
  if (!isObject(breakpoint)) {
    fail(`${path}.prompt_cache_breakpoint`, 'must be an object', 'invalid_type');
  }
  out.prompt_cache_breakpoint = breakpoint;
  return out;
}

const inputText = (text: string): Json => ({ type: 'input_text', text });

function inputTextPart(part: Json, path: string): Json {
  return withBreakpoint(inputText(requireString(part.text, `${path}.text`)), part, path);
}

function userParts(content: unknown, path: string): Json[] {
  return contentParts(content, path, inputText, (part, partPath) => {
    switch (part.type) {
      case 'text':
        return inputTextPart(part, partPath);
      case 'image_url':
        return inputImage(part, partPath);
      case 'file':
        return inputFile(part, partPath);
      case 'input_audio':
        return fail(
          `${partPath}.type`,
          `${MODELS} do not accept audio input here`,
          'unsupported_value',
        );
      default:
        return fail(`${partPath}.type`, `unknown content part type ${quote(part.type)}`);
    }
  });
}

function inputImage(part: Json, path: string): Json {
  // Some clients send the URL as a bare string rather than {url}; both mean the same image.
  const image = part.image_url;
  const url =
    typeof image === 'string'
      ? image
      : isObject(image)
        ? requireString(image.url, `${path}.image_url.url`)
        : fail(`${path}.image_url`, 'must be an object with a url', 'invalid_type');
  const urlPath = typeof image === 'string' ? `${path}.image_url` : `${path}.image_url.url`;
  // The Responses API takes the same URLs; anything else would only fail upstream.
  if (!/^https?:\/\//i.test(url) && !/^data:image\/[^;,]+;base64,./i.test(url)) {
    fail(urlPath, 'must be an http(s) URL or a base64 data URL (data:image/…;base64,…)');
  }
  const out: Json = { type: 'input_image', image_url: url };
  const detail = isObject(image) ? image.detail : undefined;
  if (given(detail)) {
    if (typeof detail !== 'string' || !IMAGE_DETAILS.has(detail)) {
      fail(`${path}.image_url.detail`, `must be auto, low or high (got ${quote(detail)})`);
    }
    out.detail = detail;
  } else {
    out.detail = 'auto';
  }
  return withBreakpoint(out, part, path);
}

/** A `file` part with inline data (a data URL; bare base64 is taken for a PDF). */
function inputFile(part: Json, path: string): Json {
  const file = part.file;
  if (!isObject(file)) fail(`${path}.file`, 'must be an object', 'invalid_type');
  if (given(file.file_id) && !given(file.file_data)) {
    fail(
      `${path}.file.file_id`,
      "uploaded OpenAI files cannot be read from this account's models; send file_data",
      'unsupported_parameter',
    );
  }
  const dataPath = `${path}.file.file_data`;
  const raw = requireString(file.file_data, dataPath);
  let data: string;
  if (/^data:[^,]*;base64,./i.test(raw)) {
    data = raw;
  } else if (raw.startsWith('JVBERi0') && BASE64.test(raw)) {
    data = `data:application/pdf;base64,${raw}`;
  } else {
    fail(dataPath, 'must be a base64 data URL (data:application/pdf;base64,…)');
  }
  const pdf = data.slice(5, 20).toLowerCase().startsWith('application/pdf');
  // The Responses API wants a filename with inline file data.
  const filename = given(file.filename)
    ? requireString(file.filename, `${path}.file.filename`)
    : pdf
      ? 'file.pdf'
      : 'file';
  return withBreakpoint({ type: 'input_file', file_data: data, filename }, part, path);
}

function assistantItems(message: Json, path: string): Json[] {
  if (given(message.function_call)) {
    fail(
      `${path}.function_call`,
      "the deprecated functions API is not supported; use 'tool_calls'",
      'unsupported_parameter',
    );
  }
  if (given(message.audio)) {
    fail(`${path}.audio`, `${MODELS} cannot take back an audio response`, 'unsupported_parameter');
  }
  // Earlier reasoning leads the turn, as the model produced it.
  const items: Json[] = reasoningItems(message.reasoning_details, `${path}.reasoning_details`);
  const parts: Json[] = [];
  const content = message.content;
  if (typeof content === 'string') {
    if (content.length > 0) parts.push({ type: 'output_text', text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      const partPath = `${path}.content[${j}]`;
      if (!isObject(part)) fail(partPath, 'must be an object', 'invalid_type');
      if (part.type === 'text') {
        parts.push({ type: 'output_text', text: requireString(part.text, `${partPath}.text`) });
      } else if (part.type === 'refusal') {
        parts.push({
          type: 'refusal',
          refusal: requireString(part.refusal, `${partPath}.refusal`),
        });
      } else {
        fail(`${partPath}.type`, `${quote(part.type)} parts are not allowed in assistant messages`);
      }
    });
  } else if (given(content)) {
    fail(`${path}.content`, 'must be a string, an array of content parts or null', 'invalid_type');
  }
  if (given(message.refusal)) {
    parts.push({ type: 'refusal', refusal: requireString(message.refusal, `${path}.refusal`) });
  }
  if (parts.length > 0) items.push({ type: 'message', role: 'assistant', content: parts });
  const calls = message.tool_calls;
  if (given(calls)) {
    if (!Array.isArray(calls)) fail(`${path}.tool_calls`, 'must be an array', 'invalid_type');
    calls.forEach((call: unknown, j) => items.push(functionCall(call, `${path}.tool_calls[${j}]`)));
  }
  return items;
}

/**
 * `reasoning_details` as this converter returns them → `reasoning` input items: each
 * `reasoning.encrypted` entry of our format, with the summary of the same id. Entries of other
 * types or formats (another provider's reasoning) cannot be replayed here and are left out.
 */
function reasoningItems(value: unknown, path: string): Json[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail(path, 'must be an array', 'invalid_type');
  const entries = value.filter(
    (entry: unknown): entry is Json =>
      isObject(entry) && (entry.format === undefined || entry.format === REASONING_DETAILS_FORMAT),
  );
  const summaries = new Map<unknown, string>();
  for (const entry of entries) {
    if (entry.type === 'reasoning.summary' && typeof entry.summary === 'string') {
      summaries.set(entry.id, entry.summary);
    }
  }
  const items: Json[] = [];
  entries.forEach((entry, k) => {
    if (entry.type !== 'reasoning.encrypted') return;
    if (typeof entry.data !== 'string' || entry.data.length === 0) {
      fail(`${path}[${k}].data`, 'required: pass reasoning_details back exactly as received');
    }
    const item: Json = { type: 'reasoning' };
    if (typeof entry.id === 'string') item.id = entry.id;
    const summary = summaries.get(entry.id);
    item.summary = summary === undefined ? [] : [{ type: 'summary_text', text: summary }];
    item.encrypted_content = entry.data;
    items.push(item);
  });
  return items;
}

function functionCall(call: unknown, path: string): Json {
  if (!isObject(call)) fail(path, 'must be an object', 'invalid_type');
  if (call.type !== undefined && call.type !== 'function') {
    fail(
      `${path}.type`,
      `${quote(call.type)} tool calls are not supported on ${MODELS}`,
      'unsupported_value',
    );
  }
  const id = requireString(call.id, `${path}.id`);
  if (id.length === 0) fail(`${path}.id`, 'must not be empty');
  const fn = call.function;
  if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
  const name = requireString(fn.name, `${path}.function.name`);
  const args = requireString(fn.arguments, `${path}.function.arguments`);
  // Some clients send '' for a call without arguments; the Responses API wants a JSON text.
  return {
    type: 'function_call',
    call_id: id,
    name,
    arguments: args.trim().length === 0 ? '{}' : args,
  };
}

function toolOutput(message: Json, path: string): Json {
  const id = requireString(message.tool_call_id, `${path}.tool_call_id`);
  if (id.length === 0) fail(`${path}.tool_call_id`, 'must not be empty');
  const content = message.content;
  const out: Json = { type: 'function_call_output', call_id: id };
  if (typeof content === 'string') {
    out.output = content;
    return out;
  }
  const parts = contentParts(content, `${path}.content`, inputText, (part, partPath) => {
    if (part.type === 'text') return inputTextPart(part, partPath);
    if (part.type === 'image_url') return inputImage(part, partPath);
    return fail(
      `${partPath}.type`,
      `${quote(part.type)} parts are not allowed in tool messages; use text`,
    );
  });
  // One plain text is sent as a string, the form every Responses upstream takes.
  const only = parts.length === 1 ? parts[0] : undefined;
  out.output =
    only !== undefined && only.type === 'input_text' && only.prompt_cache_breakpoint === undefined
      ? only.text
      : parts;
  return out;
}
