import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { appLogger } from 'src/common/logging/app-logger';
import { currentRequestId } from 'src/common/logging/request-context';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { CoordinationException } from 'src/infra/coordination/coordination.exception';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { InboundLimits } from './inbound-limits';
import { RelayActivity } from './relay-activity';
import { AdmitStage } from './pipeline/admit.stage';
import { AttemptLoopStage } from './pipeline/attempt-loop.stage';
import { AuthenticateStage } from './pipeline/authenticate.stage';
import { ReadBodyStage } from './pipeline/read-body.stage';
import { ClientGoneError, RelayContext } from './pipeline/relay-context';
import { RouteStage } from './pipeline/route.stage';
import { SettleStage } from './pipeline/settle.stage';
import { isRelayKnownError, toRelayErrorView } from './relay-errors';
import { RelayTracer } from './tracing/relay-tracer';
import type { RelayRoute } from './relay.routes';
import type { InboundDialect } from './relay.types';

/**
 * The relay pipeline, stage by stage (each in its own file under pipeline/, sharing one
 * RelayContext): authenticate → read and parse → route → admit → attempt loop (reserve, send,
 * fail over; respond) → settle. Errors before the first byte are answered in the dialect's shape.
 */
@Injectable()
export class RelayService {
  constructor(
    private readonly authenticateStage: AuthenticateStage,
    private readonly readBody: ReadBodyStage,
    private readonly routeStage: RouteStage,
    private readonly admit: AdmitStage,
    private readonly attempts: AttemptLoopStage,
    private readonly settle: SettleStage,
    /** Per-instance limits applied before a body is read: body-byte budget, key concurrency. */
    readonly inbound: InboundLimits,
    /** Requests and streams in flight on this instance (the admin API's live view, gauges). */
    private readonly activity: RelayActivity,
    private readonly tracer: RelayTracer,
  ) {}

  /** Authenticates the caller's key (for routes outside the pipeline: models, usage). */
  authenticate(dialect: InboundDialect, req: Request): Promise<ApiKeyPolicy> {
    return this.authenticateStage.authenticate(dialect, req);
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
    const rendered = dialect.renderError(view);
    if (!res.headersSent && !res.destroyed) {
      res.writeHead(rendered.status, rendered.headers);
      res.end(rendered.body);
    }
    return { status: rendered.status, code: view.code };
  }

  async relay(route: RelayRoute, req: Request, res: Response): Promise<void> {
    const ctx = new RelayContext(route, req, res, currentRequestId() ?? timeOrderedId());
    if (this.tracer.enabled) ctx.trace = this.tracer.begin(ctx);
    // The client may leave at any moment, from its first byte on: while the key is checked,
    // during admission's round trip, before the upstream answers. Watched from here, so every
    // stage can tell, and the upstream request is aborted whenever it happens.
    const onClose = (): void => {
      if (res.writableFinished) return;
      ctx.clientGone = true;
      ctx.abort.abort();
    };
    if (res.destroyed) onClose();
    else res.once('close', onClose);
    this.activity.enter();
    let streamed = false;
    try {
      ctx.trace?.begin('authenticate');
      await this.authenticateStage.run(ctx);
      ctx.trace?.end();
      await this.readBody.run(ctx);
      if (ctx.stream) {
        streamed = true;
        this.activity.enterStream();
      }
      this.routeStage.run(ctx);
      ctx.trace?.begin('admit');
      await this.admit.run(ctx);
      ctx.trace?.end();
      await this.attempts.run(ctx);
    } catch (error) {
      if (error instanceof ClientGoneError || ctx.clientGone) {
        ctx.outcome = 'aborted';
        ctx.status ||= 499;
        ctx.errorCode ??= 'CLIENT_GONE';
      } else {
        const { status, code } = this.writeError(route.dialect, res, error);
        ctx.status = status;
        ctx.errorCode = code;
        ctx.outcome = 'error';
      }
    } finally {
      this.activity.leave(streamed);
      res.off('close', onClose);
      this.settle.finish(ctx);
      ctx.trace?.finish(ctx);
    }
  }
}
