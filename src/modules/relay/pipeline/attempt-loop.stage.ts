import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { HttpTrafficLogger, type TrafficExchange } from 'src/infra/http/http-traffic-logger';
import { inboundSecretValues, secretValuesOf } from 'src/infra/http/http-traffic-redaction';
import {
  transportFaultOf,
  UpstreamHttp,
  type TransportFault,
  type UpstreamResponse,
} from 'src/infra/http/upstream-http.service';
import { BackgroundNotifier } from 'src/infra/outbox/background-notifier';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { RoutableAccount, UpstreamOutcome } from 'src/modules/accounts/account.types';
import {
  Scheduler,
  type PickRequest,
  type Reservation,
  type ReserveResult,
} from 'src/modules/scheduler/scheduler.service';
import { RelayMetrics } from 'src/modules/metrics/relay-metrics';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import type { Conversion } from 'src/modules/relay/converters/converter';
import type { WireFormat } from 'src/modules/relay/wire-format';
import { ConverterRegistry } from 'src/modules/relay/converters/converter.registry';
import { ProviderRegistry } from 'src/modules/relay/providers/provider.registry';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { PassthroughAdjustment, ProviderAdapter } from 'src/modules/relay/relay.types';
import { readLimited } from './pump';
import { ClientGoneError, type RelayContext } from './relay-context';
import { RespondStage, type ChosenResponse } from './respond.stage';
import { faultException, faultOutcome } from './upstream-faults';

/** Upstream error bodies read for classification; larger ones are cut (they are never forwarded). */
const MAX_ERROR_BODY = 64 * 1024;
/** `platform.no_routable_account` is raised at most once per platform in this long. */
export const NO_ROUTABLE_ACCOUNT_BUCKET_MS = 5 * 60_000;

/** Refreshes an account's credentials once after the upstream refused them. */
export interface CredentialRefresh {
  /** The account with fresh credentials, or null (no refresher for its type, or refresh failed). */
  refreshAfterAuthFailure(account: RoutableAccount): Promise<RoutableAccount | null>;
}

export const CREDENTIAL_REFRESH = Symbol('CREDENTIAL_REFRESH');

/**
 * The provider format an attempt speaks, and the conversion to it (null: none needed); without
 * a conversion, the provider's adjustment of the client's request, if it needs one.
 */
export interface Leg {
  format: WireFormat;
  conversion: Conversion | null;
  passthrough?: PassthroughAdjustment | null;
}

type Attempt =
  | ({ kind: 'response' } & ChosenResponse)
  | {
      kind: 'failover';
      outcome: UpstreamOutcome;
      fault: TransportFault | null;
      status: number | null;
      /** The refusing response's headers; null when no response came (a transport fault). */
      headers: UpstreamResponse['headers'] | null;
    };

/** The last failed attempt: a transport fault, or the upstream status that caused failover. */
type Failure = {
  fault: TransportFault | null;
  status: number | null;
  outcome: UpstreamOutcome;
} | null;

/**
 * Stage 5: reserve an account, send, and fail over before the first byte. Each attempt resolves
 * the provider from the reserved account's type and converts the request when the client's
 * format is not the provider's. A 429/529/5xx, a transport fault or a timeout is reported to the
 * scheduler and another account is reserved (at most the `relayMaxAttempts` setting); a 401 first earns one
 * credential refresh and one retry on the same account; any other upstream 4xx is the client's
 * and goes to it.
 */
@Injectable()
export class AttemptLoopStage {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly providers: ProviderRegistry,
    private readonly converters: ConverterRegistry,
    private readonly http: UpstreamHttp,
    @Inject(CREDENTIAL_REFRESH) private readonly refresher: CredentialRefresh,
    private readonly respond: RespondStage,
    private readonly settings: RuntimeSettings,
    private readonly traffic: HttpTrafficLogger,
    private readonly metrics: RelayMetrics,
    /** Raises `platform.no_routable_account` (absent in unit-built pipelines). */
    @Optional() notifications?: NotificationOutbox,
  ) {
    this.notifier = new BackgroundNotifier(notifications);
  }

  private readonly notifier: BackgroundNotifier;

  async run(ctx: RelayContext): Promise<void> {
    const pick = ctx.pick as PickRequest & { exclude: Set<string> };
    let lastFailure: Failure = null;
    const refreshed = new Set<string>();
    const legs = new Map<string, Leg>();
    // Read once per request (a runtime setting: a change applies from the next request on).
    const maxAttempts = this.settings.get('relayMaxAttempts');
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      ctx.trace?.begin('pick');
      const reserved = await this.scheduler.reserve(
        pick,
        ctx.requestId,
        attempt === 0 ? (ctx.firstPick ?? undefined) : undefined,
      );
      ctx.trace?.picked(
        reserved.ok ? reserved.reservation.account.id : null,
        reserved.ok ? null : reserved.reason,
      );
      if (!reserved.ok) {
        ctx.checkClient();
        throw await this.unavailable(pick, reserved, lastFailure);
      }
      const { reservation } = reserved;
      try {
        ctx.checkClient();
        let account = reservation.account;
        ctx.accountId = account.id;
        ctx.model = reservation.upstreamModel;
        const provider = this.providers.forAccount(account);
        const bodyModel = provider.bodyModel?.(account, ctx.model) ?? ctx.model;
        const leg = this.leg(ctx, provider, account, bodyModel, legs);
        let result = this.observed(
          ctx,
          reservation,
          await this.attempt(ctx, provider, account, leg),
        );
        if (
          result.kind === 'failover' &&
          result.outcome.kind === 'auth_failed' &&
          !refreshed.has(account.id)
        ) {
          refreshed.add(account.id);
          const fresh = await this.refresher.refreshAfterAuthFailure(account);
          ctx.checkClient();
          if (fresh !== null) {
            account = fresh;
            result = this.observed(
              ctx,
              reservation,
              await this.attempt(ctx, provider, account, leg),
            );
          }
        }
        if (result.kind === 'failover') {
          lastFailure = { fault: result.fault, status: result.status, outcome: result.outcome };
          this.metrics.failover(ctx, result.outcome.kind);
          await this.scheduler.report(reservation, result.outcome);
          appLogger.warn(
            {
              accountId: account.id,
              outcome: result.outcome.kind,
              status: result.status,
              attempt: attempt + 1,
            },
            'upstream attempt failed; failing over',
          );
          ctx.checkClient();
          continue;
        }
        if (result.response.statusCode < 400)
          void this.scheduler.report(reservation, { kind: 'success' });
        await this.respond.run(ctx, provider, leg, result);
        return;
      } finally {
        reservation.release();
      }
    }
    ctx.checkClient();
    throw await this.unavailable(
      pick,
      { ok: false, reason: 'unavailable', retryAtMs: null },
      lastFailure,
    );
  }

  /**
   * Lets the scheduler read what every upstream response says of the account (usage windows),
   * the refused ones too: a usage-limit 429 reports the window that ran out.
   */
  private observed(ctx: RelayContext, reservation: Reservation, result: Attempt): Attempt {
    ctx.trace?.answered(
      result.kind === 'response' ? result.response.statusCode : result.status,
      result.kind === 'response' ? null : { reason: result.outcome.kind, fault: result.fault },
    );
    const headers = result.kind === 'response' ? result.response.headers : result.headers;
    if (headers !== null) this.scheduler.observe(reservation, headers);
    return result;
  }

  /**
   * The request in the provider's format for this model (as the body names it): the client's
   * own format when the provider speaks it (conversion null: the client's bytes go as they are,
   * unless the provider adjusts them), else the converter's; planned once per provider and
   * model (and account, for a provider whose servers differ per account).
   */
  private leg(
    ctx: RelayContext,
    provider: ProviderAdapter,
    account: RoutableAccount,
    upstreamModel: string,
    made: Map<string, Leg>,
  ): Leg {
    const upstream = provider.upstreamOptions?.(account);
    const key =
      upstream === undefined
        ? `${provider.id}:${upstreamModel}`
        : `${provider.id}:${account.id}:${upstreamModel}`;
    const known = made.get(key);
    if (known !== undefined) return known;
    const plan = this.converters.plan(ctx.dialect.format, provider.formats);
    const parsed = ctx.request;
    const leg: Leg = {
      format: plan.format,
      passthrough:
        plan.converter === null
          ? (provider.passthrough?.(plan.format, parsed.body, parsed.stream, account) ?? null)
          : null,
      conversion:
        plan.converter === null
          ? null
          : plan.converter.convert({
              body: parsed.body,
              upstreamModel,
              requestedModel: parsed.model,
              stream: parsed.stream,
              ...(parsed.streamFraming === undefined
                ? {}
                : { streamFraming: parsed.streamFraming }),
              operation: ctx.route.operation,
              requestId: ctx.requestId,
              ...(upstream === undefined ? {} : { upstream }),
            }),
    };
    made.set(key, leg);
    return leg;
  }

  /** One upstream call; resolves to a response to relay or to a failover verdict. */
  private async attempt(
    ctx: RelayContext,
    provider: ProviderAdapter,
    account: RoutableAccount,
    leg: Leg,
  ): Promise<Attempt> {
    const { conversion, format } = leg;
    const parsed = ctx.request;
    const model = ctx.model;
    // A copy: the client's query is appended below, and a provider may hand out shared objects.
    const endpoint = {
      ...provider.endpoint(account, format, ctx.route.operation, model, parsed.stream),
    };
    let body: Buffer;
    if (conversion !== null) {
      body = conversion.body;
    } else {
      // Bytes pass through unchanged unless the model is renamed (an alias, an account mapping,
      // the name the provider's body wants) in a body that names it, or the provider adjusts the
      // request.
      const bodyModel = provider.bodyModel?.(account, model) ?? model;
      const adjusted = leg.passthrough?.body;
      body =
        (bodyModel === parsed.model || parsed.modelInPath === true) && adjusted === undefined
          ? ctx.raw
          : Buffer.from(JSON.stringify({ ...(adjusted ?? parsed.body), model: bodyModel }));
      // The client's query string travels too (Claude Code sends `?beta=true`).
      const url = ctx.req.url;
      const query = url.indexOf('?');
      const clientQuery = query === -1 ? '' : url.slice(query + 1);
      if (ctx.dialect.passthroughQuery !== undefined) {
        endpoint.query = ctx.dialect.passthroughQuery(clientQuery, endpoint.query);
      } else if (clientQuery !== '') {
        endpoint.query = endpoint.query === '' ? clientQuery : `${endpoint.query}&${clientQuery}`;
      }
    }
    const request = await provider.buildRequest(account, {
      format,
      endpoint,
      headers: ctx.req.headers,
      body,
      model,
    });
    ctx.checkClient();
    request.signal = ctx.abort;
    ctx.trace?.send(request, provider.id, account.id, model);
    // Counted as it leaves: a request-log row with attempts > 0 is one an upstream may have seen.
    ctx.attempts += 1;
    // DEBUG_HTTP_TRAFFIC: one boolean when off.
    const trace = this.traffic.enabled ? this.traceOf(ctx, account, request) : null;
    let response: UpstreamResponse;
    const sentAt = performance.now();
    try {
      response = await this.http.send(request);
    } catch (error) {
      trace?.failed(error);
      if (ctx.clientGone) throw new ClientGoneError();
      const fault = transportFaultOf(error);
      if (fault === null) throw error;
      return {
        kind: 'failover',
        outcome: faultOutcome(fault, error),
        fault,
        status: null,
        headers: null,
      };
    }
    this.metrics.upstreamAnswered(ctx, sentAt);
    // Tapped before any adaptation: the log shows the upstream's own bytes.
    if (trace !== null) response = trace.response(response);
    if (provider.adaptResponse !== undefined)
      response = provider.adaptResponse(format, ctx.route.operation, response);
    if (response.statusCode < 400) return { kind: 'response', response };
    let bytes: Buffer;
    try {
      bytes = await readLimited(response.body, MAX_ERROR_BODY);
    } catch (error) {
      if (ctx.clientGone) throw new ClientGoneError();
      const fault = transportFaultOf(error) ?? 'reset';
      return {
        kind: 'failover',
        outcome: faultOutcome(fault, error),
        fault,
        status: response.statusCode,
        headers: response.headers,
      };
    }
    const outcome = provider.classifyFailure(
      account,
      response.statusCode,
      response.headers,
      bytes.toString('utf8'),
    );
    if (outcome === null) return { kind: 'response', response, buffered: bytes };
    return {
      kind: 'failover',
      outcome,
      fault: null,
      status: response.statusCode,
      headers: response.headers,
    };
  }

  /** The traffic log of this attempt when its key or account is traced, else null. */
  private traceOf(
    ctx: RelayContext,
    account: RoutableAccount,
    request: Parameters<UpstreamHttp['send']>[0],
  ): TrafficExchange | null {
    if (!this.traffic.wants(ctx.key.id, account.id)) return null;
    const secrets = [
      ...secretValuesOf(account.credentials, account.proxyUrl),
      ...inboundSecretValues(ctx.req.headers, ctx.req.url),
    ].sort((a, b) => b.length - a.length);
    return this.traffic.begin(
      { keyId: ctx.key.id, accountId: account.id, requestId: ctx.requestId },
      request,
      secrets,
    );
  }

  /**
   * Why no account could serve: every one rate-limited (429, wait until the earliest reset); the
   * last attempt's transport fault (504 / 503 / 502); the upstream's own overload or bad status;
   * else nothing capable is available (503). When the accounts tried so far were excluded from
   * the pick that came up empty, the pool is asked once more with none excluded, so the answer
   * (and its retry-after) reflects the state those failures left them in.
   */
  private async unavailable(
    pick: PickRequest,
    chosen: Extract<ReserveResult, { ok: false }>,
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
    if (last?.outcome.kind === 'overloaded') {
      // An overloaded upstream: the client should come back once the account's cooldown ends,
      // and always hears when (SDKs honour retry-after on an overload).
      return new RelayException(
        RelayExceptionCode.UPSTREAM_OVERLOADED,
        'upstream is overloaded',
        retryAt ?? Date.now() + Math.max(1000, this.settings.get('accountCooldownOverloadedMs')),
      );
    }
    if (last?.status != null && last.status >= 500) {
      return new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        `upstream failed (${last.status})`,
        retryAt,
      );
    }
    // A key's dedicated account being unavailable is that key's affair, not the platform's.
    if (result.reason === 'unavailable') void this.notifyNoRoutableAccount(pick);
    return new RelayException(
      RelayExceptionCode.NO_ACCOUNT_AVAILABLE,
      result.reason === 'binding_unavailable'
        ? 'the account dedicated to this key cannot serve the request now'
        : 'no upstream account is available for this model',
      retryAt,
    );
  }

  /**
   * `platform.no_routable_account`, at most once per platform and five-minute bucket (the
   * bucket is in the dedupe key): every request to the platform is refused meanwhile, and one
   * notice is what a person acts on. Off the hot path: the answer never waits for the write.
   */
  private notifyNoRoutableAccount(pick: PickRequest): Promise<void> {
    const now = Date.now();
    const bucket = Math.floor(now / NO_ROUTABLE_ACCOUNT_BUCKET_MS);
    return this.notifier.emit({
      type: 'platform.no_routable_account',
      dedupeKey: `platform.no_routable_account:${pick.platform}:${bucket}`,
      at: now,
      severity: 'critical',
      title: `No routable ${pick.platform} account`,
      message:
        `Requests for ${pick.platform} are answered 503: no enabled, healthy account can serve ` +
        `them (first seen for model ${pick.model}). Check the accounts of this platform: their ` +
        'status, schedulable flag, model list and group.',
      subject: { kind: 'platform', id: pick.platform, name: pick.platform },
      data: {
        platform: pick.platform,
        model: pick.model.slice(0, 200),
        bucketStart: new Date(bucket * NO_ROUTABLE_ACCOUNT_BUCKET_MS).toISOString(),
      },
    });
  }
}
