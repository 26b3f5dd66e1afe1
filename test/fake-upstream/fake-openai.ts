/**
 * OpenAI wire formats for the fake upstream: routes, response headers, error bodies, and the
 * Chat Completions / Responses payloads and event streams. Pure functions: FakeUpstream owns the
 * sockets, scripting, delays and faults, and asks this module what to write.
 *
 * Field names follow the `openai` SDK's types (resources/chat/completions/completions.d.ts,
 * resources/responses/responses.d.ts). Codex backend facts cite openai/codex paths inline.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Which upstream API a request spoke: decides error shapes and response headers. */
export type FakeSurface = 'anthropic' | 'openai' | 'azure' | 'codex' | 'gemini';

/** The OpenAI routes; `models` is shared with the Anthropic surface. */
export type OpenAIEndpoint = 'chat_completions' | 'responses' | 'codex_responses' | 'models';

export interface OpenAIRoute {
  endpoint: OpenAIEndpoint;
  surface: Exclude<FakeSurface, 'anthropic' | 'gemini'>;
  /** Azure deployment-shaped paths only. */
  deployment?: string;
  /** `/v1/models/{id}`: the model asked for. */
  modelId?: string;
  /** The generic OpenAI-compatible server (fake-compat.ts): its profile name. */
  compat?: string;
}

/**
 * `x-ratelimit-*` headers OpenAI sends on every API response. Reset values are Go-style
 * durations (`6m0s`, `1s`, `20ms`); a number is taken as milliseconds and formatted so.
 */
export interface FakeOpenAIRateLimit {
  limitRequests?: number;
  remainingRequests?: number;
  resetRequests?: string | number;
  limitTokens?: number;
  remainingTokens?: number;
  resetTokens?: string | number;
}

/**
 * The usage windows the ChatGPT Codex backend reports in `x-codex-*` headers. Primary is the
 * 5-hour window (300 minutes), secondary the weekly one (10080 minutes) on current plans.
 */
export interface FakeCodexUsage {
  primaryUsedPercent?: number;
  primaryWindowMinutes?: number;
  primaryResetAfterSeconds?: number;
  secondaryUsedPercent?: number;
  secondaryWindowMinutes?: number;
  secondaryResetAfterSeconds?: number;
  /** `x-codex-plan-type`; default `plus`. */
  planType?: string;
  /** `x-codex-active-limit`; not sent unless set. */
  activeLimit?: string;
  /** `x-codex-credits-*`; not sent unless set. */
  credits?: { hasCredits: boolean; unlimited: boolean; balance?: string };
}

/** The Codex 429 `usage_limit_reached` answer (see `codexUsageLimitBody`). */
export interface FakeCodexUsageLimit {
  /** Seconds until the exhausted window resets; default 3600. */
  resetsInSeconds?: number;
  /** Default `plus`. */
  planType?: string;
  /** Which window ran out (its headers say 100%); default `primary`. */
  window?: 'primary' | 'secondary';
  message?: string;
}

/** A reply block in the neutral form the OpenAI renderers take. */
export type OpenAIBlock =
  | { kind: 'text'; parts: readonly string[] }
  | { kind: 'tool'; callId: string; name: string; argumentChunks: readonly string[] }
  | { kind: 'reasoning'; parts: readonly string[]; encryptedContent: string };

/** Token counts to report. `input` excludes cached tokens; `output` includes reasoning. */
export interface OpenAIUsageCounts {
  input: number;
  cacheRead: number;
  output: number;
  reasoning: number;
}

/** `end_turn` and friends are the scenario's (Anthropic-named) stop reasons. */
export type OpenAIStop = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAIRenderInput {
  seq: number;
  model: string;
  blocks: readonly OpenAIBlock[];
  usage: OpenAIUsageCounts;
  stop: OpenAIStop;
  /** Epoch seconds. */
  createdAt: number;
  /** The parsed request body (echoed where the API echoes it). */
  request: Record<string, unknown>;
  /** Responses id override (scenario `reply.id`). */
  id?: string;
}

export interface FakeOpenAIModel {
  id: string;
  created: number;
  ownedBy: string;
}

/** Ids are real model names; creation times are only plausible. */
export const FAKE_OPENAI_MODELS: readonly FakeOpenAIModel[] = [
  { id: 'gpt-5', created: 1754425777, ownedBy: 'system' },
  { id: 'gpt-5-mini', created: 1754425928, ownedBy: 'system' },
  { id: 'gpt-5-codex', created: 1757527818, ownedBy: 'system' },
  { id: 'gpt-4.1', created: 1744316542, ownedBy: 'system' },
  { id: 'o4-mini', created: 1744225351, ownedBy: 'system' },
];

export const DEFAULT_OPENAI_MODEL = 'gpt-5';

export const DEFAULT_OPENAI_RATE_LIMIT: Required<FakeOpenAIRateLimit> = {
  limitRequests: 5000,
  remainingRequests: 4999,
  resetRequests: '12ms',
  limitTokens: 2_000_000,
  remainingTokens: 1_999_000,
  resetTokens: '30ms',
};

export const DEFAULT_CODEX_USAGE: Required<Omit<FakeCodexUsage, 'activeLimit' | 'credits'>> = {
  primaryUsedPercent: 12,
  primaryWindowMinutes: 300,
  primaryResetAfterSeconds: 9_000,
  secondaryUsedPercent: 31,
  secondaryWindowMinutes: 10_080,
  secondaryResetAfterSeconds: 302_400,
  planType: 'plus',
};

/**
 * Codex backend request checks, as third parties observed `chatgpt.com/backend-api/codex/
 * responses` answering (the Codex CLI always streams, sends `store: false` and instructions, so
 * codex-rs has no code for these answers): 400 with a FastAPI-style `{"detail": ...}` body.
 */
export const CODEX_STREAM_REQUIRED = 'Stream must be set to true';
export const CODEX_STORE_REQUIRED = 'Store must be set to false';
export const CODEX_INSTRUCTIONS_REQUIRED = 'Instructions are required';

// ---------------------------------------------------------------------------------------------
// Routes

const AZURE_DEPLOYMENT = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|responses)$/;

/** The OpenAI-family route of a request, or undefined for none (Anthropic or unknown). */
export function openAIRouteOf(
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
): OpenAIRoute | undefined {
  if (method === 'POST') {
    switch (path) {
      case '/v1/chat/completions':
        return { endpoint: 'chat_completions', surface: 'openai' };
      case '/v1/responses':
        return { endpoint: 'responses', surface: 'openai' };
      case '/openai/v1/chat/completions':
        return { endpoint: 'chat_completions', surface: 'azure' };
      // `AzureOpenAI` from the SDK sends Responses here (only chat/completions and a few others
      // get the deployment segment, node_modules/openai/azure.js `_deployments_endpoints`).
      case '/openai/v1/responses':
      case '/openai/responses':
        return { endpoint: 'responses', surface: 'azure' };
      case '/backend-api/codex/responses':
        return { endpoint: 'codex_responses', surface: 'codex' };
    }
    const deployment = AZURE_DEPLOYMENT.exec(path);
    if (deployment) {
      return {
        endpoint: deployment[2] === 'responses' ? 'responses' : 'chat_completions',
        surface: 'azure',
        deployment: decodeURIComponent(deployment[1]),
      };
    }
    return undefined;
  }
  if (method !== 'GET') return undefined;
  if (path === '/openai/v1/models') return { endpoint: 'models', surface: 'azure' };
  // `/v1/models` is Anthropic's too; told apart as the relay does (anthropic-relay.controller.ts):
  // Anthropic clients send anthropic-version or x-api-key.
  if (headers['anthropic-version'] !== undefined || headers['x-api-key'] !== undefined) {
    return undefined;
  }
  if (path === '/v1/models') return { endpoint: 'models', surface: 'openai' };
  if (path.startsWith('/v1/models/')) {
    const modelId = decodeURIComponent(path.slice('/v1/models/'.length));
    return { endpoint: 'models', surface: 'openai', modelId };
  }
  return undefined;
}

/** Paths under these prefixes are OpenAI-family: unknown ones get OpenAI-shaped 404s. */
export function isOpenAIFamilyPath(path: string): boolean {
  return path.startsWith('/openai/') || path.startsWith('/backend-api/');
}

// ---------------------------------------------------------------------------------------------
// Headers

/**
 * Go's time.Duration formatting at millisecond resolution, which OpenAI's reset headers use:
 * 20 -> `20ms`, 1000 -> `1s`, 1500 -> `1.5s`, 360000 -> `6m0s`, 3723000 -> `1h2m3s`.
 */
export function formatOpenAIDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`duration must be >= 0 ms, got ${ms}`);
  const whole = Math.round(ms);
  if (whole < 1000) return `${whole}ms`;
  const hours = Math.floor(whole / 3_600_000);
  const minutes = Math.floor((whole % 3_600_000) / 60_000);
  const seconds = (whole % 60_000) / 1000;
  const secondsText = `${seconds}s`;
  if (hours > 0) return `${hours}h${minutes}m${secondsText}`;
  if (minutes > 0) return `${minutes}m${secondsText}`;
  return secondsText;
}

/** The fields that are set, so that `{ field: undefined }` keeps the default. */
function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(value).filter(([, field]) => field !== undefined),
  ) as Partial<T>;
}

const durationHeader = (value: string | number): string =>
  typeof value === 'number' ? formatOpenAIDuration(value) : value;

export function openAIRateLimitHeaders(rateLimit: FakeOpenAIRateLimit): Record<string, string> {
  const merged = { ...DEFAULT_OPENAI_RATE_LIMIT, ...definedOnly(rateLimit) };
  return {
    'x-ratelimit-limit-requests': String(merged.limitRequests),
    'x-ratelimit-remaining-requests': String(merged.remainingRequests),
    'x-ratelimit-reset-requests': durationHeader(merged.resetRequests),
    'x-ratelimit-limit-tokens': String(merged.limitTokens),
    'x-ratelimit-remaining-tokens': String(merged.remainingTokens),
    'x-ratelimit-reset-tokens': durationHeader(merged.resetTokens),
  };
}

/**
 * The `x-codex-*` usage headers. Names: codex-rs/codex-api/src/rate_limits.rs reads
 * `x-codex-{primary,secondary}-{used-percent,window-minutes,reset-at}` (reset-at in epoch
 * seconds), plus `x-codex-credits-{has-credits,unlimited,balance}`; older codex-rs
 * (core/src/client.rs `parse_rate_limit_snapshot`) read `-reset-after-seconds` and
 * `x-codex-primary-over-secondary-limit-percent`. The live backend sends both reset forms and
 * `x-codex-plan-type`, so the fake does too.
 */
export function codexUsageHeaders(usage: FakeCodexUsage, nowMs: number): Record<string, string> {
  const u = { ...DEFAULT_CODEX_USAGE, ...definedOnly(usage) };
  const nowSeconds = Math.floor(nowMs / 1000);
  const headers: Record<string, string> = {
    'x-codex-plan-type': u.planType,
    'x-codex-primary-used-percent': String(u.primaryUsedPercent),
    'x-codex-primary-window-minutes': String(u.primaryWindowMinutes),
    'x-codex-primary-reset-after-seconds': String(u.primaryResetAfterSeconds),
    'x-codex-primary-reset-at': String(nowSeconds + u.primaryResetAfterSeconds),
    'x-codex-secondary-used-percent': String(u.secondaryUsedPercent),
    'x-codex-secondary-window-minutes': String(u.secondaryWindowMinutes),
    'x-codex-secondary-reset-after-seconds': String(u.secondaryResetAfterSeconds),
    'x-codex-secondary-reset-at': String(nowSeconds + u.secondaryResetAfterSeconds),
    // The ratio of the 5-hour limit to the weekly one, in percent.
    'x-codex-primary-over-secondary-limit-percent': String(
      Math.round((u.primaryWindowMinutes / u.secondaryWindowMinutes) * 10_000) / 100,
    ),
  };
  if (usage.activeLimit !== undefined) headers['x-codex-active-limit'] = usage.activeLimit;
  if (usage.credits !== undefined) {
    headers['x-codex-credits-has-credits'] = String(usage.credits.hasCredits);
    headers['x-codex-credits-unlimited'] = String(usage.credits.unlimited);
    if (usage.credits.balance !== undefined) {
      headers['x-codex-credits-balance'] = usage.credits.balance;
    }
  }
  return headers;
}

/** A stable Azure-style request id (apim-request-id is a UUID). */
export function fakeUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Errors

export interface OpenAIErrorSpec {
  status: number;
  type?: string;
  code?: string | null;
  message?: string;
  param?: string | null;
}

interface OpenAIErrorDefaults {
  type: string;
  code: string | null;
  message: string;
}

/** What api.openai.com answers for each status (the documented error codes and messages). */
function openAIErrorDefaults(status: number, credential: string | undefined): OpenAIErrorDefaults {
  switch (status) {
    case 400:
      return { type: 'invalid_request_error', code: null, message: 'Invalid request.' };
    case 401:
      return {
        type: 'invalid_request_error',
        code: 'invalid_api_key',
        message: `Incorrect API key provided: ${maskKey(credential)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      };
    case 403:
      return {
        type: 'request_forbidden',
        code: 'unsupported_country_region_territory',
        message: 'Country, region, or territory not supported',
      };
    case 404:
      return {
        type: 'invalid_request_error',
        code: 'model_not_found',
        message: 'The model does not exist or you do not have access to it.',
      };
    case 429:
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message:
          'Rate limit reached for requests per min (RPM): Limit 5000, Used 5000, Requested 1. Please try again in 12ms.',
      };
    case 503:
      return {
        type: 'server_error',
        code: null,
        message: 'The engine is currently overloaded, please try again later.',
      };
    default:
      return status < 500
        ? { type: 'invalid_request_error', code: null, message: 'Invalid request.' }
        : {
            type: 'server_error',
            code: null,
            message: 'The server had an error while processing your request. Sorry about that!',
          };
  }
}

/** Azure OpenAI's well-known messages; its errors carry `code` (often the status) and message. */
function azureErrorMessage(status: number): string {
  switch (status) {
    case 401:
      return 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.';
    case 404:
      return 'Resource not found';
    case 429:
      return 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second.';
    default:
      return status < 500 ? 'Invalid request.' : 'The server had an error processing your request.';
  }
}

function maskKey(credential: string | undefined): string {
  if (credential === undefined || credential.length < 8) return '***';
  return `${credential.slice(0, 3)}***${credential.slice(-4)}`;
}

/**
 * The error body for a surface: `{"error":{"message","type","param","code"}}` on OpenAI and the
 * Codex backend, `{"error":{"code","message"}}` on Azure (whose codes are usually the status).
 */
export function openAIErrorBody(
  surface: Exclude<FakeSurface, 'anthropic'>,
  spec: OpenAIErrorSpec,
  credential: string | undefined,
): Record<string, unknown> {
  if (surface === 'azure') {
    return {
      error: {
        code: spec.code ?? String(spec.status),
        message: spec.message ?? azureErrorMessage(spec.status),
        ...(spec.type !== undefined ? { type: spec.type } : {}),
      },
    };
  }
  const defaults = openAIErrorDefaults(spec.status, credential);
  if (surface === 'codex' && spec.status === 401 && spec.code === undefined) {
    // What the backend says for an expired access token (Codex CLI users report this text).
    defaults.code = 'token_expired';
    defaults.type = 'invalid_request_error';
    defaults.message = 'Provided authentication token is expired. Please try signing in again.';
  }
  return {
    error: {
      message: spec.message ?? defaults.message,
      type: spec.type ?? defaults.type,
      param: spec.param ?? null,
      code: spec.code === undefined ? defaults.code : spec.code,
    },
  };
}

/**
 * The Codex 429 body. codex-rs/codex-api/src/api_bridge.rs maps a 429 whose
 * `error.type == "usage_limit_reached"` to `UsageLimitReachedError`, reading `error.plan_type`
 * and `error.resets_at` (epoch seconds) and the `x-codex-*` headers (the window family named by
 * `x-codex-active-limit`); `error.type == "usage_not_included"` is the other 429 it knows.
 * Older codex-rs read `error.resets_in_seconds`; the live backend sends both.
 */
export function codexUsageLimitBody(
  limit: FakeCodexUsageLimit,
  nowMs: number,
): Record<string, unknown> {
  const resetsIn = limit.resetsInSeconds ?? 3600;
  return {
    error: {
      type: 'usage_limit_reached',
      message: limit.message ?? 'The usage limit has been reached',
      plan_type: limit.planType ?? 'plus',
      resets_at: Math.floor(nowMs / 1000) + resetsIn,
      resets_in_seconds: resetsIn,
    },
  };
}

/** The usage headers that go with a usage-limit 429: the exhausted window at 100%. */
export function codexUsageForLimit(
  limit: FakeCodexUsageLimit,
  usage: FakeCodexUsage | undefined,
): FakeCodexUsage {
  const resetsIn = limit.resetsInSeconds ?? 3600;
  const planType = limit.planType ?? usage?.planType;
  return limit.window === 'secondary'
    ? { ...usage, planType, secondaryUsedPercent: 100, secondaryResetAfterSeconds: resetsIn }
    : { ...usage, planType, primaryUsedPercent: 100, primaryResetAfterSeconds: resetsIn };
}

// ---------------------------------------------------------------------------------------------
// Models

export function openAIModelsPayload(): Record<string, unknown> {
  return { object: 'list', data: FAKE_OPENAI_MODELS.map(modelToWire) };
}

export function modelToWire(model: FakeOpenAIModel): Record<string, unknown> {
  return { id: model.id, object: 'model', created: model.created, owned_by: model.ownedBy };
}

// ---------------------------------------------------------------------------------------------
// Chat Completions

function chatUsage(usage: OpenAIUsageCounts): Record<string, unknown> {
  const prompt = usage.input + usage.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: usage.output,
    total_tokens: prompt + usage.output,
    prompt_tokens_details: { cached_tokens: usage.cacheRead, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: usage.reasoning,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

const chatId = (input: OpenAIRenderInput): string => input.id ?? `chatcmpl-fake${input.seq}`;
const SYSTEM_FINGERPRINT = 'fp_fake';

/** A non-stream `chat.completion`. Chat Completions has no reasoning text: only its count. */
export function chatCompletionPayload(input: OpenAIRenderInput): Record<string, unknown> {
  const text = input.blocks.flatMap((block) => (block.kind === 'text' ? block.parts : [])).join('');
  const toolCalls = input.blocks.flatMap((block) =>
    block.kind === 'tool'
      ? [
          {
            id: block.callId,
            type: 'function',
            function: { name: block.name, arguments: block.argumentChunks.join('') },
          },
        ]
      : [],
  );
  const hasText = input.blocks.some((block) => block.kind === 'text');
  return {
    id: chatId(input),
    object: 'chat.completion',
    created: input.createdAt,
    model: input.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: hasText ? text : null,
          refusal: null,
          annotations: [],
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: null,
        finish_reason: input.stop,
      },
    ],
    usage: chatUsage(input.usage),
    service_tier: 'default',
    system_fingerprint: SYSTEM_FINGERPRINT,
  };
}

/**
 * The `chat.completion.chunk` stream as SSE `data:` lines, ending with `data: [DONE]`. With
 * `stream_options.include_usage` every chunk carries `usage: null` and one last chunk with
 * empty `choices` carries the usage, as the API does.
 */
export function chatCompletionChunks(input: OpenAIRenderInput): string[] {
  const streamOptions = input.request.stream_options as { include_usage?: unknown } | undefined;
  const includeUsage = streamOptions?.include_usage === true;
  const chunk = (choice: Record<string, unknown> | undefined, usage?: unknown): string =>
    sseData({
      id: chatId(input),
      object: 'chat.completion.chunk',
      created: input.createdAt,
      model: input.model,
      service_tier: 'default',
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: choice === undefined ? [] : [choice],
      ...(includeUsage ? { usage: usage ?? null } : {}),
    });
  const delta = (value: Record<string, unknown>, finishReason: OpenAIStop | null = null) =>
    chunk({ index: 0, delta: value, logprobs: null, finish_reason: finishReason });

  const lines = [delta({ role: 'assistant', content: '', refusal: null })];
  let toolIndex = 0;
  for (const block of input.blocks) {
    if (block.kind === 'text') {
      for (const part of block.parts) lines.push(delta({ content: part }));
    } else if (block.kind === 'tool') {
      const index = toolIndex++;
      lines.push(
        delta({
          tool_calls: [
            {
              index,
              id: block.callId,
              type: 'function',
              function: { name: block.name, arguments: '' },
            },
          ],
        }),
      );
      for (const part of block.argumentChunks) {
        lines.push(delta({ tool_calls: [{ index, function: { arguments: part } }] }));
      }
    }
  }
  lines.push(delta({}, input.stop));
  if (includeUsage) lines.push(chunk(undefined, chatUsage(input.usage)));
  lines.push(DONE_LINE);
  return lines;
}

export const DONE_LINE = 'data: [DONE]\n\n';

export function sseData(data: unknown): string {
  return `data: ${JSON.stringify(data)}\n\n`;
}

/** A mid-stream Chat Completions error, as the API writes it: a `data:` line with `error`. */
export function chatStreamErrorLine(type: string, message: string): string {
  return sseData({ error: { message, type, param: null, code: null } });
}

// ---------------------------------------------------------------------------------------------
// Responses

function responsesUsage(usage: OpenAIUsageCounts): Record<string, unknown> {
  const input = usage.input + usage.cacheRead;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: usage.cacheRead },
    output_tokens: usage.output,
    output_tokens_details: { reasoning_tokens: usage.reasoning },
    total_tokens: input + usage.output,
  };
}

const responseId = (input: OpenAIRenderInput): string => input.id ?? `resp_fake${input.seq}`;

function itemId(input: OpenAIRenderInput, block: OpenAIBlock, index: number): string {
  const prefix = block.kind === 'text' ? 'msg' : block.kind === 'tool' ? 'fc' : 'rs';
  return `${prefix}_fake${input.seq}_${index}`;
}

/** Whether the request asked for `reasoning.encrypted_content` (Codex always does). */
function wantsEncryptedReasoning(request: Record<string, unknown>): boolean {
  const include = request.include;
  return Array.isArray(include) && include.includes('reasoning.encrypted_content');
}

/** The finished output item for a block, as `output_item.done` and the final response show it. */
function finalItem(
  input: OpenAIRenderInput,
  block: OpenAIBlock,
  index: number,
): Record<string, unknown> {
  const id = itemId(input, block, index);
  switch (block.kind) {
    case 'text':
      return {
        id,
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [outputText(block.parts.join(''))],
      };
    case 'tool':
      return {
        id,
        type: 'function_call',
        status: 'completed',
        arguments: block.argumentChunks.join(''),
        call_id: block.callId,
        name: block.name,
      };
    case 'reasoning':
      return {
        id,
        type: 'reasoning',
        summary: [{ type: 'summary_text', text: block.parts.join('') }],
        ...(wantsEncryptedReasoning(input.request)
          ? { encrypted_content: block.encryptedContent }
          : {}),
      };
  }
}

function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', annotations: [], logprobs: [], text };
}

function responseObject(
  input: OpenAIRenderInput,
  status: 'in_progress' | 'completed' | 'incomplete',
): Record<string, unknown> {
  const done = status !== 'in_progress';
  const request = input.request;
  const reasoning = request.reasoning as { effort?: unknown; summary?: unknown } | undefined;
  return {
    id: responseId(input),
    object: 'response',
    created_at: input.createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: input.model,
    output: done ? input.blocks.map((block, index) => finalItem(input, block, index)) : [],
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: request.previous_response_id ?? null,
    prompt_cache_key: request.prompt_cache_key ?? null,
    reasoning: { effort: reasoning?.effort ?? null, summary: reasoning?.summary ?? null },
    service_tier: 'default',
    store: request.store ?? true,
    temperature: request.temperature ?? 1,
    text: request.text ?? { format: { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? 1,
    truncation: 'disabled',
    usage: done ? responsesUsage(input.usage) : null,
    user: null,
    metadata: request.metadata ?? {},
  };
}

const finalStatus = (input: OpenAIRenderInput): 'completed' | 'incomplete' =>
  input.stop === 'length' ? 'incomplete' : 'completed';

export function responsePayload(input: OpenAIRenderInput): Record<string, unknown> {
  return responseObject(input, finalStatus(input));
}

/**
 * The Responses event stream (`event:` + `data:` lines, `sequence_number` from 0 on every
 * event): created, in_progress, then per output item added / deltas / done, then completed
 * (or `response.incomplete` when the reply stopped at max tokens).
 */
export function responseEvents(input: OpenAIRenderInput): string[] {
  let sequence = 0;
  const events: string[] = [];
  const emit = (type: string, fields: Record<string, unknown>): void => {
    events.push(
      `event: ${type}\ndata: ${JSON.stringify({ type, ...fields, sequence_number: sequence++ })}\n\n`,
    );
  };
  emit('response.created', { response: responseObject(input, 'in_progress') });
  emit('response.in_progress', { response: responseObject(input, 'in_progress') });

  input.blocks.forEach((block, outputIndex) => {
    const id = itemId(input, block, outputIndex);
    const at = { item_id: id, output_index: outputIndex };
    switch (block.kind) {
      case 'text': {
        const text = block.parts.join('');
        emit('response.output_item.added', {
          output_index: outputIndex,
          item: { id, type: 'message', status: 'in_progress', content: [], role: 'assistant' },
        });
        emit('response.content_part.added', { ...at, content_index: 0, part: outputText('') });
        for (const delta of block.parts) {
          emit('response.output_text.delta', { ...at, content_index: 0, delta, logprobs: [] });
        }
        emit('response.output_text.done', { ...at, content_index: 0, text, logprobs: [] });
        emit('response.content_part.done', { ...at, content_index: 0, part: outputText(text) });
        break;
      }
      case 'tool':
        emit('response.output_item.added', {
          output_index: outputIndex,
          item: {
            id,
            type: 'function_call',
            status: 'in_progress',
            arguments: '',
            call_id: block.callId,
            name: block.name,
          },
        });
        for (const delta of block.argumentChunks) {
          emit('response.function_call_arguments.delta', { ...at, delta });
        }
        emit('response.function_call_arguments.done', {
          ...at,
          arguments: block.argumentChunks.join(''),
        });
        break;
      case 'reasoning': {
        const text = block.parts.join('');
        emit('response.output_item.added', {
          output_index: outputIndex,
          item: { id, type: 'reasoning', summary: [] },
        });
        const summary = { ...at, summary_index: 0 };
        emit('response.reasoning_summary_part.added', {
          ...summary,
          part: { type: 'summary_text', text: '' },
        });
        for (const delta of block.parts) {
          emit('response.reasoning_summary_text.delta', { ...summary, delta });
        }
        emit('response.reasoning_summary_text.done', { ...summary, text });
        emit('response.reasoning_summary_part.done', {
          ...summary,
          part: { type: 'summary_text', text },
        });
        break;
      }
    }
    emit('response.output_item.done', {
      output_index: outputIndex,
      item: finalItem(input, block, outputIndex),
    });
  });

  const status = finalStatus(input);
  emit(status === 'completed' ? 'response.completed' : 'response.incomplete', {
    response: responseObject(input, status),
  });
  return events;
}

/** A Responses `error` event (ResponseErrorEvent) written mid-stream at `sequenceNumber`. */
export function responseStreamErrorEvent(
  code: string,
  message: string,
  sequenceNumber: number,
): string {
  const data = { type: 'error', code, message, param: null, sequence_number: sequenceNumber };
  return `event: error\ndata: ${JSON.stringify(data)}\n\n`;
}
