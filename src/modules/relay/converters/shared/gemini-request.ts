/**
 * Gemini `generateContent` request pieces built from other APIs' requests, shared by the Chat
 * Completions and Anthropic Messages converters: contents and their turns, inline and linked
 * media, function calls and responses, function declarations, the function-calling config and
 * the generation config. Each takes the caller's `Refuse` so a refusal is a 400 in the client's
 * own shape, naming the field by the client's own path.
 *
 * Wire facts follow the `@google/genai` types (Content, Part, FunctionDeclaration,
 * FunctionCallingConfig, GenerationConfig, ThinkingConfig). Function parameters go as
 * `parametersJsonSchema` and answer schemas as `responseJsonSchema`: the Gemini API takes plain
 * JSON Schema there, so schemas pass unchanged instead of being cut down to the OpenAPI subset of
 * `parameters` / `responseSchema` (which refuses `additionalProperties`, `$ref`, `const`, …).
 */

type Json = Record<string, unknown>;

/** Refuses the request: a 400 in the client's shape naming `param` (the client's path). */
export type Refuse = (param: string, reason: string, code?: string) => never;

export interface GeminiContent {
  role: 'user' | 'model';
  parts: Json[];
}

/** Appends parts as a turn, merging into the previous turn of the same role. */
export function pushContent(
  contents: GeminiContent[],
  role: GeminiContent['role'],
  parts: Json[],
): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last !== undefined && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/** The bare base64 alphabet; data URLs and base64 sources must hold nothing else. */
export const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** An `inlineData` part; `data` is checked to be base64. */
export function inlinePart(mimeType: string, data: string, path: string, refuse: Refuse): Json {
  if (data.length === 0 || !BASE64.test(data)) refuse(path, 'must hold valid base64 data');
  return { inlineData: { mimeType, data } };
}

/** `data:<mime type>[;params];base64,<data>` → its MIME type and data; null for other URLs. */
export function parseDataUrl(
  url: string,
  path: string,
  refuse: Refuse,
): { mimeType: string; data: string } | null {
  if (!url.startsWith('data:')) return null;
  const comma = url.indexOf(',');
  if (comma === -1) refuse(path, 'malformed data URL (no comma)');
  const meta = url.slice(5, comma).split(';');
  if (!meta.slice(1).some((param) => param.trim().toLowerCase() === 'base64')) {
    refuse(path, 'data URLs must be base64-encoded (data:<type>;base64,<data>)');
  }
  const mimeType = meta[0].trim().toLowerCase();
  if (mimeType.length === 0) refuse(path, 'the data URL names no media type');
  return {
    mimeType: mimeType === 'image/jpg' ? 'image/jpeg' : mimeType,
    data: url.slice(comma + 1),
  };
}

/** MIME types by file extension, for linked files (Gemini's `fileData` needs one). */
const MIME_BY_EXTENSION: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** The MIME type an http(s) URL's path extension names, or null. */
export function mimeTypeOfUrl(url: string): string | null {
  let pathname: string;
  try {
    pathname = new URL(url).pathname;
  } catch {
    return null;
  }
  const dot = pathname.lastIndexOf('.');
  if (dot === -1) return null;
  const extension = pathname.slice(dot + 1).toLowerCase();
  return Object.hasOwn(MIME_BY_EXTENSION, extension) ? MIME_BY_EXTENSION[extension] : null;
}

/**
 * A `fileData` part for an http(s) URL, which the Gemini API fetches itself. Gemini needs the
 * MIME type, and a URL does not say it: it is taken from the path's extension (`given` when the
 * client named one), else the request is refused, pointing at inline data instead.
 */
export function linkedFilePart(url: string, path: string, refuse: Refuse, given?: string): Json {
  if (!/^https?:\/\//i.test(url)) refuse(path, 'must be an http(s) URL or a base64 data URL');
  const mimeType = given ?? mimeTypeOfUrl(url);
  if (mimeType === null) {
    refuse(
      path,
      'Gemini needs the media type of a linked file and this URL does not end in a known ' +
        'extension (.png, .jpg, .jpeg, .gif, .webp, .heic, .heif, .pdf); send the file inline ' +
        'as base64 instead',
      'unsupported_value',
    );
  }
  return { fileData: { mimeType, fileUri: url } };
}

/** An image (or file) URL: a base64 data URL → `inlineData`, an http(s) URL → `fileData`. */
export function mediaUrlPart(url: string, path: string, refuse: Refuse): Json {
  const dataUrl = parseDataUrl(url, path, refuse);
  if (dataUrl !== null) return inlinePart(dataUrl.mimeType, dataUrl.data, path, refuse);
  return linkedFilePart(url, path, refuse);
}

/** A tool call's arguments as the object Gemini's `functionCall.args` is. */
export function callArgs(args: unknown, path: string, refuse: Refuse): Json {
  if (typeof args === 'string') {
    if (args.trim().length === 0) return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(args);
    } catch {
      return refuse(path, 'must be a JSON object (the arguments are not valid JSON)');
    }
    return callArgs(parsed, path, refuse);
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return refuse(path, 'must be a JSON object', 'invalid_type');
  }
  return args as Json;
}

/**
 * Tool call ids Switchyard makes up for Gemini calls that have none start with this marker; they
 * are never sent back to Gemini, which matches function responses by name and order then.
 */
export const GENERATED_ID_MARKER = 'sy_';

/** An id for the `index`-th call of one answer that Gemini gave no id. */
export function generatedCallId(prefix: string, requestId: string, index: number): string {
  return `${prefix}${GENERATED_ID_MARKER}${requestId.replace(/[^A-Za-z0-9_-]/g, '')}_${index}`;
}

/** Whether an id is one Gemini gave (and so goes back to it), not one Switchyard made up. */
function upstreamId(id: string | undefined, prefix: string): string | undefined {
  if (id === undefined || id.startsWith(`${prefix}${GENERATED_ID_MARKER}`)) return undefined;
  return id;
}

/** A `functionCall` part given back to Gemini, with its thought signature when it had one. */
export function functionCallPart(
  name: string,
  args: Json,
  id: string | undefined,
  idPrefix: string,
  signature: string | undefined,
): Json {
  const call: Json = { name, args };
  const sent = upstreamId(id, idPrefix);
  if (sent !== undefined) call.id = sent;
  const part: Json = { functionCall: call };
  if (signature !== undefined && signature.length > 0) part.thoughtSignature = signature;
  return part;
}

/**
 * A `functionResponse` part. Gemini wants an object: a result that is a JSON object is sent as
 * it is; any other result (text, a JSON array or scalar) is wrapped as `{content: <text>}`, and a
 * failed call's result as `{error: …}` (the key Gemini documents for errors).
 */
export function functionResponsePart(
  name: string,
  id: string | undefined,
  idPrefix: string,
  result: string,
  isError: boolean,
): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(result);
  } catch {
    parsed = undefined;
  }
  const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
  const response: Json = isError
    ? { error: isObject ? parsed : result }
    : isObject
      ? (parsed as Json)
      : { content: result };
  const out: Json = { name, response };
  const sent = upstreamId(id, idPrefix);
  if (sent !== undefined) out.id = sent;
  return { functionResponse: out };
}

/**
 * A function declaration: name, description and the parameters' JSON Schema as
 * `parametersJsonSchema` (left out for a function without parameters; a top-level `$schema`,
 * which only names the JSON Schema dialect, is left out too).
 */
export function functionDeclaration(
  name: string,
  description: unknown,
  schema: unknown,
  path: string,
  refuse: Refuse,
): Json {
  const declaration: Json = { name };
  if (description !== undefined && description !== null) {
    if (typeof description !== 'string') {
      refuse(`${path}.description`, 'must be a string', 'invalid_type');
    }
    if (description.length > 0) declaration.description = description;
  }
  if (schema !== undefined && schema !== null) {
    if (typeof schema !== 'object' || Array.isArray(schema)) {
      refuse(`${path}.parameters`, 'must be a JSON Schema object', 'invalid_type');
    }
    // `$schema` only names the dialect: nothing for Gemini to honour, and one keyword less to trip on.
    const { $schema: _dialect, ...rest } = schema as Json;
    declaration.parametersJsonSchema = rest;
  }
  return declaration;
}

/** What the client asked of tool use, in terms Gemini has. */
export type GeminiToolChoice =
  { mode: 'AUTO' } | { mode: 'ANY'; only?: string; param?: string } | { mode: 'NONE' };

/**
 * `toolConfig.functionCallingConfig`: AUTO, ANY (one named function: `allowedFunctionNames`) or
 * NONE. A named function must be one of the declared tools.
 */
export function toolConfig(
  choice: GeminiToolChoice,
  declared: readonly string[],
  refuse: Refuse,
): Json {
  const config: Json = { mode: choice.mode };
  if (choice.mode === 'ANY' && choice.only !== undefined) {
    if (!declared.includes(choice.only)) {
      refuse(
        choice.param ?? 'tool_choice',
        `names the tool '${choice.only}', which is not among the tools given`,
      );
    }
    config.allowedFunctionNames = [choice.only];
  }
  return { functionCallingConfig: config };
}

/** The fields of a GenerationConfig whose value is set (an empty config is left out). */
export function compact(fields: Json): Json | undefined {
  const out: Json = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) out[key] = value;
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A finite number field, or a 400; undefined when absent (null counts as absent). */
export function numberField(value: unknown, path: string, refuse: Refuse): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    refuse(path, 'must be a number', 'invalid_type');
  }
  return value;
}

/** A positive integer field (a token count), or a 400; undefined when absent. */
export function countField(value: unknown, path: string, refuse: Refuse): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    refuse(path, 'must be a positive integer');
  }
  return value;
}
