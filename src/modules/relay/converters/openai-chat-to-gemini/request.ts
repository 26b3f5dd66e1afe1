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
import {
  assistantTexts,
  chatContent,
  forEachChatMessage,
  requireConversation,
  toolCallsOf,
} from 'src/modules/relay/converters/shared/chat-messages';
import {
  BASE64,
  GeminiContent,
  GeminiToolChoice,
  Refuse,
  callArgs,
  compact,
  functionCallPart,
  functionDeclaration,
  functionResponsePart,
  inlinePart,
  mediaUrlPart,
  numberField,
  parseDataUrl,
  pushContent,
  toolConfig,
} from 'src/modules/relay/converters/shared/gemini-request';

/**
 * An OpenAI Chat Completions request body → a Gemini `generateContent` request body (the model
 * and the stream choice are in the provider's URL, not the body).
 *
 * Everything a client sends is carried over, refused with a 400 in OpenAI's shape naming the
 * parameter, or (IGNORED_FIELDS, listed in docs/clients.md) accepted without effect: `store`,
 * `metadata`, `service_tier`, `user`, `safety_identifier` (Gemini has no end-user field),
 * `prompt_cache_key`, `prompt_cache_retention`, `prompt_cache_options` (Gemini caches implicitly),
 * `stream_options.include_obfuscation`, a message's `name`, `image_url.detail`, `strict` on
 * function tools and json_schema formats (Gemini always holds to a given schema), and
 * `reasoning_content` on an assistant message (Gemini takes thoughts back only with their
 * signatures, which come back on tool calls).
 *
 * Choices this module makes (documented in docs/clients.md):
 * - system and developer messages, wherever they stand, become `systemInstruction` parts in
 *   order; user, assistant and tool messages become `user` / `model` / `user` contents,
 *   consecutive ones of one role merged.
 * - `tool` messages → `functionResponse` parts named after the function of the assistant tool
 *   call with the same id (a tool message without one is refused); a result that is a JSON object
 *   is sent as it is, anything else as `{content: <text>}`.
 * - A tool call's `extra_content.google.thought_signature` (Google's own OpenAI convention, which
 *   the response converters return) goes back as the functionCall part's `thoughtSignature`:
 *   Gemini 3 refuses a tool loop whose calls lost it.
 * - `tools` → one `functionDeclarations` tool, each `parameters` as `parametersJsonSchema`.
 * - `tool_choice` none / auto / required / a function → mode NONE / AUTO / ANY / ANY with
 *   `allowedFunctionNames`.
 * - `response_format` json_object → `responseMimeType: application/json`; json_schema → that plus
 *   `responseJsonSchema`.
 * - `max_completion_tokens` (else `max_tokens`) → `maxOutputTokens`, which counts thinking too.
 * - `reasoning_effort` → `thinkingConfig: {thinkingBudget, includeThoughts: true}` (budgets in
 *   THINKING_BUDGETS; `none` → budget 0, which models that cannot stop thinking refuse); a budget
 *   not below the output cap is halved to fit under it.
 * - `temperature`, `top_p`, `stop`, `seed`, `presence_penalty`, `frequency_penalty` → their
 *   generationConfig fields (penalties of 0 are left out: some models refuse the fields).
 * - Refused: `n` other than 1 (one candidate is converted), log probabilities, token biases,
 *   audio output, predicted outputs, web search, moderation, `verbosity` other than medium,
 *   `parallel_tool_calls: false` (Gemini cannot be told to call one function at a time), the
 *   deprecated functions API, tools other than functions, `allowed_tools`, uploaded files.
 */

type Json = Record<string, unknown>;

/** Who cannot do what, in refusals. */
const MODELS = 'Gemini models through Switchyard';

/** Gemini thinking budget per OpenAI reasoning effort (`none` turns thinking off: budget 0). */
export const THINKING_BUDGETS: Readonly<Record<string, number>> = {
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
  xhigh: 32768,
};

/** Accepted and ignored: no effect a client could observe from Gemini (see the module comment). */
export const IGNORED_FIELDS: ReadonlySet<string> = new Set([
  'store',
  'metadata',
  'service_tier',
  'user',
  'safety_identifier',
  'prompt_cache_key',
  'prompt_cache_retention',
  'prompt_cache_options',
]);

const KNOWN_FIELDS: ReadonlySet<string> = new Set([...CHAT_PARAMETERS]);

/** Gemini has repetition penalties: those are carried over, not refused. */
const HONOURED: ReadonlySet<string> = new Set(['presence_penalty', 'frequency_penalty']);

const REFUSALS: readonly ChatRefusal[] = [
  ...commonChatRefusals(MODELS).filter((refusal) => !HONOURED.has(refusal.param)),
  chatRefusal('web_search_options', `web search is not available on ${MODELS}`),
  chatRefusal('moderation', `OpenAI moderation is not available on ${MODELS}`),
  chatRefusal(
    'verbosity',
    "Gemini models have no verbosity setting; only 'medium' (the default) is accepted",
    'unsupported_value',
    (v) => v === 'medium',
  ),
  chatRefusal(
    'parallel_tool_calls',
    'Gemini models cannot be limited to one tool call per turn; only true is accepted',
    'unsupported_value',
    (v) => v === true,
  ),
];

const refuse: Refuse = (param, reason, code) => fail(param, reason, code);

/** The Gemini request plus what the response converters need to know about it. */
export interface GeminiChatPlan {
  /** The generateContent request body. */
  body: Json;
  /** `stream_options.include_usage`: the chunk stream ends with a usage chunk. */
  includeUsage: boolean;
}

/** Converts one Chat Completions request; throws OpenAIRequestException for what Gemini cannot do. */
export function toGeminiRequest(input: ConversionInput): GeminiChatPlan {
  if (input.operation !== 'generate') {
    fail(null, 'Chat Completions has no token-counting operation', 'unsupported_value');
  }
  const body = input.body;
  checkChatFields(body, input.stream, KNOWN_FIELDS, REFUSALS);

  const { system, contents } = convertMessages(body.messages);
  const out: Json = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const declarations = convertTools(body.tools);
  if (declarations.length > 0) out.tools = [{ functionDeclarations: declarations }];
  const choice = chatToolChoice(body.tool_choice);
  if (choice !== undefined) {
    out.toolConfig = toolConfig(
      choice,
      declarations.map((d) => String(d.name)),
      refuse,
    );
  }
  const config = generationConfig(body);
  if (config !== undefined) out.generationConfig = config;
  return { body: out, includeUsage: includeUsage(body) };
}

// ---- generation config -----------------------------------------------------------------------

function generationConfig(body: Json): Json | undefined {
  const cap = chatTokenCap(body);
  const format = responseFormat(body.response_format);
  const seed = body.seed;
  if (given(seed) && (typeof seed !== 'number' || !Number.isSafeInteger(seed))) {
    fail('seed', 'must be an integer', 'invalid_type');
  }
  return compact({
    maxOutputTokens: cap?.value,
    temperature: numberField(body.temperature, 'temperature', refuse),
    topP: numberField(body.top_p, 'top_p', refuse),
    stopSequences: stopSequences(body.stop),
    seed: given(seed) ? seed : undefined,
    presencePenalty: penalty(body.presence_penalty, 'presence_penalty'),
    frequencyPenalty: penalty(body.frequency_penalty, 'frequency_penalty'),
    responseMimeType: format?.mimeType,
    responseJsonSchema: format?.schema,
    thinkingConfig: thinkingConfig(body.reasoning_effort, cap?.value),
  });
}

function penalty(value: unknown, param: string): number | undefined {
  const n = numberField(value, param, refuse);
  return n === 0 ? undefined : n;
}

function stopSequences(value: unknown): string[] | undefined {
  if (!given(value)) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list)) fail('stop', 'must be a string or an array of strings', 'invalid_type');
  const out = list
    .map((item, i) => requireString(item, `stop[${i}]`))
    .filter((text) => text.length > 0);
  return out.length > 0 ? out : undefined;
}

function thinkingConfig(effort: unknown, cap: number | undefined): Json | undefined {
  if (!given(effort)) return undefined;
  if (effort === 'none') return { thinkingBudget: 0 };
  if (typeof effort !== 'string' || !Object.hasOwn(THINKING_BUDGETS, effort)) {
    return fail(
      'reasoning_effort',
      `unsupported value ${quote(effort)}; use none, minimal, low, medium, high or xhigh`,
      'unsupported_value',
    );
  }
  let budget = THINKING_BUDGETS[effort];
  // maxOutputTokens counts thoughts: keep the client's cap, leave room for the answer under it.
  if (cap !== undefined && cap <= budget) budget = Math.floor(cap / 2);
  return { thinkingBudget: budget, includeThoughts: true };
}

function responseFormat(format: unknown): { mimeType: string; schema?: unknown } | undefined {
  if (!given(format)) return undefined;
  if (!isObject(format)) fail('response_format', 'must be an object', 'invalid_type');
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      return { mimeType: 'application/json' };
    case 'json_schema': {
      const spec = format.json_schema;
      if (!isObject(spec)) fail('response_format.json_schema', 'must be an object', 'invalid_type');
      const schema = spec.schema;
      if (!given(schema)) return { mimeType: 'application/json' };
      if (!isObject(schema)) {
        fail('response_format.json_schema.schema', 'must be a JSON Schema object', 'invalid_type');
      }
      return { mimeType: 'application/json', schema };
    }
    default:
      return fail(
        'response_format.type',
        `unsupported value ${quote(format.type)}; use text, json_object or json_schema`,
        'unsupported_value',
      );
  }
}

// ---- tools -----------------------------------------------------------------------------------

function convertTools(value: unknown): Json[] {
  if (!given(value)) return [];
  if (!Array.isArray(value)) fail('tools', 'must be an array', 'invalid_type');
  return value.map((tool: unknown, i) => {
    const path = `tools[${i}]`;
    if (!isObject(tool)) fail(path, 'must be an object', 'invalid_type');
    if (tool.type !== 'function') {
      fail(
        `${path}.type`,
        `${quote(tool.type)} tools are not supported on Gemini models; only 'function' tools are`,
        'unsupported_value',
      );
    }
    const fn = tool.function;
    if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
    const name = requireString(fn.name, `${path}.function.name`);
    return functionDeclaration(name, fn.description, fn.parameters, `${path}.function`, refuse);
  });
}

function chatToolChoice(choice: unknown): GeminiToolChoice | undefined {
  if (!given(choice)) return undefined;
  switch (choice) {
    case 'none':
      return { mode: 'NONE' };
    case 'auto':
      return { mode: 'AUTO' };
    case 'required':
      return { mode: 'ANY' };
    default:
      break;
  }
  if (isObject(choice) && choice.type === 'function') {
    const fn = choice.function;
    const name = requireString(isObject(fn) ? fn.name : undefined, 'tool_choice.function.name');
    return { mode: 'ANY', only: name, param: 'tool_choice.function.name' };
  }
  const type = isObject(choice) ? choice.type : choice;
  return fail(
    'tool_choice',
    `${quote(type)} is not supported on Gemini models; use none, auto, required or a function`,
    'unsupported_value',
  );
}

// ---- messages --------------------------------------------------------------------------------

/** The id prefix of tool calls this converter returns (and so reads back). */
export const CALL_ID_PREFIX = 'call_';

function convertMessages(value: unknown): { system: Json[]; contents: GeminiContent[] } {
  const system: Json[] = [];
  const contents: GeminiContent[] = [];
  /** Function names by tool call id, from the assistant messages read so far. */
  const calls = new Map<string, string>();
  forEachChatMessage(value, {
    system: (message, path) => system.push(...textParts(message.content, `${path}.content`)),
    user: (message, path) =>
      pushContent(contents, 'user', userParts(message.content, `${path}.content`)),
    assistant: (message, path) =>
      pushContent(contents, 'model', assistantParts(message, path, calls)),
    tool: (message, path) => pushContent(contents, 'user', toolResultParts(message, path, calls)),
  });
  requireConversation(contents.length);
  return { system, contents };
}

function text(value: string): Json[] {
  // An empty text part carries nothing; Gemini refuses contents without parts.
  return value.length > 0 ? [{ text: value }] : [];
}

/** A message's content as parts: a string is one text part, parts are converted by `part`. */
function contentParts(
  content: unknown,
  path: string,
  part: (part: Json, partPath: string) => Json[],
): Json[] {
  return chatContent(content, path, text, part);
}

function textParts(content: unknown, path: string): Json[] {
  return contentParts(content, path, (part, partPath) => {
    if (part.type === 'text') return text(requireString(part.text, `${partPath}.text`));
    return fail(
      `${partPath}.type`,
      `${quote(part.type)} parts are not allowed here; use text`,
      'invalid_value',
    );
  });
}

function userParts(content: unknown, path: string): Json[] {
  return contentParts(content, path, (part, partPath) => {
    switch (part.type) {
      case 'text':
        return text(requireString(part.text, `${partPath}.text`));
      case 'image_url':
        return [imagePart(part, partPath)];
      case 'input_audio':
        return [audioPart(part, partPath)];
      case 'file':
        return [filePart(part, partPath)];
      default:
        return fail(
          `${partPath}.type`,
          `unknown content part type ${quote(part.type)}`,
          'invalid_value',
        );
    }
  });
}

function imagePart(part: Json, path: string): Json {
  // Some clients send the URL as a bare string rather than {url}; both mean the same image.
  const image = part.image_url;
  if (typeof image === 'string') return mediaUrlPart(image, `${path}.image_url`, refuse);
  if (!isObject(image)) fail(`${path}.image_url`, 'must be an object with a url', 'invalid_type');
  const urlPath = `${path}.image_url.url`;
  return mediaUrlPart(requireString(image.url, urlPath), urlPath, refuse);
}

const AUDIO_FORMATS: Readonly<Record<string, string>> = { wav: 'audio/wav', mp3: 'audio/mp3' };

function audioPart(part: Json, path: string): Json {
  const audio = part.input_audio;
  if (!isObject(audio)) fail(`${path}.input_audio`, 'must be an object', 'invalid_type');
  const format = audio.format;
  if (typeof format !== 'string' || !Object.hasOwn(AUDIO_FORMATS, format)) {
    fail(`${path}.input_audio.format`, `unsupported value ${quote(format)}; use wav or mp3`);
  }
  const dataPath = `${path}.input_audio.data`;
  return inlinePart(AUDIO_FORMATS[format], requireString(audio.data, dataPath), dataPath, refuse);
}

/** A `file` part with inline data: a base64 data URL of any type Gemini reads, or a bare PDF. */
function filePart(part: Json, path: string): Json {
  const file = part.file;
  if (!isObject(file)) fail(`${path}.file`, 'must be an object', 'invalid_type');
  if (given(file.file_id) && !given(file.file_data)) {
    fail(
      `${path}.file.file_id`,
      'uploaded OpenAI files cannot be read from Gemini models; send file_data',
      'unsupported_parameter',
    );
  }
  const dataPath = `${path}.file.file_data`;
  const raw = requireString(file.file_data, dataPath);
  const dataUrl = parseDataUrl(raw, dataPath, refuse);
  if (dataUrl !== null) return inlinePart(dataUrl.mimeType, dataUrl.data, dataPath, refuse);
  if (raw.startsWith('JVBERi0') && BASE64.test(raw)) {
    return inlinePart('application/pdf', raw, dataPath, refuse);
  }
  return fail(dataPath, 'must be a base64 data URL (data:<type>;base64,<data>) or a base64 PDF');
}

function assistantParts(message: Json, path: string, calls: Map<string, string>): Json[] {
  const parts = assistantTexts(message, path, 'Gemini models', text);
  for (const [call, callPath] of toolCallsOf(message, path)) {
    parts.push(functionCall(call, callPath, calls));
  }
  return parts;
}

function functionCall(call: unknown, path: string, calls: Map<string, string>): Json {
  if (!isObject(call)) fail(path, 'must be an object', 'invalid_type');
  if (given(call.type) && call.type !== 'function') {
    fail(
      `${path}.type`,
      `${quote(call.type)} tool calls are not supported on Gemini models`,
      'unsupported_value',
    );
  }
  const id = requireString(call.id, `${path}.id`);
  const fn = call.function;
  if (!isObject(fn)) fail(`${path}.function`, 'must be an object', 'invalid_type');
  const name = requireString(fn.name, `${path}.function.name`);
  const args = callArgs(
    requireString(fn.arguments, `${path}.function.arguments`),
    `${path}.function.arguments`,
    refuse,
  );
  calls.set(id, name);
  return functionCallPart(name, args, id, CALL_ID_PREFIX, thoughtSignature(call, path));
}

/** `extra_content.google.thought_signature`, as Google's OpenAI endpoint puts it on tool calls. */
function thoughtSignature(call: Json, path: string): string | undefined {
  const extra = call.extra_content;
  if (!isObject(extra) || !isObject(extra.google)) return undefined;
  const signature = extra.google.thought_signature;
  if (!given(signature)) return undefined;
  return requireString(signature, `${path}.extra_content.google.thought_signature`);
}

function toolResultParts(message: Json, path: string, calls: Map<string, string>): Json[] {
  const idPath = `${path}.tool_call_id`;
  const id = requireString(message.tool_call_id, idPath);
  const name = calls.get(id);
  if (name === undefined) {
    fail(
      idPath,
      `no earlier assistant message has a tool call with the id ${quote(id)}; Gemini needs the ` +
        "function's name for its result",
      'invalid_value',
    );
  }
  const content = message.content;
  if (typeof content === 'string') {
    return [functionResponsePart(name, id, CALL_ID_PREFIX, content, false)];
  }
  // Text parts are the result; images a tool returned follow it as parts of the same turn.
  const texts: string[] = [];
  const media: Json[] = [];
  contentParts(content, `${path}.content`, (part, partPath) => {
    if (part.type === 'text') texts.push(requireString(part.text, `${partPath}.text`));
    else if (part.type === 'image_url') media.push(imagePart(part, partPath));
    else
      fail(
        `${partPath}.type`,
        `${quote(part.type)} parts are not allowed in tool messages; use text or image_url`,
        'invalid_value',
      );
    return [];
  });
  return [functionResponsePart(name, id, CALL_ID_PREFIX, texts.join(''), false), ...media];
}
