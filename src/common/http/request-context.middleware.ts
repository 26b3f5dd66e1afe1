import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import type { NextFunction, Request, Response } from 'express';
import { logAccess } from 'src/common/logging/app-logger';
import { requestContext } from 'src/common/logging/request-context';
import type { MetricsService } from 'src/modules/metrics/metrics.service';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives every request a fresh id, echoes it in `x-request-id`, runs the
 * request inside a log context, and on finish records metrics and one access-log line.
 *
 * `route` names the route in metrics and the log when the caller already knows it (the relay's
 * fast path, which serves its routes before Express has matched any); else Express's match.
 */
export function requestContextMiddleware(metrics: MetricsService, route?: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    // Our own id keys leases and the request log, so a caller can never make two requests share
    // one; the caller's id (when well-formed) is kept beside it in the log for correlation.
    const requestId = timeOrderedId();
    const incoming = req.headers['x-request-id'];
    const clientRequestId =
      typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : undefined;
    res.setHeader('x-request-id', requestId);
    const started = process.hrtime.bigint();
    const done = (): void => {
      res.removeListener('finish', done);
      res.removeListener('close', done);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const name = route ?? routeOf(req);
      metrics.observeHttp(req.method, name, res.statusCode, seconds);
      logAccess({
        requestId,
        method: req.method,
        route: name,
        status: res.statusCode,
        ms: Math.round(seconds * 1000),
        aborted: !res.writableFinished,
        clientRequestId,
      });
    };
    res.on('finish', done);
    res.on('close', done);
    requestContext.run({ requestId }, next);
  };
}

function routeOf(req: Request): string {
  const route = (req.route as { path?: unknown } | undefined)?.path;
  return typeof route === 'string' ? `${req.baseUrl}${route}` : 'unmatched';
}
