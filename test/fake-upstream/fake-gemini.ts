/**
 * The Gemini API's wire format for the fake upstream (`generativelanguage.googleapis.com`):
 * routes, error bodies, and the generateContent payload in its three deliveries (one JSON body;
 * `streamGenerateContent?alt=sse` as `data: {…}\r\n\r\n` events; `streamGenerateContent` without
 * `alt=sse` as a streamed JSON array). Pure functions: FakeUpstream owns the sockets, scripting,
 * delays and faults, and asks this module what to write.
 *
 * Field names follow `@google/genai`'s types (GenerateContentResponse, UsageMetadata, Part,
 * FunctionCall, CountTokensResponse, Model). Errors follow Google's shape:
 * `{"error":{"code","message","status","details":[…]}}` with google.rpc detail types.
 */

/** The Gemini routes; a scenario's `endpoints` may name them. */
export type GeminiEndpoint =
  'gemini_generate' | 'gemini_stream' | 'gemini_count_tokens' | 'gemini_models';

export interface GeminiRoute {
  endpoint: GeminiEndpoint;
  /** The model of `models/{model}:{method}` or of `GET models/{model}`. */
  model?: string;
  /** `v1beta` or `v1`. */
  version: string;
}

export interface FakeGeminiModel {
  id: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
}

/** Ids are real model names; limits are plausible. */
export const FAKE_GEMINI_MODELS: readonly FakeGeminiModel[] = [
  {
    id: 'gemini-2.5-pro',
    displayName: 'Gemini 2.5 Pro',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
  },
  {
    id: 'gemini-2.5-flash',
    displayName: 'Gemini 2.5 Flash',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
  },
  {
    id: 'gemini-2.5-flash-lite',
    displayName: 'Gemini 2.5 Flash-Lite',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
  },
  {
    id: 'gemini-2.0-flash',
    displayName: 'Gemini 2.0 Flash',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 8_192,
  },
  {
    id: 'gemini-3-pro-preview',
    displayName: 'Gemini 3 Pro Preview',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
  },
];

export const DEFAULT_GEMINI_MODEL = 'gemini-2.5-flash';

/**
 * Keys that fail the way Google fails them, whatever the scenario (credential-driven faults;
 * `forCredential` scripts any other key):
 * - `fake-gemini-429…`: 429 RESOURCE_EXHAUSTED, per-minute per-model QuotaFailure, RetryInfo 30s;
 * - `fake-gemini-429-day…`: the same for a per-day quota (RetryInfo 30s as Google also sends);
 * - `fake-gemini-403…`: 403 PERMISSION_DENIED;
 * - `fake-gemini-invalid…`: 400 INVALID_ARGUMENT, ErrorInfo reason API_KEY_INVALID;
 * - `fake-gemini-500…`: 500 INTERNAL; `fake-gemini-503…`: 503 UNAVAILABLE.
 */
export const GEMINI_FAULT_KEYS = {
  rateLimited: 'fake-gemini-429',
  rateLimitedDaily: 'fake-gemini-429-day',
  forbidden: 'fake-gemini-403',
  invalid: 'fake-gemini-invalid',
  internal: 'fake-gemini-500',
  unavailable: 'fake-gemini-503',
} as const;

export const GEMINI_API_KEY_INVALID_MESSAGE = 'API key not valid. Please pass a valid API key.';
export const GEMINI_NO_KEY_MESSAGE =
  "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.";

// ---------------------------------------------------------------------------------------------
// Routes

const GENERATE =
  /^\/(v1beta|v1)\/models\/([^/:]+):(generateContent|streamGenerateContent|countTokens)$/;
const MODELS = /^\/(v1beta|v1)\/models(?:\/([^/:]+))?$/;

/**
 * The Gemini route of a request, or undefined for none. `GET /v1/models` is Anthropic's and
 * OpenAI's too: it is Gemini's only when the request carries a Google key (`googleKey`).
 */
export function geminiRouteOf(
  method: string,
  path: string,
  googleKey = false,
): GeminiRoute | undefined {
  if (method === 'POST') {
    const match = GENERATE.exec(path);
    if (match === null) return undefined;
    const endpoint: GeminiEndpoint =
      match[3] === 'generateContent'
        ? 'gemini_generate'
        : match[3] === 'streamGenerateContent'
          ? 'gemini_stream'
          : 'gemini_count_tokens';
    return { endpoint, model: decodeURIComponent(match[2]), version: match[1] };
  }
  if (method !== 'GET') return undefined;
  const match = MODELS.exec(path);
  if (match === null || (match[1] === 'v1' && !googleKey)) return undefined;
  return {
    endpoint: 'gemini_models',
    version: match[1],
    ...(match[2] === undefined ? {} : { model: decodeURIComponent(match[2]) }),
  };
}

/** The key of a Gemini request: `x-goog-api-key`, else `?key=`. */
export function geminiKeyOf(
  headers: Record<string, string | string[] | undefined>,
  search: string,
): string | undefined {
  const header = headers['x-goog-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  const key = new URLSearchParams(search).get('key');
  return key !== null && key !== '' ? key : undefined;
}

// ---------------------------------------------------------------------------------------------
// Errors

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const DEFAULT_MESSAGES: Record<number, string> = {
  400: 'Request contains an invalid argument.',
  401: 'Request had invalid authentication credentials.',
  403: 'The caller does not have permission',
  404: 'Requested entity was not found.',
  429: 'You exceeded your current quota, please check your plan and billing details.',
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

/** A QuotaFailure for a 429: which quota ran out. */
export interface FakeGeminiQuota {
  period: 'minute' | 'day';
  /** The model in `quotaDimensions`; default the request's. */
  model?: string;
  /** Default `free_tier`. */
  tier?: string;
}

export interface GeminiErrorSpec {
  status: number;
  message?: string;
  /** ErrorInfo reason (`API_KEY_INVALID`). */
  reason?: string;
  /** RetryInfo retryDelay in seconds. */
  retryDelaySeconds?: number;
  quota?: FakeGeminiQuota & { model: string };
}

/** Google's error body. */
export function geminiErrorBody(spec: GeminiErrorSpec): Record<string, unknown> {
  const details: Record<string, unknown>[] = [];
  if (spec.reason !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: spec.reason,
      domain: 'googleapis.com',
      metadata: { service: 'generativelanguage.googleapis.com' },
    });
  }
  if (spec.quota !== undefined) {
    const { period, model } = spec.quota;
    const tier = spec.quota.tier ?? 'free_tier';
    const per = period === 'day' ? 'PerDay' : 'PerMinute';
    details.push({
      '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
      violations: [
        {
          quotaMetric: `generativelanguage.googleapis.com/generate_content_${tier}_requests`,
          quotaId: `GenerateRequests${per}PerProjectPerModel-FreeTier`,
          quotaDimensions: { location: 'global', model },
          quotaValue: period === 'day' ? '50' : '2',
        },
      ],
    });
    details.push({
      '@type': 'type.googleapis.com/google.rpc.Help',
      links: [
        {
          description: 'Learn more about Gemini API quotas',
          url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
        },
      ],
    });
  }
  if (spec.retryDelaySeconds !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${spec.retryDelaySeconds}s`,
    });
  }
  return {
    error: {
      code: spec.status,
      message: spec.message ?? DEFAULT_MESSAGES[spec.status] ?? 'Error.',
      status:
        STATUS_NAMES[spec.status] ?? (spec.status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

/** The fault a built-in fault key stands for, or undefined for an ordinary key. */
export function geminiFaultOf(key: string, model: string): GeminiErrorSpec | undefined {
  const k = GEMINI_FAULT_KEYS;
  if (key.startsWith(k.rateLimitedDaily))
    return { status: 429, retryDelaySeconds: 30, quota: { period: 'day', model } };
  if (key.startsWith(k.rateLimited))
    return { status: 429, retryDelaySeconds: 30, quota: { period: 'minute', model } };
  if (key.startsWith(k.forbidden)) return { status: 403 };
  if (key.startsWith(k.invalid))
    return { status: 400, reason: 'API_KEY_INVALID', message: GEMINI_API_KEY_INVALID_MESSAGE };
  if (key.startsWith(k.internal)) return { status: 500 };
  if (key.startsWith(k.unavailable)) return { status: 503 };
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Requests

/** Fields of the request messages the fake checks, as the API's JSON mapping names them. */
const GENERATE_FIELDS = [
  'model',
  'contents',
  'tools',
  'toolConfig',
  'safetySettings',
  'systemInstruction',
  'generationConfig',
  'cachedContent',
];
const GENERATION_CONFIG_FIELDS = [
  'stopSequences',
  'responseMimeType',
  'responseSchema',
  'responseJsonSchema',
  'responseModalities',
  'candidateCount',
  'maxOutputTokens',
  'temperature',
  'topP',
  'topK',
  'seed',
  'presencePenalty',
  'frequencyPenalty',
  'responseLogprobs',
  'logprobs',
  'enableEnhancedCivicAnswers',
  'speechConfig',
  'thinkingConfig',
  'imageConfig',
  'mediaResolution',
];
const THINKING_CONFIG_FIELDS = ['includeThoughts', 'thinkingBudget', 'thinkingLevel'];
const CONTENT_FIELDS = ['role', 'parts'];
const PART_FIELDS = [
  'text',
  'inlineData',
  'fileData',
  'functionCall',
  'functionResponse',
  'thought',
  'thoughtSignature',
  'executableCode',
  'codeExecutionResult',
  'videoMetadata',
  'partMetadata',
  'mediaResolution',
];

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The proto JSON mapping takes a field by its lowerCamel name or its proto (snake_case) name. */
const camel = (name: string): string =>
  name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());

function invalid(message: string): GeminiErrorSpec {
  return { status: 400, message };
}

/** The first field of `value` the message does not define, as Google words it. */
function unknownField(
  value: Json,
  known: readonly string[],
  at: string,
): GeminiErrorSpec | undefined {
  const name = Object.keys(value).find((key) => !known.includes(camel(key)));
  if (name === undefined) return undefined;
  const where = at === '' ? '' : ` at '${at}'`;
  return invalid(
    `Invalid JSON payload received. Unknown name "${name}"${where}: Cannot find field.`,
  );
}

/** What the API refuses in a GenerateContentRequest (field names, roles, empty parts). */
function generateRequestProblem(body: Json, at: string): GeminiErrorSpec | undefined {
  const prefix = at === '' ? '' : `${at}.`;
  const unknown = unknownField(body, GENERATE_FIELDS, at);
  if (unknown !== undefined) return unknown;
  const contents = body.contents;
  if (!Array.isArray(contents) || contents.length === 0)
    return invalid(`* GenerateContentRequest.contents: contents is not specified\n`);
  for (const [i, content] of contents.entries()) {
    const path = `${prefix}contents[${i}]`;
    if (!isObject(content)) return invalid(`Invalid value at '${path}': not an object`);
    const bad = unknownField(content, CONTENT_FIELDS, path);
    if (bad !== undefined) return bad;
    if (content.role !== undefined && content.role !== 'user' && content.role !== 'model')
      return invalid('Please use a valid role: user, model.');
    if (!Array.isArray(content.parts) || content.parts.length === 0)
      return invalid(
        `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`,
      );
    for (const [j, part] of content.parts.entries()) {
      if (!isObject(part)) return invalid(`Invalid value at '${path}.parts[${j}]': not an object`);
      const badPart = unknownField(part, PART_FIELDS, `${path}.parts[${j}]`);
      if (badPart !== undefined) return badPart;
    }
  }
  const config = body.generationConfig ?? body.generation_config;
  if (isObject(config)) {
    const bad = unknownField(config, GENERATION_CONFIG_FIELDS, `${prefix}generation_config`);
    if (bad !== undefined) return bad;
    const thinking = config.thinkingConfig ?? config.thinking_config;
    if (isObject(thinking))
      return unknownField(
        thinking,
        THINKING_CONFIG_FIELDS,
        `${prefix}generation_config.thinking_config`,
      );
  }
  return undefined;
}

/**
 * What the API refuses in a request body before generating, or undefined: unknown field names
 * (the API rejects them rather than ignoring them), a role other than user or model, empty
 * contents or parts. A countTokens body holds `contents` or a whole `generateContentRequest`
 * (which must name its model as `models/…`), never both, and nothing else: a system instruction
 * or tools are counted only inside a generateContentRequest.
 */
export function geminiRequestProblem(
  endpoint: GeminiEndpoint,
  body: Json,
): GeminiErrorSpec | undefined {
  if (endpoint !== 'gemini_count_tokens') return generateRequestProblem(body, '');
  const unknown = unknownField(body, ['contents', 'generateContentRequest'], '');
  if (unknown !== undefined) return unknown;
  const inner = body.generateContentRequest ?? body.generate_content_request;
  if (inner !== undefined && body.contents !== undefined)
    return invalid('contents and generate_content_request cannot both be set.');
  if (inner === undefined) return generateRequestProblem(body, '');
  if (!isObject(inner))
    return invalid("Invalid value at 'generate_content_request': not an object");
  if (typeof inner.model !== 'string' || !/^models\/[^/]+$/.test(inner.model))
    return invalid('* GenerateContentRequest.model: unexpected model name format\n');
  return generateRequestProblem(inner, 'generate_content_request');
}

// ---------------------------------------------------------------------------------------------
// Payloads

/** A reply part in the neutral form the renderers take. */
export type GeminiBlock =
  | { kind: 'text'; parts: readonly string[]; signature?: string }
  | { kind: 'thought'; parts: readonly string[]; signature?: string }
  | { kind: 'call'; name: string; args: unknown; id?: string; signature?: string };

export interface GeminiUsageCounts {
  /** Uncached prompt tokens. */
  input: number;
  cacheRead: number;
  candidates: number;
  thoughts: number;
}

export type GeminiFinish = 'STOP' | 'MAX_TOKENS' | 'SAFETY';

export interface GeminiRenderInput {
  seq: number;
  model: string;
  blocks: readonly GeminiBlock[];
  usage: GeminiUsageCounts;
  finish: GeminiFinish;
  /** `responseId` (scenario `reply.id`); default `fake-gemini-response-<seq>`. */
  id?: string;
}

/** The full usageMetadata (what a body and a stream's last chunk carry). */
export function geminiUsageMetadata(usage: GeminiUsageCounts): Record<string, unknown> {
  const prompt = usage.input + usage.cacheRead;
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: usage.candidates,
    totalTokenCount: prompt + usage.candidates + usage.thoughts,
    ...(usage.cacheRead > 0 ? { cachedContentTokenCount: usage.cacheRead } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: prompt }],
    ...(usage.thoughts > 0 ? { thoughtsTokenCount: usage.thoughts } : {}),
  };
}

/** A block's `thoughtSignature` on a part (Gemini signs function calls and its last part). */
function signed(part: Record<string, unknown>, signature: string | undefined) {
  return signature === undefined ? part : { ...part, thoughtSignature: signature };
}

function wholePart(block: GeminiBlock): Record<string, unknown> {
  return signed(unsignedPart(block), block.signature);
}

function unsignedPart(block: GeminiBlock): Record<string, unknown> {
  switch (block.kind) {
    case 'text':
      return { text: block.parts.join('') };
    case 'thought':
      return { text: block.parts.join(''), thought: true };
    case 'call':
      return {
        functionCall: {
          ...(block.id === undefined ? {} : { id: block.id }),
          name: block.name,
          args: block.args,
        },
      };
  }
}

function candidate(
  parts: Record<string, unknown>[],
  finish?: GeminiFinish,
): Record<string, unknown> {
  return {
    content: { parts, role: 'model' },
    ...(finish === undefined ? {} : { finishReason: finish }),
    index: 0,
  };
}

const responseId = (input: GeminiRenderInput): string =>
  input.id ?? `fake-gemini-response-${input.seq}`;

/** A generateContent response body. */
export function geminiResponsePayload(input: GeminiRenderInput): Record<string, unknown> {
  return {
    candidates: [candidate(input.blocks.map(wholePart), input.finish)],
    usageMetadata: geminiUsageMetadata(input.usage),
    modelVersion: input.model,
    responseId: responseId(input),
  };
}

/**
 * The chunks of a streamed reply: one per text or thought delta, one per function call (Gemini
 * sends a call whole), then the last, which carries the finishReason and the full usage. Every
 * chunk before it reports the prompt count only, as Google's do.
 */
export function geminiStreamChunks(input: GeminiRenderInput): Record<string, unknown>[] {
  const prompt = input.usage.input + input.usage.cacheRead;
  const partial = { promptTokenCount: prompt, totalTokenCount: prompt };
  const parts: Record<string, unknown>[] = [];
  for (const block of input.blocks) {
    if (block.kind === 'call') parts.push(wholePart(block));
    else
      block.parts.forEach((text, i) => {
        const part = block.kind === 'thought' ? { text, thought: true } : { text };
        // A streamed block's signature comes with its last piece.
        parts.push(i === block.parts.length - 1 ? signed(part, block.signature) : part);
      });
  }
  const common = { modelVersion: input.model, responseId: responseId(input) };
  const chunks = parts.map((part) => ({
    candidates: [candidate([part])],
    usageMetadata: partial,
    ...common,
  }));
  chunks.push({
    candidates: [candidate([{ text: '' }], input.finish)],
    usageMetadata: geminiUsageMetadata(input.usage) as typeof partial,
    ...common,
  });
  return chunks;
}

/** `alt=sse`: one `data:` event per chunk, CRLF line ends as Google sends them. */
export function geminiSseEvents(chunks: readonly unknown[]): string[] {
  return chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`);
}

/**
 * Without `alt=sse`: a JSON array written as it grows, each element pretty-printed, elements
 * separated by `\r\n,\r\n`, closed by `]` (the string list joins to one valid JSON array).
 */
export function geminiJsonArrayParts(chunks: readonly unknown[]): string[] {
  const parts = chunks.map(
    (chunk, i) => `${i === 0 ? '[' : '\r\n,\r\n'}${JSON.stringify(chunk, null, 2)}`,
  );
  parts.push(chunks.length === 0 ? '[]' : '\r\n]');
  return parts;
}

/** A mid-stream error in either delivery. */
export function geminiStreamErrorPart(
  sse: boolean,
  status: number,
  message: string,
  first: boolean,
): string {
  const body = geminiErrorBody({ status, message });
  if (sse) return `data: ${JSON.stringify(body)}\r\n\r\n`;
  return `${first ? '[' : '\r\n,\r\n'}${JSON.stringify(body, null, 2)}\r\n]`;
}

export function geminiModelToWire(
  model: FakeGeminiModel,
  version: string,
): Record<string, unknown> {
  return {
    name: `models/${model.id}`,
    version: '001',
    displayName: model.displayName,
    description: `${model.displayName} (fake upstream, ${version})`,
    inputTokenLimit: model.inputTokenLimit,
    outputTokenLimit: model.outputTokenLimit,
    supportedGenerationMethods: [
      'generateContent',
      'countTokens',
      'createCachedContent',
      'batchGenerateContent',
    ],
    temperature: 1,
    topP: 0.95,
    topK: 64,
    maxTemperature: 2,
    thinking: true,
  };
}

export function geminiModelsPayload(version: string): Record<string, unknown> {
  return { models: FAKE_GEMINI_MODELS.map((model) => geminiModelToWire(model, version)) };
}

/** Models the fake serves: its list, and any other `gemini-…` or `gemma-…` name. */
export function isKnownGeminiModel(model: string): boolean {
  return /^(gemini|gemma)-/.test(model);
}

export function geminiModelNotFound(
  model: string,
  version: string,
  method: string,
): GeminiErrorSpec {
  return {
    status: 404,
    message: `models/${model} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
  };
}
