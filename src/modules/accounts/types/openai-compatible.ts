import { AccountsException, AccountsExceptionCode } from '../accounts.exception';
import type {
  AccountTypeDescriptor,
  CredentialField,
  HealthRules,
  TestRequest,
} from './account-type.descriptor';
import { isPlainObject, maskSecret, parseCredentialFields } from './credential-fields';
import { openAIHealthRules } from './openai.health-rules';
import { OPENAI_MODEL_FAMILIES, openAIModelFamily } from './openai.model-families';

/**
 * How a server takes a request to reason, when a client asks for thinking:
 * - `none`: it takes no such field; thinking settings are not sent (the model reasons or not
 *   by itself; reasoning it returns still comes back as thinking).
 * - `reasoning_effort`: `reasoning_effort: low | medium | high` (OpenAI, Groq, xAI, many vLLM
 *   servers).
 * - `openrouter`: `reasoning: {max_tokens | enabled}` (OpenRouter).
 * - `thinking`: `thinking: {type: enabled | disabled, budget_tokens}` (GLM / Zhipu, Kimi,
 *   DeepSeek's and others' servers that copied Anthropic's switch).
 * - `enable_thinking`: `enable_thinking: true | false, thinking_budget` (Qwen on DashScope).
 */
export const REASONING_STYLES = [
  'none',
  'reasoning_effort',
  'openrouter',
  'thinking',
  'enable_thinking',
] as const;
export type ReasoningStyle = (typeof REASONING_STYLES)[number];

/** Which field carries the output cap. */
export const MAX_TOKENS_FIELDS = ['max_tokens', 'max_completion_tokens'] as const;
export type MaxTokensField = (typeof MAX_TOKENS_FIELDS)[number];

/**
 * What one server accepts beyond plain Chat Completions; every field is optional and defaults
 * to what most servers take (resolveQuirks).
 */
export interface OpenAICompatibleQuirks {
  /** The largest output cap the server takes; larger requests are lowered to it. */
  maxOutputTokens?: number;
  /** Default `max_tokens` (the field every server reads). */
  maxTokensField?: MaxTokensField;
  /** Whether it takes `tools` (default true). */
  tools?: boolean;
  /** Whether it takes `stream_options` (default true). */
  streamOptions?: boolean;
  /** Whether it reads image parts (default true). */
  images?: boolean;
  /** Default `none`. */
  reasoning?: ReasoningStyle;
}

/** The quirks with every default filled in. */
export interface ResolvedQuirks {
  maxOutputTokens: number | null;
  maxTokensField: MaxTokensField;
  tools: boolean;
  streamOptions: boolean;
  images: boolean;
  reasoning: ReasoningStyle;
}

/**
 * Any server that speaks OpenAI Chat Completions (DeepSeek, OpenRouter, Qwen, Kimi, GLM, a
 * local vLLM or Ollama, …), by base URL, with an optional key and the server's quirks. These
 * settings live with the credentials (none is secret but the key) because an account has no
 * other place for per-type settings.
 */
export interface OpenAICompatibleCredentials {
  type: 'openai-compatible';
  /** Sent as `Authorization: Bearer`; absent for servers that take no key (local ones). */
  apiKey?: string;
  /** Sent with every request (OpenRouter's `HTTP-Referer` and `X-Title`, a gateway's header). */
  extraHeaders?: Record<string, string>;
  /** Merged into every request body, over the fields of the same name. */
  extraBody?: Record<string, unknown>;
  quirks?: OpenAICompatibleQuirks;
}

export interface OpenAICompatibleCredentialsSummary {
  type: 'openai-compatible';
  readable: true;
  apiKeyHint: string | null;
  /** Header names only: a header may carry a secret. */
  extraHeaderNames: string[];
  extraBody: Record<string, unknown> | null;
  quirks: ResolvedQuirks;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'apiKey',
    required: false,
    secret: true,
    kind: 'string',
    description:
      "the server's API key, sent as Authorization: Bearer (leave out for servers that take none)",
  },
  {
    name: 'extraHeaders',
    required: false,
    secret: false,
    kind: 'map',
    description: 'headers sent with every request (e.g. OpenRouter HTTP-Referer and X-Title)',
  },
  {
    name: 'extraBody',
    required: false,
    secret: false,
    kind: 'object',
    description: 'fields merged into every request body (over the client’s fields of that name)',
  },
  {
    name: 'quirks',
    required: false,
    secret: false,
    kind: 'object',
    description:
      `{maxOutputTokens, maxTokensField: ${MAX_TOKENS_FIELDS.join('|')}, tools, streamOptions, ` +
      `images, reasoning: ${REASONING_STYLES.join('|')}}`,
  },
];

/** Headers Switchyard sets itself, or that would break the exchange. */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'content-type',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'proxy-authorization',
  'expect',
]);

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Body fields a request cannot do without or that the relay decides. */
const RESERVED_BODY_FIELDS: ReadonlySet<string> = new Set(['model', 'messages', 'stream']);

const QUIRK_NAMES: ReadonlySet<string> = new Set([
  'maxOutputTokens',
  'maxTokensField',
  'tools',
  'streamOptions',
  'images',
  'reasoning',
]);

const MAX_OUTPUT_TOKENS = 10_000_000;

function credentialsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

function checkHeaders(credentials: OpenAICompatibleCredentials): void {
  for (const name of Object.keys(credentials.extraHeaders ?? {})) {
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      throw credentialsError(`credentials.extraHeaders: "${name}" is not a header name`);
    }
    if (RESERVED_HEADERS.has(lower)) {
      throw credentialsError(`credentials.extraHeaders: ${lower} is set by Switchyard`);
    }
    if (lower === 'authorization' && credentials.apiKey !== undefined) {
      throw credentialsError(
        'credentials.extraHeaders: authorization comes from apiKey; give one or the other',
      );
    }
  }
}

function checkBody(body: Record<string, unknown> | undefined): void {
  for (const key of Object.keys(body ?? {})) {
    if (RESERVED_BODY_FIELDS.has(key)) {
      throw credentialsError(`credentials.extraBody: ${key} cannot be overridden`);
    }
  }
}

function checkQuirks(quirks: Record<string, unknown> | undefined): void {
  if (quirks === undefined) return;
  for (const [key, value] of Object.entries(quirks)) {
    if (!QUIRK_NAMES.has(key)) {
      throw credentialsError(
        `credentials.quirks accepts ${[...QUIRK_NAMES].join(', ')}; unexpected: ${key}`,
      );
    }
    const path = `credentials.quirks.${key}`;
    switch (key) {
      case 'maxOutputTokens':
        if (
          typeof value !== 'number' ||
          !Number.isSafeInteger(value) ||
          value < 1 ||
          value > MAX_OUTPUT_TOKENS
        ) {
          throw credentialsError(`${path} must be an integer from 1 to ${MAX_OUTPUT_TOKENS}`);
        }
        break;
      case 'maxTokensField':
        if (!MAX_TOKENS_FIELDS.includes(value as MaxTokensField)) {
          throw credentialsError(`${path} must be one of ${MAX_TOKENS_FIELDS.join(', ')}`);
        }
        break;
      case 'reasoning':
        if (!REASONING_STYLES.includes(value as ReasoningStyle)) {
          throw credentialsError(`${path} must be one of ${REASONING_STYLES.join(', ')}`);
        }
        break;
      default:
        if (typeof value !== 'boolean') throw credentialsError(`${path} must be true or false`);
    }
  }
}

export function parseOpenAICompatibleCredentials(input: unknown): OpenAICompatibleCredentials {
  // The fields mirror OpenAICompatibleCredentials; the objects are checked below.
  const credentials = parseCredentialFields(
    'openai-compatible',
    FIELDS,
    input,
  ) as unknown as OpenAICompatibleCredentials;
  checkHeaders(credentials);
  checkBody(credentials.extraBody);
  checkQuirks(credentials.quirks as Record<string, unknown> | undefined);
  return credentials;
}

/** The account's quirks with the defaults most servers match. */
export function resolveQuirks(credentials: OpenAICompatibleCredentials): ResolvedQuirks {
  const quirks = credentials.quirks ?? {};
  return {
    maxOutputTokens: quirks.maxOutputTokens ?? null,
    maxTokensField: quirks.maxTokensField ?? 'max_tokens',
    tools: quirks.tools ?? true,
    streamOptions: quirks.streamOptions ?? true,
    images: quirks.images ?? true,
    reasoning: quirks.reasoning ?? 'none',
  };
}

/** The request headers of these credentials: the extra headers, then the key (if any). */
export function openAICompatibleHeaders(
  credentials: OpenAICompatibleCredentials,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(credentials.extraHeaders ?? {})) {
    headers[name.toLowerCase()] = value;
  }
  if (credentials.apiKey !== undefined) headers.authorization = `Bearer ${credentials.apiKey}`;
  return headers;
}

/** The base URL is what `/chat/completions` is appended to (usually ending in `/v1`). */
function baseUrlProblem(baseUrl: string): string | null {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return /\/chat\/completions$/i.test(path)
    ? 'openai-compatible baseUrl is the API root that /chat/completions is added to ' +
        '(e.g. https://api.deepseek.com/v1), without /chat/completions'
    : null;
}

/**
 * OpenAI's readings (a 429's reset from `retry-after`, `retry-after-ms` or
 * `x-ratelimit-reset-*`; deactivated-account codes), except that a 403 also means the key was
 * refused: servers of this kind answer a revoked or under-privileged key with either, and
 * nothing else of a 403 is worth retrying elsewhere. No usage windows (those are Codex's).
 */
export const openAICompatibleHealthRules: HealthRules = {
  rateLimitReset: (headers, now, bodyText) =>
    openAIHealthRules.rateLimitReset(headers, now, bodyText),
  rateLimitScope: (headers, bodyText) => openAIHealthRules.rateLimitScope(headers, bodyText),
  isBlocked: (status, bodyText) => openAIHealthRules.isBlocked(status, bodyText),
  blockedReason: (bodyText) => openAIHealthRules.blockedReason(bodyText),
  isAuthFailed: (status, bodyText) =>
    (status === 401 || status === 403) && !openAIHealthRules.isBlocked(status, bodyText),
};

/**
 * One output token of Chat Completions with `max_tokens`, the field every server reads. The
 * default model is only a placeholder: such servers name their own models, so give the account a
 * model list and the test uses its first.
 */
const testRequest: TestRequest = {
  defaultModel: 'default',
  build: (model) => ({
    method: 'POST',
    path: '/chat/completions',
    body: { model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] },
  }),
};

export const openAICompatibleDescriptor: AccountTypeDescriptor<
  OpenAICompatibleCredentials,
  OpenAICompatibleCredentialsSummary
> = {
  type: 'openai-compatible',
  platform: 'openai',
  label: 'OpenAI-compatible server (Chat Completions)',
  provider: 'openai-compatible',
  credentialFields: FIELDS,
  parseCredentials: parseOpenAICompatibleCredentials,
  describeCredentials: (credentials) => ({
    type: 'openai-compatible',
    readable: true,
    apiKeyHint: credentials.apiKey === undefined ? null : maskSecret(credentials.apiKey),
    extraHeaderNames: Object.keys(credentials.extraHeaders ?? {}),
    extraBody: isPlainObject(credentials.extraBody) ? credentials.extraBody : null,
    quirks: resolveQuirks(credentials),
  }),
  // No default: the server's own URL is the whole point of such an account.
  defaultBaseUrlSetting: null,
  baseUrlProblem,
  health: openAICompatibleHealthRules,
  modelFamilies: OPENAI_MODEL_FAMILIES,
  modelFamily: openAIModelFamily,
  supportsSubscription: false,
  testRequest,
  hasRefresher: false,
};
