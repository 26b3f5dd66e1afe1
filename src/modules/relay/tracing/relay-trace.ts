import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { UpstreamRequest } from 'src/infra/http/upstream-http.service';
import type { ProviderId } from 'src/modules/accounts/types/account-type.descriptor';
import { promptTokens } from 'src/modules/usage/pricing/token-usage';
import type { RelayContext } from 'src/modules/relay/pipeline/relay-context';
import { ATTR, PROVIDER_TELEMETRY } from './trace-attributes';

/** W3C trace context only (no baggage: nothing a client puts there is carried further). */
const PROPAGATOR = new W3CTraceContextPropagator();

/** The stage spans the relay opens one at a time, each a child of the request's span. */
export type StageSpan = 'authenticate' | 'admit' | 'pick';

/**
 * The spans of one relayed request (made only when tracing is on; the stages reach it through
 * `ctx.trace?.…`, which costs nothing when it is null):
 *
 * ```
 * POST /v1/messages (server)             the request, continuing the client's traceparent
 *   authenticate                         the key check
 *   admit                                admission's round trip
 *   pick                                 Scheduler.reserve, once per attempt
 *   upstream (client)                    one per upstream call; a failed one says why
 *     stream                             the chosen response's body to the client
 * ```
 *
 * Ids only (request, key, account), never a secret, a prompt or a response.
 */
export class RelayTrace {
  private readonly root: Span;
  private readonly rootContext: Context;
  private stage: Span | null = null;
  private upstream: Span | null = null;
  private upstreamContext: Context | null = null;
  private body: Span | null = null;
  private attempt = 0;

  constructor(
    private readonly tracer: Tracer,
    ctx: RelayContext,
    httpRoute: string,
  ) {
    const method = ctx.req.method ?? 'POST';
    const parent = PROPAGATOR.extract(ROOT_CONTEXT, ctx.req.headers, defaultTextMapGetter);
    const attributes: Attributes = {
      [ATTR.httpMethod]: method,
      [ATTR.httpRoute]: httpRoute,
      [ATTR.route]: ctx.route.name,
      [ATTR.requestId]: ctx.requestId,
    };
    if (ctx.route.operation === 'generate') attributes[ATTR.genAiOperation] = 'chat';
    this.root = tracer.startSpan(
      `${method} ${httpRoute}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
    );
    this.rootContext = trace.setSpan(parent, this.root);
  }

  /** Opens a stage's span (closing one still open). */
  begin(name: StageSpan): void {
    this.stage?.end();
    this.stage = this.tracer.startSpan(name, undefined, this.rootContext);
  }

  /** Closes the open stage span. */
  end(): void {
    this.stage?.end();
    this.stage = null;
  }

  /** Closes the pick span: the account reserved, or why none was. */
  picked(accountId: string | null, refusal: string | null): void {
    const span = this.stage;
    if (span === null) return;
    if (accountId !== null) span.setAttribute(ATTR.accountId, accountId);
    if (refusal !== null) {
      span.setAttribute(ATTR.pickResult, refusal);
      span.setStatus({ code: SpanStatusCode.ERROR, message: refusal });
    }
    this.end();
  }

  /**
   * Opens the span of one upstream call, right before it is sent, and names it in the request's
   * `traceparent` when the provider takes one (a copy of the headers: a provider may share them).
   */
  send(request: UpstreamRequest, provider: ProviderId, accountId: string, model: string): void {
    this.end();
    this.closeUpstream();
    this.attempt += 1;
    const telemetry = PROVIDER_TELEMETRY[provider];
    const attributes: Attributes = {
      [ATTR.attempt]: this.attempt,
      [ATTR.accountId]: accountId,
      [ATTR.genAiProvider]: telemetry.genAi,
      [ATTR.genAiSystem]: telemetry.genAi,
      [ATTR.genAiRequestModel]: model,
      [ATTR.httpMethod]: request.method,
    };
    const origin = serverOf(request.url);
    if (origin !== null) {
      attributes[ATTR.serverAddress] = origin.host;
      attributes[ATTR.serverPort] = origin.port;
    }
    const span = this.tracer.startSpan(
      'upstream',
      { kind: SpanKind.CLIENT, attributes },
      this.rootContext,
    );
    this.upstream = span;
    this.upstreamContext = trace.setSpan(this.rootContext, span);
    if (telemetry.traceContext) {
      const headers = { ...request.headers };
      PROPAGATOR.inject(this.upstreamContext, headers, defaultTextMapSetter);
      request.headers = headers;
    }
  }

  /**
   * What the upstream answered: a status (kept open while its body is relayed), or a failover
   * with its reason and transport fault, which closes the span as failed.
   */
  answered(status: number | null, failover: { reason: string; fault: string | null } | null): void {
    const span = this.upstream;
    if (span === null) return;
    if (status !== null) span.setAttribute(ATTR.httpStatus, status);
    if (failover === null) {
      // A 4xx about the client's own request, relayed as it came: failed, from this side.
      if (status !== null && status >= 400) {
        span.setAttribute(ATTR.errorType, String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      return;
    }
    span.setAttribute(ATTR.failoverReason, failover.reason);
    const errorType = failover.fault ?? (status === null ? failover.reason : String(status));
    span.setAttribute(ATTR.errorType, errorType);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failover.reason });
    this.closeUpstream();
  }

  /** Opens the span of the response's body on its way to the client. */
  streaming(): void {
    this.body?.end();
    this.body = this.tracer.startSpan(
      'stream',
      undefined,
      this.upstreamContext ?? this.rootContext,
    );
  }

  /** The request is over: the facts of its usage event go on its spans, which all close. */
  finish(ctx: RelayContext): void {
    const failed = ctx.outcome === 'truncated' || ctx.status >= 500;
    const errorType = ctx.outcome === 'ok' ? null : (ctx.errorCode ?? ctx.outcome);
    if (this.stage !== null) {
      if (errorType !== null) this.stage.setAttribute(ATTR.errorType, errorType);
      if (failed || ctx.outcome === 'aborted') this.stage.setStatus({ code: SpanStatusCode.ERROR });
      this.end();
    }
    // Token counts once an upstream was called (what its response said, or nothing).
    const usage = ctx.attempts > 0 ? usageAttributes(ctx) : {};
    if (this.body !== null) {
      this.body.setAttribute(ATTR.outcome, ctx.outcome);
      if (ctx.ttfbMs !== null) this.body.setAttribute(ATTR.ttfbMs, ctx.ttfbMs);
      if (ctx.outcome === 'truncated') this.body.setStatus({ code: SpanStatusCode.ERROR });
      this.body.end();
      this.body = null;
    }
    if (this.upstream !== null) {
      this.upstream.setAttributes(usage);
      if (ctx.accountId !== null) this.upstream.setAttribute(ATTR.genAiResponseModel, ctx.model);
      if (ctx.outcome === 'truncated') this.upstream.setStatus({ code: SpanStatusCode.ERROR });
      this.closeUpstream();
    }
    const root = this.root;
    root.setAttributes(usage);
    root.setAttribute(ATTR.httpStatus, ctx.status || ctx.res.statusCode);
    root.setAttribute(ATTR.outcome, ctx.outcome);
    root.setAttribute(ATTR.attempts, ctx.attempts);
    root.setAttribute(ATTR.platform, ctx.platform);
    root.setAttribute(ATTR.stream, ctx.stream);
    if (ctx.policy !== null) root.setAttribute(ATTR.apiKeyId, ctx.policy.id);
    if (ctx.parsed !== null) root.setAttribute(ATTR.genAiRequestModel, ctx.parsed.model);
    if (ctx.accountId !== null) {
      root.setAttribute(ATTR.accountId, ctx.accountId);
      root.setAttribute(ATTR.genAiResponseModel, ctx.model);
    }
    if (errorType !== null) root.setAttribute(ATTR.errorType, errorType);
    if (failed) root.setStatus({ code: SpanStatusCode.ERROR, message: errorType ?? undefined });
    root.end();
  }

  private closeUpstream(): void {
    this.upstream?.end();
    this.upstream = null;
  }
}

function usageAttributes(ctx: RelayContext): Attributes {
  const { usage } = ctx;
  return {
    [ATTR.genAiInputTokens]: promptTokens(usage),
    [ATTR.genAiOutputTokens]: usage.outputTokens,
    [ATTR.genAiCacheReadTokens]: usage.cacheReadTokens,
    [ATTR.genAiCacheCreationTokens]: usage.cacheCreation5mTokens + usage.cacheCreation1hTokens,
  };
}

/** The upstream's host and port, for `server.address` / `server.port`. */
function serverOf(url: string): { host: string; port: number } | null {
  try {
    const parsed = new URL(url);
    const port =
      parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
    return { host: parsed.hostname, port };
  } catch {
    return null;
  }
}
