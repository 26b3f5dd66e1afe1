import { createHash } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import {
  CODEX_INSTRUCTIONS_REQUIRED,
  CODEX_STORE_REQUIRED,
  CODEX_STREAM_REQUIRED,
  DEFAULT_OPENAI_MODEL,
  FAKE_OPENAI_MODELS,
  chatCompletionChunks,
  chatCompletionPayload,
  chatStreamErrorLine,
  codexUsageForLimit,
  codexUsageHeaders,
  codexUsageLimitBody,
  fakeUuid,
  isOpenAIFamilyPath,
  modelToWire,
  openAIErrorBody,
  openAIModelsPayload,
  openAIRateLimitHeaders,
  openAIRouteOf,
  responseEvents,
  responsePayload,
  responseStreamErrorEvent,
  type FakeCodexUsage,
  type FakeCodexUsageLimit,
  type FakeOpenAIRateLimit,
  type FakeSurface,
  type OpenAIBlock,
  type OpenAIErrorSpec,
  type OpenAIRenderInput,
  type OpenAIRoute,
  type OpenAIStop,
} from './fake-openai';
import {
  compatChunks,
  compatPayload,
  compatRouteOf,
  refuseCompatRequest,
  type FakeCompatProfile,
} from './fake-compat';
import {
  DEFAULT_GEMINI_MODEL,
  FAKE_GEMINI_MODELS,
  geminiErrorBody,
  geminiFaultOf,
  geminiJsonArrayParts,
  geminiKeyOf,
  geminiModelNotFound,
  geminiModelToWire,
  geminiRequestProblem,
  geminiModelsPayload,
  geminiResponsePayload,
  geminiRouteOf,
  geminiSseEvents,
  geminiStreamChunks,
  geminiStreamErrorPart,
  GEMINI_NO_KEY_MESSAGE,
  isKnownGeminiModel,
  type FakeGeminiQuota,
  type GeminiBlock,
  type GeminiEndpoint,
  type GeminiErrorSpec,
  type GeminiFinish,
  type GeminiRenderInput,
  type GeminiRoute,
} from './fake-gemini';
import {
  BEDROCK_EVENT_STREAM,
  bedrockBodyProblem,
  bedrockChunkFrame,
  bedrockErrorFor,
  bedrockErrorHeaders,
  bedrockExceptionFrame,
  bedrockModelName,
  bedrockRouteOf,
  countTokensInner,
  FakeBedrockAuth,
  type BedrockError,
  type BedrockRoute,
} from './fake-bedrock';

import { droidRouteOf, FakeDroidAuth } from './fake-droid';

export type { FakeGeminiQuota, GeminiEndpoint } from './fake-gemini';
export type { FakeCompatProfile } from './fake-compat';
export { GEMINI_FAULT_KEYS } from './fake-gemini';
import { FakeCodeAssist } from './fake-code-assist';

export type {
  FakeCodexUsage,
  FakeCodexUsageLimit,
  FakeOpenAIRateLimit,
  FakeSurface,
} from './fake-openai';

/**
 * The upstream routes a scenario can apply to. `messages`, `count_tokens` and `models` are
 * Anthropic's (`models` also answers OpenAI's `GET /v1/models`); `chat_completions` and
 * `responses` are OpenAI's and Azure OpenAI's; `codex_responses` is the ChatGPT Codex backend.
 */
export type FakeEndpoint =
  | 'messages'
  | 'count_tokens'
  | 'models'
  | 'chat_completions'
  | 'responses'
  | 'codex_responses'
  | GeminiEndpoint;

/**
 * A content block of a scripted reply. `text`/`thinking` given as an array are the exact
 * stream deltas; as a string they are split on whitespace. `partialJson` overrides how the
 * tool input is chunked into `input_json_delta` events (the chunks must join to valid JSON).
 * On Gemini routes a block's `signature` is its part's `thoughtSignature` (on the last piece of
 * a streamed text or thought), sent only when given: Gemini signs a function call, or the last
 * part of an answer without one, when the model thought.
 */
export type FakeContentBlock =
  | { type: 'text'; text: string | readonly string[]; signature?: string }
  | {
      type: 'tool_use';
      name: string;
      input: unknown;
      id?: string;
      partialJson?: readonly string[];
      signature?: string;
    }
  | { type: 'thinking'; thinking: string | readonly string[]; signature?: string };

/**
 * Usage numbers to report; anything left out is derived deterministically or is 0. On OpenAI
 * routes `prompt_tokens`/`input_tokens` = inputTokens + cacheReadTokens (OpenAI counts cached
 * tokens inside the prompt and reports them as `cached_tokens`), `completion_tokens`/
 * `output_tokens` = outputTokens (reasoning included), and the cache-creation counts, which
 * OpenAI has no notion of, are not sent.
 */
export interface FakeUsage {
  inputTokens?: number;
  outputTokens?: number;
  cacheCreation5mTokens?: number;
  cacheCreation1hTokens?: number;
  cacheReadTokens?: number;
  /** OpenAI routes: `reasoning_tokens`; default the thinking blocks' size (chars / 4). */
  reasoningTokens?: number;
}

export type FakeStopReason =
  'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'pause_turn' | 'refusal';

export interface FakeReply {
  content?: readonly FakeContentBlock[];
  usage?: FakeUsage;
  /** Default: `tool_use` when the content has a tool_use block, else `end_turn`. */
  stopReason?: FakeStopReason;
  /** Default: the `model` of the request body. */
  model?: string;
  /** Default: `msg_fake_<n>`. */
  id?: string;
  /**
   * Repeat input and cache counts in `message_delta.usage` as the current API does; by
   * default `message_delta.usage` carries only `output_tokens` (the older wire shape).
   */
  cumulativeDeltaUsage?: boolean;
  /** OpenAI routes: `created` / `created_at` (epoch seconds); default now. */
  createdAt?: number;
  /**
   * OpenAI routes: render the ids derived from the request number (output item ids, default
   * call ids, encrypted reasoning) as for this number, so that two requests can get
   * byte-identical answers (with `id` and `createdAt` set too).
   */
  idSeed?: number;
}

/** An SSE `event: error` written mid-stream, after which the response ends normally. */
export interface FakeStreamError {
  afterEvents: number;
  /** Default `overloaded_error`. */
  type?: string;
  message?: string;
}

/**
 * A latch a test opens when it has checked what it wanted while a response was held, so the test
 * waits for events rather than for the clock (see `holdFirstByte` and `holdAfterHeaders`).
 */
export class FakeGate {
  private opened = false;
  private readonly waiters = new Set<() => void>();
  /** How many held responses are waiting at this gate now. */
  waiting = 0;

  get isOpen(): boolean {
    return this.opened;
  }

  /** Lets every held response, and any that reaches the gate later, go on. */
  open(): void {
    this.opened = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Calls wake once open; returns a function that forgets the waiter. */
  onOpen(wake: () => void): () => void {
    if (this.opened) {
      wake();
      return () => undefined;
    }
    this.waiters.add(wake);
    return () => this.waiters.delete(wake);
  }
}

/**
 * How the fake answers one request. Fields combine: e.g. `{ delayFirstByteMs: 500, status: 529 }`
 * waits, then fails. Without `status`/`destroyImmediately` a normal reply is produced, rendered
 * in the format of the route it answers (Anthropic Messages, Chat Completions or Responses).
 */
export interface FakeScenario {
  /**
   * Routes this scenario applies to; default every generation route (`messages`,
   * `chat_completions`, `responses`, `codex_responses`, `gemini_generate`, `gemini_stream`) so
   * probes never consume it.
   */
  endpoints?: readonly FakeEndpoint[];
  reply?: FakeReply;
  /**
   * An HTTP error status (>= 400), answered in the route's error shape: Anthropic's
   * `{type:"error",error:{type,message}}`, OpenAI's `{error:{message,type,param,code}}`, or
   * Azure's `{error:{code,message}}`.
   */
  status?: number;
  /** Overrides the `error.type` derived from `status`. */
  errorType?: string;
  /** OpenAI-family routes: overrides `error.code` (e.g. `insufficient_quota`; null for none). */
  errorCode?: string | null;
  /**
   * OpenAI routes: the `x-ratelimit-*` headers, sent on every answer (defaults fill what is left
   * out); Azure routes send them only when this is set. Resets: `6m0s`, `1s`, `20ms`, or ms.
   */
  rateLimit?: FakeOpenAIRateLimit;
  /** Codex route: the `x-codex-*` usage-window headers, sent on every answer. */
  codexUsage?: FakeCodexUsage;
  /** Codex route: answer 429 `usage_limit_reached` (the exhausted window's headers at 100%). */
  codexUsageLimit?: FakeCodexUsageLimit;
  /** Overrides the default message (403 defaults to a disabled-organization message). */
  errorMessage?: string;
  /** Gemini routes: an ErrorInfo `reason` in the error's details (`API_KEY_INVALID`). */
  errorReason?: string;
  /**
   * Gemini routes: a QuotaFailure in a 429's details (per minute or per day, for the request's
   * model unless named). `retryAfterSeconds` becomes the RetryInfo `retryDelay` on these routes
   * (Google sends no retry-after header).
   */
  geminiQuota?: FakeGeminiQuota;
  /** Sent as `retry-after` (seconds). */
  retryAfterSeconds?: number;
  /** Sent as `anthropic-ratelimit-unified-reset` (epoch seconds). */
  unifiedResetEpochSeconds?: number;
  /** Sent as `anthropic-ratelimit-requests-reset` (RFC 3339). */
  requestsResetAt?: Date | string;
  /** Extra response headers; they override the defaults. */
  headers?: Readonly<Record<string, string>>;
  /** Wait before sending anything (the status line included). */
  delayFirstByteMs?: number;
  /** Send nothing (the status line included) until this gate opens or the client leaves. */
  holdFirstByte?: FakeGate;
  /** Stream: send the status line and headers, then wait for this gate before the first event. */
  holdAfterHeaders?: FakeGate;
  /** Pause between SSE events. */
  eventDelayMs?: number;
  /** Stream: send the status line and headers, then wait this long before the first event. */
  delayAfterHeadersMs?: number;
  /** Replace the default text with one text block of this many deltas (ignored with `reply.content`). */
  events?: number;
  /**
   * Destroy the socket after writing this many SSE events (message_start, ping, ... each count).
   * For a non-stream reply: send the headers and half of the body, then destroy.
   */
  cutAfterEvents?: number;
  streamError?: FakeStreamError;
  /** Destroy the socket without writing a response. */
  destroyImmediately?: boolean;
}

export interface FakeRequestRecord {
  method: string;
  /** Path without the query string. */
  path: string;
  /** The query string including `?`, or ''. */
  search: string;
  headers: IncomingHttpHeaders;
  /** Empty when the fake runs with `recordBodies: false`. */
  rawBody: Buffer;
  json?: unknown;
  /**
   * `x-api-key`, else Azure's `api-key`, else Google's `x-goog-api-key`, else the
   * `Authorization: Bearer` token; on Gemini routes also `?key=`.
   */
  credential: string | undefined;
  /** The API the route belongs to; undefined for an unknown route. */
  surface?: FakeSurface | 'bedrock';
  /** Azure deployment-shaped routes: the deployment named in the path. */
  deployment?: string;
  /** True when the client went away before the response completed. */
  aborted: boolean;
  /** Epoch milliseconds. */
  receivedAt: number;
  /** The status line sent, once sent. */
  status?: number;
}

export interface FakeUpstreamOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keep request records in `requests`; the benchmark turns this off to bound memory. */
  record?: boolean;
  /** Keep `rawBody`/`json` in records. */
  recordBodies?: boolean;
}

export interface FakeModel {
  id: string;
  displayName: string;
  createdAt: string;
}

/** Ids are real model names; names and dates are only plausible (it is a fake). */
export const FAKE_MODELS: readonly FakeModel[] = [
  { id: 'claude-opus-4-7', displayName: 'Claude Opus 4.7', createdAt: '2026-01-01T00:00:00Z' },
  { id: 'claude-sonnet-4-6', displayName: 'Claude Sonnet 4.6', createdAt: '2025-12-01T00:00:00Z' },
  {
    id: 'claude-haiku-4-5-20251001',
    displayName: 'Claude Haiku 4.5',
    createdAt: '2025-10-01T00:00:00Z',
  },
];

export const DEFAULT_FAKE_REPLY_TEXT = 'Hello from the fake upstream. This reply is deterministic.';
export const DISABLED_ORGANIZATION_MESSAGE = 'This organization has been disabled.';

/** The input_tokens the fake reports for a request body (and count_tokens returns). */
export function fakeInputTokensFor(body: Buffer | string): number {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  return Math.max(1, Math.ceil(length / 4));
}

const EMPTY_BODY = Buffer.alloc(0);
const NO_SCENARIO: FakeScenario = {};
const DEFAULT_ENDPOINTS: readonly FakeEndpoint[] = [
  'messages',
  'chat_completions',
  'responses',
  'codex_responses',
  'gemini_generate',
  'gemini_stream',
];
const DEFAULT_MODEL = 'claude-sonnet-4-6';
const JSON_CHUNK_SIZE = 12;

interface CredentialRoute {
  sticky?: FakeScenario;
  queue: FakeScenario[];
}

/** Per-request state shared between the handler and the socket close listener. */
interface Exchange {
  seq: number;
  record: FakeRequestRecord;
  closed: boolean;
  /** The fake itself dropped the connection: not a client abort. */
  serverDestroyed: boolean;
  timer?: NodeJS.Timeout;
  wake?: () => void;
}

/**
 * What the Codex route asks about a bearer token when `useCodexAuth` is set
 * (`FakeOpenAIAuth` in fake-openai-auth.ts implements it).
 */
export interface CodexTokenAuthority {
  checkAccessToken(
    token: string,
  ): { valid: true; accountId: string } | { valid: false; reason: 'expired' | 'unknown' };
}

interface Waiter {
  check: () => boolean;
  done: () => void;
}

interface ResolvedBlock {
  start: Record<string, unknown>;
  deltas: Record<string, unknown>[];
  final: Record<string, unknown>;
  chars: number;
}

export class FakeUpstream {
  /** Recorded requests, oldest first (empty when started with `record: false`). */
  readonly requests: FakeRequestRecord[] = [];
  /** Requests currently being answered. */
  inFlight = 0;
  /** High-water mark of `inFlight` since start or `reset()`. */
  maxInFlight = 0;
  /** Requests received since start or `reset()`, recorded or not. */
  requestCount = 0;
  /** Client aborts since start or `reset()`, recorded or not. */
  abortedCount = 0;
  /** Who may call the Bedrock routes (`/model/{id}/invoke…`): access key pairs and API keys. */
  readonly bedrock = new FakeBedrockAuth();
  /** Who may call Factory's LLM API (`/api/llm/…`, fake-droid.ts): the Droid keys it accepts. */
  readonly droid = new FakeDroidAuth();

  private readonly sockets = new Set<Socket>();
  private readonly credentialRoutes = new Map<string, CredentialRoute>();
  private readonly organizationIds = new Map<string, string>();
  private readonly waiters = new Set<Waiter>();
  private queue: FakeScenario[] = [];
  private defaultScenario: FakeScenario | undefined;
  private seq = 0;
  private closing = false;
  private lastAborted: FakeRequestRecord | undefined;
  private codexAuthority: CodexTokenAuthority | undefined;
  /** Google's Code Assist API (`/v1internal:{method}`), the upstream of gemini-oauth accounts. */
  readonly codeAssist = new FakeCodeAssist();
  private readonly compatProfiles = new Map<string, FakeCompatProfile>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly port: number,
    private readonly record: boolean,
    private readonly recordBodies: boolean,
  ) {}

  static async start(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
    const host = options.host ?? '127.0.0.1';
    // Long slow streams (60 s) must not be cut by the default request timeout.
    const server = createServer({ requestTimeout: 0, keepAliveTimeout: 30_000 });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const upstream = new FakeUpstream(
      server,
      `http://${urlHost}:${port}`,
      port,
      options.record ?? true,
      options.recordBodies ?? true,
    );
    server.on('connection', (socket: Socket) => {
      upstream.sockets.add(socket);
      socket.once('close', () => upstream.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => upstream.handle(req, res));
    return upstream;
  }

  /** The scenario used when nothing more specific matches; `undefined` restores the built-in reply. */
  setDefault(scenario: FakeScenario | undefined): this {
    this.defaultScenario = scenario;
    return this;
  }

  /** Scenarios consumed one per matching request, first in first out. */
  enqueue(...scenarios: FakeScenario[]): this {
    this.queue.push(...scenarios);
    return this;
  }

  /**
   * Script one credential (x-api-key, Azure api-key, or Bearer token). A single scenario
   * applies to every matching request of that credential; an array is consumed one per request
   * and, once used up, the credential falls back to the global queue and default. Replaces
   * earlier routing.
   */
  forCredential(credential: string, scenario: FakeScenario | readonly FakeScenario[]): this {
    this.credentialRoutes.set(
      credential,
      isScenarioList(scenario) ? { queue: [...scenario] } : { sticky: scenario, queue: [] },
    );
    return this;
  }

  /**
   * Codex route: accept only access tokens this authority issued, unexpired, for the
   * `chatgpt-account-id` sent (401 `token_expired` otherwise); `undefined` accepts any token.
   */
  useCodexAuth(authority: CodexTokenAuthority | undefined): this {
    this.codexAuthority = authority;
    return this;
  }

  /**
   * The generic OpenAI-compatible server at `/compat/{name}/v1` (fake-compat.ts) behaves as
   * this profile; an unknown name takes everything and any key.
   */
  compatProfile(name: string, profile: FakeCompatProfile): this {
    this.compatProfiles.set(name, profile);
    return this;
  }

  /** Clears scripting, records and counters (in-flight requests keep running). */
  reset(): void {
    this.codexAuthority = undefined;
    this.codeAssist.reset();
    this.bedrock.reset();
    this.droid.reset();
    this.compatProfiles.clear();
    this.queue = [];
    this.defaultScenario = undefined;
    this.credentialRoutes.clear();
    this.requests.length = 0;
    this.requestCount = 0;
    this.abortedCount = 0;
    this.lastAborted = undefined;
    this.maxInFlight = this.inFlight;
  }

  /** Resolves with an aborted request: at once if one was seen since start or `reset()`. */
  waitForAbort(timeoutMs = 5000): Promise<FakeRequestRecord> {
    return this.waitUntil(() => this.lastAborted !== undefined, timeoutMs, 'a client abort').then(
      () => this.lastAborted!,
    );
  }

  /** Resolves once `count` requests have arrived since start or `reset()`. */
  waitForRequests(count: number, timeoutMs = 5000): Promise<void> {
    return this.waitUntil(() => this.requestCount >= count, timeoutMs, `${count} requests`);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const waiter of this.waiters) waiter.done();
    // Destroying sockets first lets server.close() return without waiting for keep-alive.
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        check,
        done: () => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          if (check()) resolve();
          else reject(new Error(`FakeUpstream closed while waiting for ${what}`));
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`FakeUpstream: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  private notify(): void {
    for (const waiter of this.waiters) if (waiter.check()) waiter.done();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const seq = ++this.seq;
    const rawUrl = req.url ?? '/';
    const queryAt = rawUrl.indexOf('?');
    const record: FakeRequestRecord = {
      method: req.method ?? 'GET',
      path: queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt),
      search: queryAt === -1 ? '' : rawUrl.slice(queryAt),
      headers: req.headers,
      rawBody: EMPTY_BODY,
      credential: credentialOf(req.headers),
      aborted: false,
      receivedAt: Date.now(),
    };
    const exchange: Exchange = { seq, record, closed: false, serverDestroyed: false };
    this.requestCount++;
    this.inFlight++;
    if (this.inFlight > this.maxInFlight) this.maxInFlight = this.inFlight;
    if (this.record) this.requests.push(record);

    res.on('close', () => {
      this.inFlight--;
      exchange.closed = true;
      if (exchange.timer) clearTimeout(exchange.timer);
      exchange.wake?.();
      if (!res.writableFinished && !exchange.serverDestroyed && !this.closing) {
        record.aborted = true;
        this.abortedCount++;
        this.lastAborted = record;
      }
      this.notify();
    });

    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      this.respond(res, exchange, body).catch((error: unknown) => {
        // A bug here must not crash the test run; fail the one request loudly instead.
        if (!res.headersSent && !exchange.closed) {
          this.sendError(res, exchange, 500, {}, 'api_error', `FakeUpstream bug: ${String(error)}`);
        } else {
          res.destroy();
        }
      });
    });
    this.notify();
  }

  private async respond(res: ServerResponse, exchange: Exchange, body: Buffer): Promise<void> {
    const { record } = exchange;
    let json: unknown;
    let jsonError = false;
    if (body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        jsonError = true;
      }
    }
    if (this.recordBodies) {
      record.rawBody = body;
      record.json = json;
    }

    if (this.codeAssist.handles(record.path)) {
      this.codeAssist.respond(res, record.method, record.path, record.credential, json);
      return;
    }
    const bedrockRoute = bedrockRouteOf(record.method, record.path);
    if (bedrockRoute !== undefined) {
      await this.respondBedrock(res, exchange, bedrockRoute, body, jsonError ? undefined : json);
      return;
    }
    // Factory's endpoints: its checks first, then the fake's own route of the same format.
    const droidRoute = droidRouteOf(record.method, record.path);
    if (droidRoute !== undefined) {
      record.credential = this.droid.credentialOf(record.headers);
      const refusal = this.droid.refuse(droidRoute, record.headers);
      if (refusal !== undefined) {
        this.sendJson(res, exchange, refusal.status, {}, refusal.body);
        return;
      }
    }
    const path = droidRoute?.innerPath ?? record.path;
    const geminiRoute = geminiRouteOf(
      record.method,
      record.path,
      geminiKeyOf(record.headers, record.search) !== undefined,
    );
    if (geminiRoute !== undefined) {
      record.surface = 'gemini';
      record.credential ??= geminiKeyOf(record.headers, record.search);
      await this.respondGemini(res, exchange, geminiRoute, body, jsonError ? undefined : json);
      return;
    }
    const openAIRoute =
      compatRouteOf(record.method, record.path) ??
      openAIRouteOf(record.method, path, record.headers);
    if (openAIRoute !== undefined) {
      record.surface = openAIRoute.surface;
      record.deployment = openAIRoute.deployment;
      await this.respondOpenAI(res, exchange, openAIRoute, body, jsonError ? undefined : json);
      return;
    }
    const endpoint = endpointOf(record.method, path);
    if (endpoint === undefined) {
      if (isOpenAIFamilyPath(record.path)) {
        const error = { status: 404, code: null, message: `Not found: ${record.path}` };
        this.sendJson(res, exchange, 404, {}, openAIErrorBody('openai', error, undefined));
      } else {
        this.sendError(res, exchange, 404, {}, 'not_found_error', `Not found: ${record.path}`);
      }
      return;
    }
    record.surface = 'anthropic';
    const scenario = this.resolveScenario(endpoint, record.credential) ?? NO_SCENARIO;
    if (!(await this.waitToAnswer(res, exchange, scenario))) return;

    const headers = this.baseHeaders(exchange, scenario);
    if (scenario.status !== undefined && scenario.status >= 400) {
      const errorType = scenario.errorType ?? errorTypeFor(scenario.status);
      const message = scenario.errorMessage ?? errorMessageFor(scenario.status);
      this.sendError(res, exchange, scenario.status, headers, errorType, message);
      return;
    }

    switch (endpoint) {
      case 'models':
        this.answerModels(res, exchange, headers);
        return;
      case 'count_tokens':
        if (jsonError) {
          this.sendError(res, exchange, 400, headers, 'invalid_request_error', 'Invalid JSON');
          return;
        }
        this.sendJson(res, exchange, 200, headers, { input_tokens: fakeInputTokensFor(body) });
        return;
      case 'messages':
        if (jsonError || typeof json !== 'object' || json === null) {
          this.sendError(res, exchange, 400, headers, 'invalid_request_error', 'Invalid JSON');
          return;
        }
        await this.answerMessages(res, exchange, headers, scenario, body, json);
        return;
    }
  }

  /**
   * Applies the scenario's first-byte delay, gate and `destroyImmediately`; false when the
   * exchange is over (the client left or the socket was destroyed).
   */
  private async waitToAnswer(
    res: ServerResponse,
    exchange: Exchange,
    scenario: FakeScenario,
  ): Promise<boolean> {
    if (scenario.delayFirstByteMs !== undefined && scenario.delayFirstByteMs > 0) {
      await this.sleep(exchange, scenario.delayFirstByteMs);
      if (exchange.closed) return false;
    }
    if (scenario.holdFirstByte !== undefined) {
      await this.hold(exchange, scenario.holdFirstByte);
      if (exchange.closed) return false;
    }
    if (scenario.destroyImmediately === true) {
      exchange.serverDestroyed = true;
      res.destroy();
      return false;
    }
    return true;
  }

  /** Bedrock's runtime: authentication first, then the body checks, then the scripted answer. */
  private async respondBedrock(
    res: ServerResponse,
    exchange: Exchange,
    route: BedrockRoute,
    body: Buffer,
    json: unknown,
  ): Promise<void> {
    const { record } = exchange;
    record.surface = 'bedrock';
    const headers: Record<string, string> = {
      'x-amzn-requestid': fakeUuid(`bedrock-${exchange.seq}`),
    };
    const fail = (error: BedrockError): void =>
      this.sendJson(
        res,
        exchange,
        error.status,
        { ...headers, ...bedrockErrorHeaders(error) },
        {
          message: error.message,
        },
      );
    const auth = await this.bedrock.check(
      record.method,
      `${record.path}${record.search}`,
      record.headers,
      body,
    );
    record.credential = auth.credential;
    if (!auth.ok) {
      fail(auth.error);
      return;
    }
    const problem = bedrockBodyProblem(json, route.action);
    if (problem !== undefined) {
      fail(bedrockErrorFor(400, 'ValidationException', problem));
      return;
    }
    const endpoint = route.action === 'count-tokens' ? 'count_tokens' : 'messages';
    const scenario = this.resolveScenario(endpoint, record.credential) ?? NO_SCENARIO;
    if (!(await this.waitToAnswer(res, exchange, scenario))) return;
    for (const [name, value] of Object.entries(scenario.headers ?? {}))
      headers[name.toLowerCase()] = value;
    if (scenario.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(scenario.retryAfterSeconds);
    if (scenario.status !== undefined && scenario.status >= 400) {
      fail(bedrockErrorFor(scenario.status, scenario.errorType, scenario.errorMessage));
      return;
    }
    if (route.action === 'count-tokens') {
      const inputTokens = fakeInputTokensFor(countTokensInner(json));
      this.sendJson(res, exchange, 200, headers, { inputTokens });
      return;
    }
    await this.answerMessages(res, exchange, headers, scenario, body, json as object, {
      stream: route.action === 'invoke-with-response-stream',
      model: bedrockModelName(route.modelId),
    });
  }

  private async respondGemini(
    res: ServerResponse,
    exchange: Exchange,
    route: GeminiRoute,
    body: Buffer,
    json: unknown,
  ): Promise<void> {
    const { record } = exchange;
    const headers: Record<string, string> = {
      'x-request-id': `req_fake_${exchange.seq}`,
      'server-timing': 'gfet4t7; dur=1',
      vary: 'Origin, X-Origin, Referer',
    };
    const send = (spec: GeminiErrorSpec): void =>
      this.sendJson(res, exchange, spec.status, headers, geminiErrorBody(spec));
    // What the real API refuses before anything else: no scenario is consumed.
    if (record.credential === undefined) {
      send({ status: 403, message: GEMINI_NO_KEY_MESSAGE, reason: 'SERVICE_DISABLED' });
      return;
    }
    const model = route.model ?? DEFAULT_GEMINI_MODEL;
    const fault = geminiFaultOf(record.credential, model);
    if (fault !== undefined) {
      send(fault);
      return;
    }
    if (route.endpoint === 'gemini_models') {
      this.answerGeminiModels(res, exchange, headers, route);
      return;
    }
    if (typeof json !== 'object' || json === null) {
      send({ status: 400, message: 'Invalid JSON payload received.' });
      return;
    }
    const method =
      route.endpoint === 'gemini_count_tokens'
        ? 'countTokens'
        : route.endpoint === 'gemini_stream'
          ? 'streamGenerateContent'
          : 'generateContent';
    if (!isKnownGeminiModel(model)) {
      send(geminiModelNotFound(model, route.version, method));
      return;
    }
    const problem = geminiRequestProblem(route.endpoint, json as Record<string, unknown>);
    if (problem !== undefined) {
      send(problem);
      return;
    }
    const scenario = this.resolveScenario(route.endpoint, record.credential) ?? NO_SCENARIO;
    if (!(await this.waitToAnswer(res, exchange, scenario))) return;
    for (const [name, value] of Object.entries(scenario.headers ?? {}))
      headers[name.toLowerCase()] = value;
    if (scenario.status !== undefined && scenario.status >= 400) {
      send({
        status: scenario.status,
        message: scenario.errorMessage,
        reason: scenario.errorReason,
        retryDelaySeconds: scenario.retryAfterSeconds,
        quota:
          scenario.geminiQuota === undefined
            ? undefined
            : { ...scenario.geminiQuota, model: scenario.geminiQuota.model ?? model },
      });
      return;
    }
    if (route.endpoint === 'gemini_count_tokens') {
      this.sendJson(res, exchange, 200, headers, {
        totalTokens: fakeInputTokensFor(body),
        promptTokensDetails: [{ modality: 'TEXT', tokenCount: fakeInputTokensFor(body) }],
      });
      return;
    }
    const input = this.geminiRenderInput(exchange, scenario, model, body);
    if (route.endpoint === 'gemini_generate') {
      const payload = JSON.stringify(geminiResponsePayload(input));
      this.sendReplyJson(res, exchange, headers, scenario, payload);
      return;
    }
    const sseMode = new URLSearchParams(record.search).get('alt') === 'sse';
    const chunks = geminiStreamChunks(input);
    const events = sseMode ? geminiSseEvents(chunks) : geminiJsonArrayParts(chunks);
    const errorEvent: StreamErrorEvent = (_type, message, afterEvents) =>
      geminiStreamErrorPart(sseMode, 500, message, afterEvents === 0);
    await this.writeStream(
      res,
      exchange,
      headers,
      scenario,
      events,
      errorEvent,
      sseMode ? 'text/event-stream' : 'application/json; charset=UTF-8',
    );
  }

  private geminiRenderInput(
    exchange: Exchange,
    scenario: FakeScenario,
    model: string,
    body: Buffer,
  ): GeminiRenderInput {
    const reply = scenario.reply ?? {};
    const content = reply.content ?? defaultContent(scenario.events);
    const blocks: GeminiBlock[] = content.map((block): GeminiBlock => {
      switch (block.type) {
        case 'text':
          return { kind: 'text', parts: splitWords(block.text), signature: block.signature };
        case 'thinking':
          return { kind: 'thought', parts: splitWords(block.thinking), signature: block.signature };
        case 'tool_use':
          return {
            kind: 'call',
            name: block.name,
            args: block.input,
            id: block.id,
            signature: block.signature,
          };
      }
    });
    let chars = 0;
    let thoughtChars = 0;
    for (const block of blocks) {
      if (block.kind === 'call') chars += block.name.length + JSON.stringify(block.args).length;
      else if (block.kind === 'thought') thoughtChars += block.parts.join('').length;
      else chars += block.parts.join('').length;
    }
    const finish: GeminiFinish =
      reply.stopReason === 'max_tokens'
        ? 'MAX_TOKENS'
        : reply.stopReason === 'refusal'
          ? 'SAFETY'
          : 'STOP';
    return {
      seq: exchange.seq,
      model: reply.model ?? model,
      blocks,
      usage: {
        input: reply.usage?.inputTokens ?? fakeInputTokensFor(body),
        cacheRead: reply.usage?.cacheReadTokens ?? 0,
        candidates: reply.usage?.outputTokens ?? Math.max(1, Math.ceil(chars / 4)),
        thoughts:
          reply.usage?.reasoningTokens ?? (thoughtChars > 0 ? Math.ceil(thoughtChars / 4) : 0),
      },
      finish,
      id: reply.id,
    };
  }

  private answerGeminiModels(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    route: GeminiRoute,
  ): void {
    if (route.model === undefined) {
      this.sendJson(res, exchange, 200, headers, geminiModelsPayload(route.version));
      return;
    }
    const model = FAKE_GEMINI_MODELS.find((candidate) => candidate.id === route.model);
    if (model !== undefined) {
      this.sendJson(res, exchange, 200, headers, geminiModelToWire(model, route.version));
      return;
    }
    const spec = geminiModelNotFound(route.model, route.version, 'get');
    this.sendJson(res, exchange, 404, headers, geminiErrorBody(spec));
  }

  private async respondOpenAI(
    res: ServerResponse,
    exchange: Exchange,
    route: OpenAIRoute,
    body: Buffer,
    json: unknown,
  ): Promise<void> {
    const { record } = exchange;
    // Requests the real service refuses whatever the scenario: no scenario is consumed.
    const refusal = this.refuseOpenAIRequest(route, record, json);
    if (refusal !== undefined) {
      const headers = this.openAIHeaders(exchange, NO_SCENARIO, route);
      this.sendJson(res, exchange, refusal.status, headers, refusal.body);
      return;
    }
    const scenario = this.resolveScenario(route.endpoint, record.credential) ?? NO_SCENARIO;
    if (!(await this.waitToAnswer(res, exchange, scenario))) return;

    if (scenario.status !== undefined && scenario.status >= 400) {
      const error: OpenAIErrorSpec = {
        status: scenario.status,
        type: scenario.errorType,
        code: scenario.errorCode,
        message: scenario.errorMessage,
      };
      const headers = this.openAIHeaders(exchange, scenario, route);
      const payload = openAIErrorBody(route.surface, error, record.credential);
      this.sendJson(res, exchange, scenario.status, headers, payload);
      return;
    }
    if (route.surface === 'codex' && scenario.codexUsageLimit !== undefined) {
      const limit = scenario.codexUsageLimit;
      const usage = codexUsageForLimit(limit, scenario.codexUsage);
      const headers = this.openAIHeaders(exchange, scenario, route, usage);
      this.sendJson(res, exchange, 429, headers, codexUsageLimitBody(limit, Date.now()));
      return;
    }

    const headers = this.openAIHeaders(exchange, scenario, route);
    if (route.endpoint === 'models') {
      this.answerOpenAIModels(res, exchange, headers, route);
      return;
    }
    await this.answerOpenAIGeneration(
      res,
      exchange,
      headers,
      scenario,
      route,
      body,
      json as object,
    );
  }

  /** A refusal the real service gives before looking at anything else, or undefined. */
  private refuseOpenAIRequest(
    route: OpenAIRoute,
    record: FakeRequestRecord,
    json: unknown,
  ): { status: number; body: unknown } | undefined {
    const { surface } = route;
    const error = (status: number, spec: Omit<OpenAIErrorSpec, 'status'> = {}) => ({
      status,
      body: openAIErrorBody(surface, { status, ...spec }, record.credential),
    });
    if (route.compat !== undefined) {
      const profile = this.compatProfiles.get(route.compat) ?? {};
      return refuseCompatRequest(profile, record.headers, route.endpoint === 'models' ? {} : json);
    }
    // Azure's deployment-shaped data plane needs api-version; without it: 404 Resource not found.
    if (route.deployment !== undefined && !new URLSearchParams(record.search).has('api-version')) {
      return error(404);
    }
    if (record.credential === undefined) {
      return surface === 'openai'
        ? error(401, {
            code: null,
            message:
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
          })
        : error(401);
    }
    if (surface === 'codex') {
      const refusal = this.refuseCodexRequest(record, json, error);
      if (refusal !== undefined) return refusal;
    }
    if (route.endpoint !== 'models' && (typeof json !== 'object' || json === null)) {
      return error(400, {
        code: null,
        message: 'We could not parse the JSON body of your request.',
      });
    }
    return undefined;
  }

  /**
   * The Codex backend's checks. The 401 and 400 texts for a missing account header or a token
   * the authority does not know are this fake's own; the 401 for an expired token and the 400
   * `detail` bodies follow what the live backend answers (see fake-openai.ts).
   */
  private refuseCodexRequest(
    record: FakeRequestRecord,
    json: unknown,
    error: (
      status: number,
      spec?: Omit<OpenAIErrorSpec, 'status'>,
    ) => { status: number; body: unknown },
  ): { status: number; body: unknown } | undefined {
    const accountId = record.headers['chatgpt-account-id'];
    if (typeof accountId !== 'string' || accountId === '') {
      return error(400, { code: null, message: 'Missing chatgpt-account-id header.' });
    }
    if (this.codexAuthority !== undefined && record.credential !== undefined) {
      const check = this.codexAuthority.checkAccessToken(record.credential);
      if (!check.valid && check.reason === 'expired') return error(401);
      if (!check.valid) {
        return error(401, { code: 'invalid_token', message: 'Invalid authentication token.' });
      }
      if (check.accountId !== accountId) {
        return error(403, {
          code: 'account_mismatch',
          type: 'invalid_request_error',
          message: 'The chatgpt-account-id does not match the access token.',
        });
      }
    }
    if (typeof json !== 'object' || json === null) return undefined;
    const request = json as Record<string, unknown>;
    const detail = (text: string) => ({ status: 400, body: { detail: text } });
    if (typeof request.instructions !== 'string' || request.instructions === '') {
      return detail(CODEX_INSTRUCTIONS_REQUIRED);
    }
    if (request.store !== false) return detail(CODEX_STORE_REQUIRED);
    if (request.stream !== true) return detail(CODEX_STREAM_REQUIRED);
    return undefined;
  }

  private openAIHeaders(
    exchange: Exchange,
    scenario: FakeScenario,
    route: OpenAIRoute,
    codexUsage?: FakeCodexUsage,
  ): Record<string, string> {
    const { record, seq } = exchange;
    const headers: Record<string, string> = { 'x-request-id': `req_fake_${seq}` };
    switch (route.surface) {
      case 'openai': {
        headers['openai-version'] = '2020-10-01';
        headers['openai-processing-ms'] = '1';
        // The API names the organization and project that were billed.
        for (const name of ['openai-organization', 'openai-project']) {
          const value = record.headers[name];
          if (typeof value === 'string') headers[name] = value;
        }
        Object.assign(headers, openAIRateLimitHeaders(scenario.rateLimit ?? {}));
        break;
      }
      case 'azure':
        headers['apim-request-id'] = fakeUuid(`apim-${seq}`);
        if (scenario.rateLimit !== undefined) {
          Object.assign(headers, openAIRateLimitHeaders(scenario.rateLimit));
        }
        break;
      case 'codex':
        Object.assign(
          headers,
          codexUsageHeaders(codexUsage ?? scenario.codexUsage ?? {}, Date.now()),
        );
        break;
    }
    if (scenario.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(scenario.retryAfterSeconds);
    }
    for (const [name, value] of Object.entries(scenario.headers ?? {})) {
      headers[name.toLowerCase()] = value;
    }
    return headers;
  }

  private answerOpenAIModels(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    route: OpenAIRoute,
  ): void {
    if (route.modelId === undefined) {
      this.sendJson(res, exchange, 200, headers, openAIModelsPayload());
      return;
    }
    const model = FAKE_OPENAI_MODELS.find((candidate) => candidate.id === route.modelId);
    if (model !== undefined) {
      this.sendJson(res, exchange, 200, headers, modelToWire(model));
      return;
    }
    const error = {
      status: 404,
      message: `The model '${route.modelId}' does not exist`,
      param: 'model',
    };
    const payload = openAIErrorBody(route.surface, error, exchange.record.credential);
    this.sendJson(res, exchange, 404, headers, payload);
  }

  private async answerOpenAIGeneration(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    scenario: FakeScenario,
    route: OpenAIRoute,
    body: Buffer,
    request: object,
  ): Promise<void> {
    const fields = request as Record<string, unknown>;
    const reply = scenario.reply ?? {};
    const content = reply.content ?? defaultContent(scenario.events);
    const seq = reply.idSeed ?? exchange.seq;
    const blocks = content.map((block, index) => openAIBlockOf(block, index, seq));
    let chars = 0;
    let reasoningChars = 0;
    for (const block of blocks) {
      if (block.kind === 'tool') {
        chars += block.name.length + block.argumentChunks.join('').length;
      } else {
        const length = block.parts.join('').length;
        chars += length;
        if (block.kind === 'reasoning') reasoningChars += length;
      }
    }
    const reasoning =
      reply.usage?.reasoningTokens ?? (reasoningChars > 0 ? Math.ceil(reasoningChars / 4) : 0);
    const requestModel = typeof fields.model === 'string' ? fields.model : undefined;
    const input: OpenAIRenderInput = {
      seq,
      model: reply.model ?? requestModel ?? route.deployment ?? DEFAULT_OPENAI_MODEL,
      blocks,
      usage: {
        input: reply.usage?.inputTokens ?? fakeInputTokensFor(body),
        cacheRead: reply.usage?.cacheReadTokens ?? 0,
        output: reply.usage?.outputTokens ?? Math.max(1, Math.ceil(chars / 4), reasoning),
        reasoning,
      },
      stop: openAIStopOf(reply.stopReason, blocks),
      createdAt: reply.createdAt ?? Math.floor(Date.now() / 1000),
      request: fields,
      id: reply.id,
    };
    const chat = route.endpoint === 'chat_completions';
    const compat =
      route.compat === undefined ? undefined : (this.compatProfiles.get(route.compat) ?? {});
    if (fields.stream !== true) {
      const payload =
        compat !== undefined
          ? compatPayload(input, compat)
          : chat
            ? chatCompletionPayload(input)
            : responsePayload(input);
      this.sendReplyJson(res, exchange, headers, scenario, JSON.stringify(payload));
      return;
    }
    const events =
      compat !== undefined
        ? compatChunks(input, compat)
        : chat
          ? chatCompletionChunks(input)
          : responseEvents(input);
    const errorEvent: StreamErrorEvent = chat
      ? (type, message) => chatStreamErrorLine(type, message)
      : (type, message, afterEvents) => responseStreamErrorEvent(type, message, afterEvents);
    await this.writeStream(res, exchange, headers, scenario, events, errorEvent);
  }

  /** A JSON reply; with `cutAfterEvents`, the headers and half the body, then a reset. */
  private sendReplyJson(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    scenario: FakeScenario,
    payload: string,
  ): void {
    if (scenario.cutAfterEvents === undefined) {
      this.sendRaw(res, exchange, 200, headers, 'application/json', payload);
      return;
    }
    res.writeHead(200, {
      ...headers,
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
    });
    exchange.record.status = 200;
    this.writeThenDestroy(res, exchange, payload.slice(0, Math.floor(payload.length / 2)));
  }

  private resolveScenario(
    endpoint: FakeEndpoint,
    credential: string | undefined,
  ): FakeScenario | undefined {
    if (credential !== undefined) {
      const route = this.credentialRoutes.get(credential);
      if (route?.sticky && appliesTo(route.sticky, endpoint)) return route.sticky;
      const fromRoute = route ? takeFirst(route.queue, endpoint) : undefined;
      if (fromRoute) return fromRoute;
    }
    const queued = takeFirst(this.queue, endpoint);
    if (queued) return queued;
    if (this.defaultScenario && appliesTo(this.defaultScenario, endpoint)) {
      return this.defaultScenario;
    }
    return undefined;
  }

  private baseHeaders(exchange: Exchange, scenario: FakeScenario): Record<string, string> {
    const headers: Record<string, string> = {
      'request-id': `req_fake_${exchange.seq}`,
      'anthropic-organization-id': this.organizationIdFor(exchange.record.credential),
    };
    if (scenario.retryAfterSeconds !== undefined) {
      headers['retry-after'] = String(scenario.retryAfterSeconds);
    }
    if (scenario.unifiedResetEpochSeconds !== undefined) {
      headers['anthropic-ratelimit-unified-reset'] = String(scenario.unifiedResetEpochSeconds);
    }
    if (scenario.requestsResetAt !== undefined) {
      headers['anthropic-ratelimit-requests-reset'] =
        typeof scenario.requestsResetAt === 'string'
          ? scenario.requestsResetAt
          : scenario.requestsResetAt.toISOString();
    }
    if (scenario.headers) {
      for (const [name, value] of Object.entries(scenario.headers)) {
        headers[name.toLowerCase()] = value;
      }
    }
    return headers;
  }

  /** Stable per credential so relay tests can tell accounts apart by organization. */
  private organizationIdFor(credential: string | undefined): string {
    const key = credential ?? '';
    let id = this.organizationIds.get(key);
    if (id === undefined) {
      const hex = createHash('sha256').update(key).digest('hex');
      id = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
      this.organizationIds.set(key, id);
    }
    return id;
  }

  private answerModels(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
  ): void {
    const toWire = (model: FakeModel) => ({
      type: 'model',
      id: model.id,
      display_name: model.displayName,
      created_at: model.createdAt,
    });
    const path = exchange.record.path;
    if (path !== '/v1/models') {
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const model = FAKE_MODELS.find((candidate) => candidate.id === id);
      if (model) this.sendJson(res, exchange, 200, headers, toWire(model));
      else this.sendError(res, exchange, 404, headers, 'not_found_error', `model: ${id}`);
      return;
    }
    this.sendJson(res, exchange, 200, headers, {
      data: FAKE_MODELS.map(toWire),
      has_more: false,
      first_id: FAKE_MODELS[0].id,
      last_id: FAKE_MODELS[FAKE_MODELS.length - 1].id,
    });
  }

  private async answerMessages(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    scenario: FakeScenario,
    body: Buffer,
    request: object,
    /** Bedrock: the operation decides streaming, the path names the model, frames carry events. */
    bedrock?: { stream: boolean; model: string },
  ): Promise<void> {
    const requestModel = bedrock?.model ?? (request as { model?: unknown }).model;
    const stream = bedrock?.stream ?? (request as { stream?: unknown }).stream === true;
    const reply = scenario.reply ?? {};
    const blocks = (reply.content ?? defaultContent(scenario.events)).map((block, index) =>
      resolveBlock(block, index, exchange.seq),
    );
    const chars = blocks.reduce((sum, block) => sum + block.chars, 0);
    const usage = {
      input: reply.usage?.inputTokens ?? fakeInputTokensFor(body),
      output: reply.usage?.outputTokens ?? Math.max(1, Math.ceil(chars / 4)),
      cache5m: reply.usage?.cacheCreation5mTokens ?? 0,
      cache1h: reply.usage?.cacheCreation1hTokens ?? 0,
      cacheRead: reply.usage?.cacheReadTokens ?? 0,
    };
    const wireUsage = (outputTokens: number) => ({
      input_tokens: usage.input,
      cache_creation_input_tokens: usage.cache5m + usage.cache1h,
      cache_read_input_tokens: usage.cacheRead,
      cache_creation: {
        ephemeral_5m_input_tokens: usage.cache5m,
        ephemeral_1h_input_tokens: usage.cache1h,
      },
      output_tokens: outputTokens,
      service_tier: 'standard',
    });
    const stopReason =
      reply.stopReason ??
      (blocks.some((block) => block.final.type === 'tool_use') ? 'tool_use' : 'end_turn');
    const message = {
      id: reply.id ?? `msg_fake_${exchange.seq}`,
      type: 'message',
      role: 'assistant',
      model: reply.model ?? (typeof requestModel === 'string' ? requestModel : DEFAULT_MODEL),
      content: [] as Record<string, unknown>[],
      stop_reason: null as string | null,
      stop_sequence: null,
      usage: wireUsage(Math.min(1, usage.output)),
    };

    if (!stream) {
      message.content = blocks.map((block) => block.final);
      message.stop_reason = stopReason;
      message.usage = wireUsage(usage.output);
      this.sendReplyJson(res, exchange, headers, scenario, JSON.stringify(message));
      return;
    }

    const events: string[] = [sse('message_start', { type: 'message_start', message })];
    blocks.forEach((block, index) => {
      events.push(
        sse('content_block_start', {
          type: 'content_block_start',
          index,
          content_block: block.start,
        }),
      );
      if (index === 0) events.push(PING_EVENT);
      for (const delta of block.deltas) {
        events.push(sse('content_block_delta', { type: 'content_block_delta', index, delta }));
      }
      events.push(sse('content_block_stop', { type: 'content_block_stop', index }));
    });
    if (blocks.length === 0) events.push(PING_EVENT);
    events.push(
      sse('message_delta', {
        type: 'message_delta',
        delta: { stop_reason: stopReason, stop_sequence: null },
        usage: reply.cumulativeDeltaUsage
          ? {
              input_tokens: usage.input,
              cache_creation_input_tokens: usage.cache5m + usage.cache1h,
              cache_read_input_tokens: usage.cacheRead,
              output_tokens: usage.output,
            }
          : { output_tokens: usage.output },
      }),
      MESSAGE_STOP_EVENT,
    );
    if (bedrock !== undefined) {
      const frames = events.map(bedrockChunkFrame);
      const exception: StreamErrorEvent = (type, message) => bedrockExceptionFrame(type, message);
      await this.writeStream(
        res,
        exchange,
        headers,
        scenario,
        frames,
        exception,
        BEDROCK_EVENT_STREAM,
      );
      return;
    }
    await this.writeStream(res, exchange, headers, scenario, events);
  }

  private async writeStream(
    res: ServerResponse,
    exchange: Exchange,
    headers: Record<string, string>,
    scenario: FakeScenario,
    allEvents: (string | Buffer)[],
    errorEvent: StreamErrorEvent = anthropicStreamError,
    contentType = 'text/event-stream',
  ): Promise<void> {
    let events = allEvents;
    if (scenario.streamError) {
      const anthropic = errorEvent === anthropicStreamError;
      const { afterEvents } = scenario.streamError;
      const type = scenario.streamError.type ?? (anthropic ? 'overloaded_error' : 'server_error');
      const message = scenario.streamError.message ?? errorMessageForType(type);
      const kept = Math.max(0, afterEvents);
      events = events.slice(0, kept).concat(errorEvent(type, message, kept));
    }
    const cut = scenario.cutAfterEvents !== undefined;
    if (cut) events = events.slice(0, Math.max(0, scenario.cutAfterEvents ?? 0));

    res.writeHead(200, {
      ...headers,
      'content-type': contentType,
      ...(contentType === 'text/event-stream' ? { 'cache-control': 'no-cache' } : {}),
    });
    exchange.record.status = 200;
    if (scenario.delayAfterHeadersMs !== undefined && scenario.delayAfterHeadersMs > 0) {
      res.flushHeaders();
      await this.sleep(exchange, scenario.delayAfterHeadersMs);
      if (exchange.closed) return;
    }
    if (scenario.holdAfterHeaders !== undefined) {
      res.flushHeaders();
      await this.hold(exchange, scenario.holdAfterHeaders);
      if (exchange.closed) return;
    }

    const delay = scenario.eventDelayMs ?? 0;
    if (delay > 0 && events.length > 1) {
      for (let i = 0; i < events.length - 1; i++) {
        res.write(events[i]);
        await this.sleep(exchange, delay);
        if (exchange.closed) return;
      }
      events = events.slice(-1);
    }
    const rest = events.every((event) => typeof event === 'string')
      ? events.join('')
      : Buffer.concat(
          events.map((event) => (typeof event === 'string' ? Buffer.from(event) : event)),
        );
    if (!cut) {
      res.end(rest);
    } else if (rest.length > 0) {
      this.writeThenDestroy(res, exchange, rest);
    } else {
      // Nothing to write: still send the status line so the cut happens mid-body.
      res.flushHeaders();
      exchange.serverDestroyed = true;
      res.socket?.end();
    }
  }

  private writeThenDestroy(res: ServerResponse, exchange: Exchange, data: string | Buffer): void {
    exchange.serverDestroyed = true;
    // Destroy only once the bytes are handed to the kernel so the client sees them.
    res.write(data, () => res.destroy());
  }

  /** Waits for the gate to open, or for the client to leave (which wakes the exchange). */
  private hold(exchange: Exchange, gate: FakeGate): Promise<void> {
    if (exchange.closed || gate.isOpen) return Promise.resolve();
    gate.waiting++;
    this.notify();
    return new Promise<void>((resolve) => {
      let forget: () => void = () => undefined;
      const wake = (): void => {
        exchange.wake = undefined;
        forget();
        gate.waiting--;
        resolve();
      };
      exchange.wake = wake;
      forget = gate.onOpen(wake);
    });
  }

  /** Resolves once `count` responses wait at the gate. */
  waitForHeld(gate: FakeGate, count: number, timeoutMs = 10_000): Promise<void> {
    return this.waitUntil(
      () => gate.waiting >= count,
      timeoutMs,
      `${count} responses held at the gate`,
    );
  }

  private sleep(exchange: Exchange, ms: number): Promise<void> {
    if (exchange.closed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      exchange.wake = () => {
        exchange.wake = undefined;
        exchange.timer = undefined;
        resolve();
      };
      exchange.timer = setTimeout(exchange.wake, ms);
    });
  }

  private sendError(
    res: ServerResponse,
    exchange: Exchange,
    status: number,
    headers: Record<string, string>,
    type: string,
    message: string,
  ): void {
    const requestId = headers['request-id'] ?? `req_fake_${exchange.seq}`;
    this.sendJson(res, exchange, status, headers, {
      type: 'error',
      error: { type, message },
      request_id: requestId,
    });
  }

  private sendJson(
    res: ServerResponse,
    exchange: Exchange,
    status: number,
    headers: Record<string, string>,
    payload: unknown,
  ): void {
    this.sendRaw(res, exchange, status, headers, 'application/json', JSON.stringify(payload));
  }

  private sendRaw(
    res: ServerResponse,
    exchange: Exchange,
    status: number,
    headers: Record<string, string>,
    contentType: string,
    payload: string,
  ): void {
    exchange.record.status = status;
    res.writeHead(status, {
      ...headers,
      'content-type': contentType,
      'content-length': String(Buffer.byteLength(payload)),
    });
    res.end(payload);
  }
}

/** Builds the mid-stream error written after `afterEvents` events, in the route's format. */
type StreamErrorEvent = (type: string, message: string, afterEvents: number) => string | Buffer;

const anthropicStreamError: StreamErrorEvent = (type, message) =>
  sse('error', { type: 'error', error: { type, message } });

/** A scripted reply block in the form the OpenAI renderers take. */
function openAIBlockOf(block: FakeContentBlock, index: number, seq: number): OpenAIBlock {
  switch (block.type) {
    case 'text':
      return { kind: 'text', parts: splitWords(block.text) };
    case 'thinking':
      // OpenAI's reasoning item carries an opaque encrypted_content where Claude has a signature.
      return {
        kind: 'reasoning',
        parts: splitWords(block.thinking),
        encryptedContent:
          block.signature ??
          Buffer.from(`fake-encrypted-reasoning-${seq}-${index}`).toString('base64'),
      };
    case 'tool_use': {
      const json = JSON.stringify(block.input);
      return {
        kind: 'tool',
        callId: block.id ?? `call_fake${seq}_${index}`,
        name: block.name,
        argumentChunks: block.partialJson ?? chunkString(json, JSON_CHUNK_SIZE),
      };
    }
  }
}

function openAIStopOf(
  stop: FakeStopReason | undefined,
  blocks: readonly OpenAIBlock[],
): OpenAIStop {
  switch (stop) {
    case undefined:
      return blocks.some((block) => block.kind === 'tool') ? 'tool_calls' : 'stop';
    case 'max_tokens':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case 'end_turn':
    case 'stop_sequence':
    case 'pause_turn':
      return 'stop';
  }
}

const PING_EVENT = sse('ping', { type: 'ping' });
const MESSAGE_STOP_EVENT = sse('message_stop', { type: 'message_stop' });

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function isScenarioList(
  value: FakeScenario | readonly FakeScenario[],
): value is readonly FakeScenario[] {
  return Array.isArray(value);
}

function appliesTo(scenario: FakeScenario, endpoint: FakeEndpoint): boolean {
  return (scenario.endpoints ?? DEFAULT_ENDPOINTS).includes(endpoint);
}

function takeFirst(queue: FakeScenario[], endpoint: FakeEndpoint): FakeScenario | undefined {
  const index = queue.findIndex((scenario) => appliesTo(scenario, endpoint));
  return index === -1 ? undefined : queue.splice(index, 1)[0];
}

type AnthropicEndpoint = 'messages' | 'count_tokens' | 'models';

function endpointOf(method: string, path: string): AnthropicEndpoint | undefined {
  if (method === 'POST' && path === '/v1/messages') return 'messages';
  if (method === 'POST' && path === '/v1/messages/count_tokens') return 'count_tokens';
  if (method === 'GET' && (path === '/v1/models' || path.startsWith('/v1/models/'))) {
    return 'models';
  }
  return undefined;
}

function credentialOf(headers: IncomingHttpHeaders): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey !== '') return apiKey;
  const azureKey = headers['api-key'];
  if (typeof azureKey === 'string' && azureKey !== '') return azureKey;
  const googleKey = headers['x-goog-api-key'];
  if (typeof googleKey === 'string' && googleKey !== '') return googleKey;
  const authorization = headers.authorization;
  if (authorization !== undefined && /^bearer /i.test(authorization)) {
    return authorization.slice(7).trim();
  }
  return undefined;
}

function errorTypeFor(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 504:
      return 'timeout_error';
    case 529:
      return 'overloaded_error';
    default:
      return status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

function errorMessageFor(status: number): string {
  return status === 403 ? DISABLED_ORGANIZATION_MESSAGE : errorMessageForType(errorTypeFor(status));
}

function errorMessageForType(type: string): string {
  switch (type) {
    case 'invalid_request_error':
      return 'Invalid request.';
    case 'authentication_error':
      return 'invalid x-api-key';
    case 'billing_error':
      return 'Your credit balance is too low to access the Anthropic API.';
    case 'permission_error':
      return DISABLED_ORGANIZATION_MESSAGE;
    case 'not_found_error':
      return 'Not found.';
    case 'request_too_large':
      return 'Request exceeds the maximum allowed number of bytes.';
    case 'rate_limit_error':
      return 'Number of request tokens has exceeded your per-minute rate limit.';
    case 'timeout_error':
      return 'Request timed out.';
    case 'overloaded_error':
      return 'Overloaded';
    default:
      return 'Internal server error';
  }
}

function defaultContent(events: number | undefined): FakeContentBlock[] {
  if (events === undefined) return [{ type: 'text', text: DEFAULT_FAKE_REPLY_TEXT }];
  return [{ type: 'text', text: Array.from({ length: events }, (_, i) => `w${i + 1} `) }];
}

/** Splits on whitespace keeping it, so the deltas join back to exactly the input. */
function splitWords(text: string | readonly string[]): readonly string[] {
  if (typeof text !== 'string') return text;
  return text.split(/(?<=\s)/).filter((part) => part !== '');
}

function resolveBlock(block: FakeContentBlock, index: number, seq: number): ResolvedBlock {
  switch (block.type) {
    case 'text': {
      const parts = splitWords(block.text);
      const text = parts.join('');
      return {
        start: { type: 'text', text: '' },
        deltas: parts.map((part) => ({ type: 'text_delta', text: part })),
        final: { type: 'text', text },
        chars: text.length,
      };
    }
    case 'thinking': {
      const parts = splitWords(block.thinking);
      const thinking = parts.join('');
      const signature =
        block.signature ?? Buffer.from(`fake-signature-${seq}-${index}`).toString('base64');
      return {
        start: { type: 'thinking', thinking: '', signature: '' },
        deltas: [
          ...parts.map((part) => ({ type: 'thinking_delta', thinking: part })),
          { type: 'signature_delta', signature },
        ],
        final: { type: 'thinking', thinking, signature },
        chars: thinking.length,
      };
    }
    case 'tool_use': {
      const id = block.id ?? `toolu_fake_${seq}_${index}`;
      const json = block.partialJson ? block.partialJson.join('') : JSON.stringify(block.input);
      const chunks = block.partialJson ?? chunkString(json, JSON_CHUNK_SIZE);
      return {
        start: { type: 'tool_use', id, name: block.name, input: {} },
        // The real API opens every tool input with an empty partial_json delta.
        deltas: ['', ...chunks].map((partial) => ({
          type: 'input_json_delta',
          partial_json: partial,
        })),
        final: { type: 'tool_use', id, name: block.name, input: block.input },
        chars: json.length + block.name.length,
      };
    }
  }
}

function chunkString(value: string, size: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += size) chunks.push(value.slice(i, i + size));
  return chunks;
}
