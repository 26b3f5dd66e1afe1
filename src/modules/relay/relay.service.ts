import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import type { Readable } from 'node:stream';
import { appLogger } from 'src/common/logging/app-logger';
import { currentRequestId } from 'src/common/logging/request-context';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { CoordinationException } from 'src/infra/coordination/coordination.exception';
import { LeaseRenewer, type RenewableLease } from 'src/infra/coordination/lease-renewer';
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
import type { Admission } from 'src/modules/api-keys/admission.service';
import { AdmissionService, concurrencyRejection } from 'src/modules/api-keys/admission.service';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { checkAccess, checkKey } from 'src/modules/api-keys/api-key-policy';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
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
import { InboundLimits } from './inbound-limits';
import { exceedsJsonDepth } from './json-depth';
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
  /**
   * Records the usage (once) and waits until it is in the crash journal; awaited right before a
   * response's last byte, so a response the client saw complete is billed even after a kill -9.
   */
  beforeEnd: (() => Promise<void>) | null;
  recorded: boolean;
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

function serverBusy(): RelayException {
  return new RelayException(
    RelayExceptionCode.SERVER_BUSY,
    'too many large request bodies in flight; retry shortly',
    Date.now() + 1000,
  );
}

/**
 * A refused body's remaining bytes are read and dropped, so the client (still sending) reads the
 * error instead of a connection reset; past this many bytes or milliseconds the socket is cut.
 */
const DISCARD_MAX_BYTES = 64 * 1024 * 1024;
const DISCARD_MAX_MS = 10_000;

/**
 * Drops the rest of a body that will not be read while the caller answers. The connection is
 * not closed at once: a client still sending would then get a reset and lose the answer in its
 * receive buffer; past DISCARD_MAX_BYTES or DISCARD_MAX_MS of more body it is cut all the same.
 */
function discardBody(req: Request): void {
  if (req.readableEnded || req.destroyed) return;
  let dropped = 0;
  const cut = (): void => {
    clearTimeout(timer);
    req.off('data', onData);
    req.destroy();
  };
  const onData = (chunk: Buffer): void => {
    dropped += chunk.length;
    if (dropped > DISCARD_MAX_BYTES) cut();
  };
  const timer = setTimeout(cut, DISCARD_MAX_MS);
  timer.unref();
  req.on('data', onData);
  req.once('end', () => clearTimeout(timer));
  req.once('close', () => clearTimeout(timer));
  req.resume();
}

/**
 * The whole request body, up to limit bytes, each byte counted against the instance's in-flight
 * body budget (held.bytes says how much this request holds; the caller gives it back). Plain
 * stream events rather than `for await`: an async iterator costs a promise per chunk and an
 * end-of-stream watcher per request. A client that leaves mid-body rejects with ClientGoneError;
 * a body refused for its size (413) or for the budget (503) is discarded, not reset, so the
 * client reads the answer.
 */
function readBody(
  req: Request,
  limit: number,
  budget: InboundLimits,
  held: { bytes: number },
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  const hasLength = Number.isFinite(declared) && declared >= 0;
  if (hasLength && declared > limit) {
    discardBody(req);
    return Promise.reject(bodyTooLarge(limit));
  }
  if (hasLength) {
    if (!budget.tryReserveBody(declared)) {
      discardBody(req);
      return Promise.reject(serverBusy());
    }
    held.bytes = declared;
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const refuse = (error: Error): void => {
      cleanup();
      chunks.length = 0;
      discardBody(req);
      reject(error);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) return refuse(bodyTooLarge(limit));
      if (size > held.bytes) {
        // A chunked body (or one longer than it said) reserves as it arrives.
        if (!budget.tryReserveBody(size - held.bytes)) return refuse(serverBusy());
        held.bytes = size;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const gone = (): void => {
      cleanup();
      req.destroy();
      reject(new ClientGoneError());
    };
    const onError = (): void => gone();
    const onClose = (): void => {
      if (!req.readableEnded) gone();
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

/** How a pump ended: the body's end, stop() (client gone) or the client's stall. */
type PumpEnd = 'end' | 'stopped' | 'stalled';

/**
 * Writes every chunk of body to res as it arrives, pausing body while res is full. Resolves at
 * the end of body; as soon as stop() says so or res is destroyed ('stopped': the caller then
 * destroys body, since a destroyed response never drains); or when res has stayed full for
 * stallMs ('stalled': a client that reads nothing must not hold a lease and an upstream
 * connection for ever). Rejects with body's error. Stream events rather than `for await`,
 * which costs a promise per chunk.
 */
function pump(
  body: Readable,
  res: Response,
  onChunk: (chunk: Buffer) => void,
  stop: () => boolean,
  stallMs: number,
): Promise<PumpEnd> {
  return new Promise<PumpEnd>((resolve, reject) => {
    let stall: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      clearTimeout(stall);
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      res.off('drain', onDrain);
      res.off('close', onDrain);
    };
    const finish = (end: PumpEnd): void => {
      cleanup();
      resolve(end);
    };
    const onData = (chunk: Buffer): void => {
      onChunk(chunk);
      if (res.destroyed || stop()) return finish('stopped');
      if (!res.write(chunk)) {
        body.pause();
        stall ??= setTimeout(() => finish('stalled'), stallMs);
      }
    };
    const onDrain = (): void => {
      clearTimeout(stall);
      stall = undefined;
      if (res.destroyed || stop()) finish('stopped');
      else if (body.isPaused()) body.resume();
    };
    const onEnd = (): void => finish('end');
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
export class RelayService implements OnApplicationShutdown {
  /** Renews the account leases of requests in flight (key leases: AdmissionService's). */
  private readonly accountLeases: LeaseRenewer;
  /** Per-instance limits applied before a body is read: body-byte budget, key concurrency. */
  readonly inbound: InboundLimits;

  constructor(
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly admission: AdmissionService,
    private readonly scheduler: Scheduler,
    private readonly health: AccountHealthService,
    private readonly pool: AccountPool,
    private readonly refresher: CredentialRefreshService,
    private readonly http: UpstreamHttp,
    private readonly pricing: PricingService,
    private readonly recorder: UsageRecorder,
    private readonly config: ConfigService,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
  ) {
    this.accountLeases = new LeaseRenewer(config.env.LEASE_TTL_MS);
    this.inbound = new InboundLimits(config.env.RELAY_MAX_INFLIGHT_BODY_BYTES);
  }

  onApplicationShutdown(): void {
    this.accountLeases.clear();
  }

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
      beforeEnd: null,
      recorded: false,
    };
    // The client may leave at any moment, from its first byte on: while the key is checked,
    // during admission's round trip, before the upstream answers. Watched from here, so every
    // stage can tell, and the upstream request is aborted whenever it happens.
    const abort = new UpstreamAbort();
    const onClose = (): void => {
      if (res.writableFinished) return;
      state.clientGone = true;
      abort.abort();
    };
    if (res.destroyed) onClose();
    else res.once('close', onClose);
    let policy: ApiKeyPolicy | null = null;
    let admission: Admission | null = null;
    let stopRenewing: (() => void) | undefined;
    let slotKeyId: string | null = null;
    const held = { bytes: 0 };
    try {
      policy = await this.authenticate(call.dialect, req);
      if (state.clientGone) throw new ClientGoneError();
      // A key's concurrency limit, applied on this instance before its body is read: a key
      // can have no more bodies in memory here than it may have requests anywhere. The lease
      // taken at admission stays the authority across instances.
      const concurrency = policy.limits.concurrency;
      if (concurrency !== undefined) {
        if (!this.inbound.tryEnterKey(policy.id, concurrency))
          throw concurrencyRejection(concurrency);
        slotKeyId = policy.id;
      }
      const raw = await readBody(req, this.config.env.RELAY_MAX_BODY_BYTES, this.inbound, held);
      const maxDepth = this.config.env.RELAY_MAX_JSON_DEPTH;
      if (exceedsJsonDepth(raw, maxDepth)) {
        throw new RelayException(
          RelayExceptionCode.INVALID_REQUEST,
          `request body nests arrays or objects deeper than ${maxDepth} levels`,
        );
      }
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
      // Every call takes admission: count_tokens too counts against the key's request window
      // and concurrency. It reserves and bills no cost.
      const estimate = call.metered
        ? this.pricing.estimate(parsed.model, raw.length, parsed.maxTokens, policy.priceMultiplier)
        : 0;
      admission = await this.admission.admit(policy, {
        requestId: state.requestId,
        model: parsed.model,
        estimatedCostMicros: estimate,
        maxTokens: parsed.maxTokens,
        ...(touch !== null && { touch }),
      });
      stopRenewing = admission.startRenewing();
      if (call.metered) {
        const [admitted, keyPolicy] = [admission, policy];
        state.beforeEnd = async () => {
          this.finish(call, keyPolicy, admitted, state);
          await this.recorder.journaled();
        };
      }
      if (state.clientGone) throw new ClientGoneError();
      // Admitted: the body now counts against the key's limits, not the instance's burst budget.
      this.inbound.releaseBody(held.bytes);
      held.bytes = 0;
      if (admission.rateLimit !== null) {
        const { limit, remaining, resetAtMs } = admission.rateLimit;
        res.setHeader('x-ratelimit-limit', String(limit));
        res.setHeader('x-ratelimit-remaining', String(Math.max(0, remaining)));
        res.setHeader(
          'x-ratelimit-reset',
          String(Math.max(1, Math.ceil((resetAtMs - Date.now()) / 1000))),
        );
      }
      if (firstPick === undefined) {
        const touched = admission.touched;
        firstPick = this.scheduler.pick(
          pick,
          touched === undefined ? undefined : { value: touched },
        );
      }
      await this.forward(call, req, res, parsed, raw, state, pick, firstPick, abort);
    } catch (error) {
      if (error instanceof ClientGoneError || state.clientGone) {
        state.outcome = 'aborted';
        state.status ||= 499;
        state.errorCode ??= 'CLIENT_GONE';
      } else {
        const { status, code } = this.writeError(call.dialect, res, error);
        state.status = status;
        state.errorCode = code;
        state.outcome = 'error';
      }
    } finally {
      res.off('close', onClose);
      this.inbound.releaseBody(held.bytes);
      if (slotKeyId !== null) this.inbound.leaveKey(slotKeyId);
      stopRenewing?.();
      if (admission !== null && policy !== null) this.finish(call, policy, admission, state);
    }
  }

  /** Settles the admission to the actual cost and hands the usage event to the recorder. */
  private finish(
    call: RelayCall,
    policy: ApiKeyPolicy,
    admission: Admission,
    state: RequestState,
  ): void {
    if (state.recorded) return;
    state.recorded = true;
    if (!call.metered) {
      // count_tokens: its request counted against the window; it spends no tokens.
      void admission.release();
      return;
    }
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
    abort: UpstreamAbort,
  ): Promise<void> {
    const exclude = pick.exclude as Set<string>;
    let lastFailure: Failure = null;
    const refreshed = new Set<string>();
    for (let attempt = 0; attempt < this.config.env.RELAY_MAX_ATTEMPTS; attempt++) {
      const chosen = attempt === 0 ? await firstPick : await this.scheduler.pick(pick);
      if (state.clientGone) throw new ClientGoneError();
      if (!chosen.ok) throw await this.unavailable(pick, chosen, lastFailure);
      let account = chosen.account;
      exclude.add(account.id);
      state.accountId = account.id;
      state.model = chosen.upstreamModel;
      const releaseLease = await this.acquireAccountLease(account, state.requestId);
      if (releaseLease === false) continue;
      const endInFlight = this.scheduler.begin(account.id);
      try {
        if (state.clientGone) throw new ClientGoneError();
        const send = (target: RoutableAccount): Promise<Attempt> =>
          this.attempt(call, req, target, parsed, raw, chosen.upstreamModel, abort, state);
        let result = await send(account);
        if (
          result.kind === 'failover' &&
          result.outcome.kind === 'auth_failed' &&
          !refreshed.has(account.id)
        ) {
          // A 401 on an account whose type has a refresher gets one refresh and one retry.
          refreshed.add(account.id);
          const renewed = await this.refresher.refreshAfterAuthFailure(account);
          if (renewed !== null) {
            if (state.clientGone) throw new ClientGoneError();
            account = renewed;
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
          if (state.clientGone) throw new ClientGoneError();
          continue;
        }
        if (result.response.statusCode < 400)
          void this.recordHealth(account, { kind: 'success' }, chosen.upstreamModel);
        await this.respond(call, res, result, state, abort);
        return;
      } finally {
        endInFlight();
        releaseLease?.();
      }
    }
    if (state.clientGone) throw new ClientGoneError();
    throw await this.unavailable(
      pick,
      { ok: false, reason: 'unavailable', retryAtMs: null },
      lastFailure,
    );
  }

  /**
   * Why no account could serve: every one rate-limited (429, wait until the earliest reset); the
   * last attempt's transport fault (504 / 503 / 502); the upstream's own overload (529) or bad
   * status (502); else nothing capable is available (503). When the accounts tried so far were
   * excluded from the pick that came up empty, the pool is asked once more with none excluded,
   * so the answer (and its retry-after) reflects the state those failures left them in.
   */
  private async unavailable(
    pick: PickRequest,
    chosen: Extract<PickResult, { ok: false }>,
    last: Failure,
  ): Promise<RelayException> {
    let result = chosen;
    if (pick.exclude.size > 0 && (result.retryAtMs === null || result.reason !== 'rate_limited')) {
      const probe = await this.scheduler.pick({ ...pick, session: null, exclude: new Set() });
      if (!probe.ok) result = probe;
    }
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
      // An overloaded upstream: the client should come back once the account's cooldown ends,
      // and always hears when (SDKs honour retry-after on 529).
      return new RelayException(
        RelayExceptionCode.UPSTREAM_OVERLOADED,
        'upstream is overloaded',
        retryAt ?? Date.now() + Math.max(1000, this.config.env.ACCOUNT_COOLDOWN_OVERLOADED_MS),
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
      retryAt,
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
    const coordinator = this.coordinator;
    const lease: RenewableLease = {
      renew: () => coordinator.renewLease(key, requestId, ttlMs),
      logContext: { lease: 'account', accountId: account.id, requestId },
    };
    this.accountLeases.add(lease);
    return () => {
      this.accountLeases.delete(lease);
      coordinator
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
    // Counted as it leaves: a request-log row with attempts > 0 is one an upstream may have seen.
    state.attempts += 1;
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
    abort: UpstreamAbort,
  ): Promise<void> {
    const { response } = result;
    if (state.clientGone || res.destroyed) {
      response.body.destroy();
      throw new ClientGoneError();
    }
    const contentType = String(response.headers['content-type'] ?? '');
    const sse = contentType.includes('text/event-stream');
    // No content-length, even when the upstream sent one: with it, the client counts the response
    // complete at its last byte, which must not leave before the usage is journaled (below).
    const headers = forwardableResponseHeaders(response.headers, { keepContentLength: false });
    if (sse) {
      headers['cache-control'] = 'no-cache';
      headers['x-accel-buffering'] = 'no';
    }
    state.status = response.statusCode;
    res.writeHead(response.statusCode, headers);
    if (result.buffered !== undefined) {
      // An upstream 4xx about the client's own request: the body is the provider's error.
      state.ttfbMs = Date.now() - state.startedAt;
      state.outcome = 'error';
      state.errorCode = `UPSTREAM_${response.statusCode}`;
      state.usage = call.provider.usageFromBody(result.buffered);
      await state.beforeEnd?.();
      res.end(result.buffered);
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
      const end = await pump(
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
        this.config.env.RELAY_WRITE_STALL_TIMEOUT_MS,
      );
      if (end === 'stalled') {
        // The client stopped reading: cut both sides so neither holds a connection or a lease.
        state.clientGone = true;
        state.errorCode = 'CLIENT_WRITE_STALLED';
        appLogger.info(
          { requestId: state.requestId, accountId: state.accountId },
          'client stopped reading its response; cut after the write-stall timeout',
        );
        abort.abort();
        res.destroy();
      }
      if (end !== 'end' || state.clientGone) throw new ClientGoneError();
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
      state.usage = usageOf(call.provider, tap, kept);
      await state.beforeEnd?.();
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
      // Paths that ended early (client gone, upstream broke) record what was seen so far.
      if (!state.recorded) {
        state.usage = usageOf(call.provider, tap, kept);
      }
    }
  }
}

/** A response's usage: from the stream's tap, else from the kept (non-stream) body. */
function usageOf(provider: ProviderAdapter, tap: UsageTap | null, kept: Buffer[]): TokenUsage {
  if (tap !== null) return tap.usage;
  return provider.usageFromBody(kept.length === 1 ? kept[0] : Buffer.concat(kept));
}
