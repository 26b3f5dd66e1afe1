import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import type { Readable } from 'node:stream';
import { appLogger } from 'src/common/logging/app-logger';
import { currentRequestId } from 'src/common/logging/request-context';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { CoordinationException } from 'src/infra/coordination/coordination.exception';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import {
  transportFaultOf,
  UpstreamAbort,
  UpstreamHttp,
  type TransportFault,
  type UpstreamResponse,
} from 'src/infra/http/upstream-http.service';
import type { Platform } from 'src/common/platform';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { ClaudeOAuthRefresher } from 'src/modules/accounts/claude-oauth-refresher';
import type { Admission } from 'src/modules/api-keys/admission.service';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { checkAccess, checkKey } from 'src/modules/api-keys/api-key-policy';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import {
  Scheduler,
  type PickRequest,
  type PickResult,
} from 'src/modules/scheduler/scheduler.service';
import { sessionOf } from 'src/modules/scheduler/session';
import { emptyUsage, totalTokens, type TokenUsage } from 'src/modules/usage/pricing/token-usage';
import { PricingService } from 'src/modules/usage/pricing.service';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import type { UsageOutcome } from 'src/modules/usage/usage.types';
import { forwardableResponseHeaders } from './headers';
import { isRelayKnownError, toRelayErrorView } from './relay-errors';
import { RelayException, RelayExceptionCode } from './relay.exception';
import type { InboundDialect, ParsedRequest, ProviderAdapter, UsageTap } from './relay.types';

/** Upstream error bodies read for classification; larger ones are cut (they are never forwarded). */
const MAX_ERROR_BODY = 64 * 1024;
/** Non-stream response bytes kept to read usage from; the client gets every byte regardless. */
const MAX_PARSED_BODY = 16 * 1024 * 1024;

export interface RelayCall {
  dialect: InboundDialect;
  provider: ProviderAdapter;
  /** Upstream path (/v1/messages, /v1/messages/count_tokens). */
  path: string;
  /** Metered calls take admission (limits, budgets, lease) and produce a usage event. */
  metered: boolean;
}

/** Mutable facts about one request, filled in as it progresses; becomes the usage event. */
interface RequestState {
  requestId: string;
  platform: Platform;
  startedAt: number;
  model: string;
  stream: boolean;
  accountId: string | null;
  attempts: number;
  status: number;
  outcome: UsageOutcome;
  usage: TokenUsage;
  ttfbMs: number | null;
  errorCode: string | null;
  clientGone: boolean;
}

type Attempt =
  | { kind: 'response'; response: UpstreamResponse; buffered?: Buffer }
  | {
      kind: 'failover';
      outcome: UpstreamOutcome;
      fault: TransportFault | null;
      status: number | null;
    };

class ClientGoneError extends Error {}

/** The last failed attempt: a transport fault, or the upstream status that caused failover. */
type Failure = { fault: TransportFault | null; status: number | null } | null;

function bodyTooLarge(limit: number): RelayException {
  return new RelayException(
    RelayExceptionCode.BODY_TOO_LARGE,
    `request body exceeds ${limit} bytes`,
  );
}

/**
 * The whole request body, up to limit bytes. Plain stream events rather than `for await`: an
 * async iterator costs a promise per chunk and an end-of-stream watcher per request.
 */
function readBody(req: Request, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(bodyTooLarge(limit));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const fail = (error: Error): void => {
      cleanup();
      // As an abandoned `for await` would: the rest of the body is not wanted.
      req.destroy();
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) fail(bodyTooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => fail(error);
    const onClose = (): void => {
      if (req.readableEnded) return;
      const error = new Error('request closed before its body was complete');
      fail(Object.assign(error, { code: 'ERR_STREAM_PREMATURE_CLOSE' }));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    if (size < limit) {
      chunks.push(chunk);
      size += chunk.length;
    }
  }
  return Buffer.concat(chunks).subarray(0, limit);
}

/**
 * Writes every chunk of body to res as it arrives, pausing body while res is full. Resolves at
 * the end of body, or as soon as stop() says so after a chunk or a drain (the caller then
 * destroys body); rejects with body's error. Stream events rather than `for await`, which
 * costs a promise per chunk.
 */
function pump(
  body: Readable,
  res: Response,
  onChunk: (chunk: Buffer) => void,
  stop: () => boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onDrain);
    };
    const onData = (chunk: Buffer): void => {
      onChunk(chunk);
      if (!res.write(chunk)) body.pause();
      if (stop()) {
        cleanup();
        resolve();
      }
    };
    const onDrain = (): void => {
      if (stop()) {
        cleanup();
        resolve();
      } else if (body.isPaused()) {
        body.resume();
      }
    };
    const onEnd = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    res.on('drain', onDrain);
    res.on('close', onDrain);
  });
}

function faultOutcome(fault: TransportFault, error: unknown): UpstreamOutcome {
  switch (fault) {
    case 'connect_timeout':
      return { kind: 'timeout', phase: 'connect' };
    case 'first_byte_timeout':
      return { kind: 'timeout', phase: 'first_byte' };
    case 'unreachable':
    case 'reset':
    case 'idle_timeout':
    case 'aborted': {
      const code = (error as { code?: unknown }).code;
      return { kind: 'connect_error', code: typeof code === 'string' ? code : fault };
    }
  }
}

function faultException(fault: TransportFault, retryAtMs: number | null): RelayException {
  switch (fault) {
    case 'connect_timeout':
    case 'first_byte_timeout':
    case 'idle_timeout':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_TIMEOUT,
        'upstream did not answer in time',
        retryAtMs,
      );
    case 'unreachable':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_UNREACHABLE,
        'upstream is unreachable',
        retryAtMs,
      );
    case 'reset':
    case 'aborted':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        'upstream closed the connection',
        retryAtMs,
      );
  }
}

/**
 * The relay pipeline: key → policy → admission (one coordinator round trip) → scheduler →
 * provider request → failover before the first byte → byte-exact streaming with a usage tap →
 * settle and a usage event off the response path.
 */
@Injectable()
export class RelayService {
  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly admission: AdmissionService,
    private readonly scheduler: Scheduler,
    private readonly health: AccountHealthService,
    private readonly pool: AccountPool,
    private readonly refresher: ClaudeOAuthRefresher,
    private readonly http: UpstreamHttp,
    private readonly pricing: PricingService,
    private readonly recorder: UsageRecorder,
    private readonly config: ConfigService,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
  ) {}

  /** Authenticates the caller's key and checks it may use this platform; throws ApiKeyException. */
  async authenticate(dialect: InboundDialect, req: Request): Promise<ApiKeyPolicy> {
    const secret = dialect.extractKey(req);
    if (secret === null) {
      throw new ApiKeyException(
        KeyRejectionCode.MISSING_KEY,
        'missing API key (x-api-key or Authorization: Bearer)',
      );
    }
    const policy = await this.authenticator.authenticate(secret);
    if (policy === null) throw new ApiKeyException(KeyRejectionCode.INVALID_KEY, 'invalid API key');
    const rejection = checkKey(policy, Date.now());
    if (rejection !== null) throw ApiKeyException.fromRejection(rejection);
    return policy;
  }

  /** Writes an error in the dialect's shape; unknown errors are logged with an id and stay opaque. */
  writeError(
    dialect: InboundDialect,
    res: Response,
    error: unknown,
  ): { status: number; code: string } {
    const errorId = randomUUID();
    if (error instanceof CoordinationException) {
      appLogger.warn(
        { code: error.code, errorId },
        'relay request refused: coordinator unavailable',
      );
    } else if (!isRelayKnownError(error)) {
      appLogger.error({ err: error, errorId }, 'relay request failed');
    }
    const view = toRelayErrorView(error, errorId);
    if (!res.headersSent && !res.destroyed) dialect.writeError(res, view);
    return { status: view.status, code: view.code };
  }

  async relay(call: RelayCall, req: Request, res: Response): Promise<void> {
    const state: RequestState = {
      requestId: currentRequestId() ?? timeOrderedId(),
      platform: call.dialect.platform,
      startedAt: Date.now(),
      model: 'unknown',
      stream: false,
      accountId: null,
      attempts: 0,
      status: 0,
      outcome: 'error',
      usage: emptyUsage(),
      ttfbMs: null,
      errorCode: null,
      clientGone: false,
    };
    let policy: ApiKeyPolicy | null = null;
    let admission: Admission | null = null;
    let stopRenewing: (() => void) | undefined;
    try {
      policy = await this.authenticate(call.dialect, req);
      const raw = await readBody(req, this.config.env.RELAY_MAX_BODY_BYTES);
      const parsed = call.dialect.parse(raw);
      state.model = parsed.model;
      state.stream = parsed.stream && call.metered;
      const denied = checkAccess(policy, {
        platform: call.dialect.platform,
        model: parsed.model,
        userAgent: req.headers['user-agent'],
      });
      if (denied !== null) throw ApiKeyException.fromRejection(denied);
      const pick: PickRequest = {
        platform: call.dialect.platform,
        model: parsed.model,
        apiKeyId: policy.id,
        binding: policy.bindings[call.dialect.platform],
        session: sessionOf(parsed.body, req.headers, this.config.env.STICKY_CONTENT_HASH),
        exclude: new Set<string>(),
      };
      // The conversation's sticky account is read in admission's round trip when admission
      // makes one; otherwise the first pick (its sticky lookup is a round trip) runs while
      // admission is decided, so the two overlap instead of adding up. A refused request then
      // only cost a sticky lookup; the pick is dropped unread.
      const touch = call.metered ? this.scheduler.stickyTouch(pick) : null;
      let firstPick: Promise<PickResult> | undefined;
      if (touch === null) {
        firstPick = this.scheduler.pick(pick);
        firstPick.catch(() => undefined);
      }
      if (call.metered) {
        const estimate = this.pricing.estimate(
          parsed.model,
          raw.length,
          parsed.maxTokens,
          policy.priceMultiplier,
        );
        admission = await this.admission.admit(policy, {
          requestId: state.requestId,
          model: parsed.model,
          estimatedCostMicros: estimate,
          maxTokens: parsed.maxTokens,
          ...(touch !== null && { touch }),
        });
        stopRenewing = admission.startRenewing();
        if (admission.rateLimit !== null) {
          const { limit, remaining, resetAtMs } = admission.rateLimit;
          res.setHeader('x-ratelimit-limit', String(limit));
          res.setHeader('x-ratelimit-remaining', String(Math.max(0, remaining)));
          res.setHeader(
            'x-ratelimit-reset',
            String(Math.max(1, Math.ceil((resetAtMs - Date.now()) / 1000))),
          );
        }
      }
      if (firstPick === undefined) {
        const touched = admission?.touched;
        firstPick = this.scheduler.pick(
          pick,
          touched === undefined ? undefined : { value: touched },
        );
      }
      await this.forward(call, req, res, parsed, raw, state, pick, firstPick);
    } catch (error) {
      if (error instanceof ClientGoneError) {
        state.outcome = 'aborted';
        state.status ||= 499;
      } else {
        const { status, code } = this.writeError(call.dialect, res, error);
        state.status = status;
        state.errorCode = code;
        state.outcome = 'error';
      }
    } finally {
      stopRenewing?.();
      if (admission !== null && policy !== null) this.finish(policy, admission, state);
    }
  }

  /** Settles the admission to the actual cost and hands the usage event to the recorder. */
  private finish(policy: ApiKeyPolicy, admission: Admission, state: RequestState): void {
    const { costMicros, priceKnown } = this.pricing.cost(
      state.model,
      state.usage,
      policy.priceMultiplier,
    );
    // settle never rejects; it runs after the response so the client never waits on it.
    void admission.settle({ tokens: totalTokens(state.usage), costMicros });
    this.recorder.record({
      requestId: state.requestId,
      at: state.startedAt,
      apiKeyId: policy.id,
      accountId: state.accountId,
      platform: state.platform,
      model: state.model,
      status: state.status,
      outcome: state.outcome,
      stream: state.stream,
      usage: state.usage,
      costMicros,
      priceKnown,
      latencyMs: Date.now() - state.startedAt,
      ttfbMs: state.ttfbMs,
      attempts: state.attempts,
      errorCode: state.errorCode,
    });
  }

  private async forward(
    call: RelayCall,
    req: Request,
    res: Response,
    parsed: ParsedRequest,
    raw: Buffer,
    state: RequestState,
    pick: PickRequest,
    firstPick: Promise<PickResult>,
  ): Promise<void> {
    const abort = new UpstreamAbort();
    res.once('close', () => {
      if (!res.writableFinished) {
        state.clientGone = true;
        abort.abort();
      }
    });
    const exclude = pick.exclude as Set<string>;
    let lastFailure: Failure = null;
    const refreshed = new Set<string>();
    for (let attempt = 0; attempt < this.config.env.RELAY_MAX_ATTEMPTS; attempt++) {
      if (state.clientGone) throw new ClientGoneError();
      const chosen = attempt === 0 ? await firstPick : await this.scheduler.pick(pick);
      if (!chosen.ok) throw this.unavailable(chosen, lastFailure);
      let account = chosen.account;
      exclude.add(account.id);
      state.attempts += 1;
      state.accountId = account.id;
      state.model = chosen.upstreamModel;
      const releaseLease = await this.acquireAccountLease(account, state.requestId);
      if (releaseLease === false) continue;
      const endInFlight = this.scheduler.begin(account.id);
      try {
        const send = (target: RoutableAccount): Promise<Attempt> =>
          this.attempt(call, req, target, parsed, raw, chosen.upstreamModel, abort, state);
        let result = await send(account);
        if (
          result.kind === 'failover' &&
          result.outcome.kind === 'auth_failed' &&
          account.type === 'claude-oauth' &&
          !refreshed.has(account.id)
        ) {
          // A 401 on a subscription account first gets one token refresh and one retry.
          refreshed.add(account.id);
          if (await this.refresher.refresh(account.id)) {
            account = this.pool.get(account.id) ?? account;
            result = await send(account);
          }
        }
        if (result.kind === 'failover') {
          lastFailure = { fault: result.fault, status: result.status };
          await this.recordHealth(account, result.outcome, chosen.upstreamModel);
          appLogger.warn(
            {
              accountId: account.id,
              outcome: result.outcome.kind,
              status: result.status,
              attempt: attempt + 1,
            },
            'upstream attempt failed; failing over',
          );
          continue;
        }
        if (result.response.statusCode < 400)
          void this.recordHealth(account, { kind: 'success' }, chosen.upstreamModel);
        await this.respond(call, res, result, state);
        return;
      } finally {
        endInFlight();
        releaseLease?.();
      }
    }
    if (state.clientGone) throw new ClientGoneError();
    // Attempts exhausted: say whether waiting helps (every account rate-limited) or not.
    const probe = await this.scheduler.pick({ ...pick, session: null, exclude: new Set() });
    throw this.unavailable(
      probe.ok ? { ok: false, reason: 'unavailable', retryAtMs: null } : probe,
      lastFailure,
    );
  }

  /**
   * Why no account could serve: every one rate-limited (429, wait until the earliest reset); the
   * last attempt's transport fault (504 / 503 / 502); the upstream's own overload (529) or bad
   * status (502); else nothing capable is available (503).
   */
  private unavailable(result: Extract<PickResult, { ok: false }>, last: Failure): RelayException {
    const retryAt = result.retryAtMs;
    if (result.reason === 'rate_limited') {
      return new RelayException(
        RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED,
        'every upstream account for this model is rate-limited',
        retryAt,
      );
    }
    if (last?.fault != null) return faultException(last.fault, retryAt);
    if (last?.status === 529) {
      return new RelayException(
        RelayExceptionCode.UPSTREAM_OVERLOADED,
        'upstream is overloaded',
        retryAt,
      );
    }
    if (last?.status != null && last.status >= 500) {
      return new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        `upstream failed (${last.status})`,
        retryAt,
      );
    }
    return new RelayException(
      RelayExceptionCode.NO_ACCOUNT_AVAILABLE,
      result.reason === 'binding_unavailable'
        ? 'the account dedicated to this key cannot serve the request now'
        : 'no upstream account is available for this model',
      result.retryAtMs,
    );
  }

  private async recordHealth(
    account: RoutableAccount,
    outcome: UpstreamOutcome,
    model: string,
  ): Promise<void> {
    try {
      await this.health.record(account, outcome, model);
    } catch (error) {
      appLogger.warn({ err: error, accountId: account.id }, 'could not record account health');
    }
  }

  /** Cross-instance concurrency limit of an account; false when it is full. */
  private async acquireAccountLease(
    account: RoutableAccount,
    requestId: string,
  ): Promise<(() => void) | null | false> {
    if (account.concurrencyLimit === null) return null;
    const key = coordinationKeys.accountLease(account.id);
    const ttlMs = this.config.env.LEASE_TTL_MS;
    const result = await this.coordinator.admit({
      counters: [],
      lease: { key, leaseId: requestId, limit: account.concurrencyLimit, ttlMs },
    });
    if (!result.ok) return false;
    const timer = setInterval(
      () => {
        this.coordinator.renewLease(key, requestId, ttlMs).catch(() => undefined);
      },
      Math.floor(ttlMs / 3),
    );
    timer.unref();
    return () => {
      clearInterval(timer);
      this.coordinator
        .releaseLease(key, requestId)
        .catch((error: unknown) => appLogger.warn({ err: error }, 'account lease release failed'));
    };
  }

  /** One upstream call; resolves to a response to relay or to a failover verdict. */
  private async attempt(
    call: RelayCall,
    req: Request,
    account: RoutableAccount,
    parsed: ParsedRequest,
    raw: Buffer,
    upstreamModel: string,
    signal: UpstreamAbort,
    state: RequestState,
  ): Promise<Attempt> {
    // Bytes pass through unchanged unless the account maps the model to another name.
    const body =
      upstreamModel === parsed.model
        ? raw
        : Buffer.from(JSON.stringify({ ...parsed.body, model: upstreamModel }));
    // The client's query string travels too (Claude Code sends `?beta=true`).
    const query = req.url.indexOf('?');
    const request = call.provider.buildRequest(account, {
      path: query === -1 ? call.path : call.path + req.url.slice(query),
      method: 'POST',
      headers: req.headers,
      body,
    });
    request.signal = signal;
    let response: UpstreamResponse;
    try {
      response = await this.http.send(request);
    } catch (error) {
      if (state.clientGone) throw new ClientGoneError();
      const fault = transportFaultOf(error);
      if (fault === null) throw error;
      return { kind: 'failover', outcome: faultOutcome(fault, error), fault, status: null };
    }
    if (response.statusCode < 400) return { kind: 'response', response };
    let bytes: Buffer;
    try {
      bytes = await readLimited(response.body, MAX_ERROR_BODY);
    } catch (error) {
      if (state.clientGone) throw new ClientGoneError();
      const fault = transportFaultOf(error) ?? 'reset';
      return {
        kind: 'failover',
        outcome: faultOutcome(fault, error),
        fault,
        status: response.statusCode,
      };
    }
    const outcome = call.provider.classifyFailure(
      response.statusCode,
      response.headers,
      bytes.toString('utf8'),
      upstreamModel,
    );
    if (outcome === null) return { kind: 'response', response, buffered: bytes };
    return { kind: 'failover', outcome, fault: null, status: response.statusCode };
  }

  /** Relays the chosen response: headers, then bytes as they arrive, with the usage tap beside. */
  private async respond(
    call: RelayCall,
    res: Response,
    result: Extract<Attempt, { kind: 'response' }>,
    state: RequestState,
  ): Promise<void> {
    const { response } = result;
    const contentType = String(response.headers['content-type'] ?? '');
    const sse = contentType.includes('text/event-stream');
    const headers = forwardableResponseHeaders(response.headers, {
      keepContentLength: !sse && result.buffered === undefined,
    });
    if (sse) {
      headers['cache-control'] = 'no-cache';
      headers['x-accel-buffering'] = 'no';
    }
    state.status = response.statusCode;
    res.writeHead(response.statusCode, headers);
    if (result.buffered !== undefined) {
      // An upstream 4xx about the client's own request: the body is the provider's error.
      state.ttfbMs = Date.now() - state.startedAt;
      res.end(result.buffered);
      state.outcome = 'error';
      state.errorCode = `UPSTREAM_${response.statusCode}`;
      return;
    }
    const tap: UsageTap | null = sse ? call.provider.createTap() : null;
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let wrote = false;
    // A stream's headers go out at once, so the client sees the status while the model thinks;
    // but the first event usually arrived with them, and then one write carries both.
    const flush = sse
      ? setImmediate(() => {
          if (!wrote && !res.writableEnded && !res.destroyed) res.flushHeaders();
        })
      : undefined;
    try {
      await pump(
        response.body,
        res,
        (chunk) => {
          wrote = true;
          state.ttfbMs ??= Date.now() - state.startedAt;
          if (tap !== null) tap.push(chunk);
          else if (keptBytes < MAX_PARSED_BODY) {
            kept.push(chunk);
            keptBytes += chunk.length;
          }
        },
        () => state.clientGone,
      );
      if (state.clientGone) throw new ClientGoneError();
      tap?.end();
      if (tap !== null && !tap.complete && !tap.sawError) {
        res.write(
          call.dialect.streamErrorEvent(
            'api_error',
            'upstream stream ended before it was complete',
          ),
        );
        state.outcome = 'truncated';
        state.errorCode = 'UPSTREAM_STREAM_TRUNCATED';
      } else {
        state.outcome = response.statusCode < 400 && !(tap?.sawError ?? false) ? 'ok' : 'error';
      }
      res.end();
    } catch (error) {
      response.body.destroy();
      tap?.end();
      if (state.clientGone || error instanceof ClientGoneError) {
        state.outcome = 'aborted';
      } else {
        // The upstream broke mid-response: the client already has bytes, so no failover.
        state.outcome = 'truncated';
        state.errorCode = 'UPSTREAM_STREAM_TRUNCATED';
        if (tap !== null && !res.destroyed) {
          res.end(call.dialect.streamErrorEvent('api_error', 'upstream stream was interrupted'));
        } else {
          res.destroy();
        }
      }
    } finally {
      clearImmediate(flush);
      state.usage =
        tap !== null
          ? tap.usage
          : call.provider.usageFromBody(kept.length === 1 ? kept[0] : Buffer.concat(kept));
    }
  }
}
