import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { NextFunction, Request, Response } from 'express';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { requestContextMiddleware } from 'src/common/http/request-context.middleware';
import { appLogger } from 'src/common/logging/app-logger';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { ALL_RELAY_ROUTES, MODEL_PARAM, type RelayRoute } from './relay.routes';
import { RelayService } from './relay.service';

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

interface FastRoute {
  route: RelayRoute;
  /** The request-context middleware (request id, metrics, access log) with the route's name. */
  context: (req: Request, res: Response, next: NextFunction) => void;
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** The key of a path whose last segment names a model: `/…/models/{model}:generateContent`. */
const MODEL_KEY = '{model}:';

/**
 * A request path's key among the model-naming routes: its last segment's model (before the last
 * colon) replaced by `{model}`; null when the segment has no model and method.
 */
export function modelPathKey(path: string): string | null {
  const slash = path.lastIndexOf('/');
  const colon = path.lastIndexOf(':');
  if (colon <= slash + 1 || colon === path.length - 1) return null;
  return `${path.slice(0, slash + 1)}${MODEL_KEY}${path.slice(colon + 1)}`;
}

/**
 * Serves the relay's POST routes straight from the HTTP server, ahead of Express and Nest's
 * router, which cost about a third of a relayed request's CPU and do nothing for these routes:
 * their access rule (`@ApiKeyAuth`) lets every request through to the relay, which checks the
 * key itself, and their handlers take the raw request and response. The request-context
 * middleware (request id, metrics, access log) runs here exactly as Express would run it.
 *
 * Only exact paths are served here (a query string is fine), and paths whose last segment is
 * `{model}:{method}` for the routes that name their model there (Gemini); any other spelling
 * Express would also accept (a trailing slash, other letter case) still reaches the controller,
 * which makes the same call. RelayService therefore only uses Node's own request and response
 * API.
 */
@Injectable()
export class RelayFastPath implements OnApplicationBootstrap {
  private readonly routes = new Map<string, FastRoute>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly relay: RelayService,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) return;
    const listeners = server.listeners('request') as RequestListener[];
    if (listeners.length !== 1) {
      appLogger.warn(
        { listeners: listeners.length },
        'relay fast path not installed: unexpected request listeners',
      );
      return;
    }
    const [framework] = listeners;
    for (const route of ALL_RELAY_ROUTES) {
      for (const path of route.paths) {
        const name = `/${path}`;
        const key = name.replace(MODEL_PARAM, MODEL_KEY);
        this.routes.set(key, { route, context: requestContextMiddleware(this.metrics, name) });
      }
    }
    server.removeListener('request', framework);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const fast = req.method === 'POST' ? this.lookup(pathOf(req.url)) : undefined;
      if (fast === undefined) {
        framework.call(server, req, res);
        return;
      }
      // Express's Request and Response extend these; the relay uses only Node's API of them.
      const request = req as Request;
      const response = res as Response;
      fast.context(request, response, () => this.serve(fast.route, request, response));
    });
  }

  private lookup(path: string): FastRoute | undefined {
    const exact = this.routes.get(path);
    if (exact !== undefined) return exact;
    const key = modelPathKey(path);
    return key === null ? undefined : this.routes.get(key);
  }

  private serve(route: RelayRoute, req: Request, res: Response): void {
    this.relay.relay(route, req, res).catch((error: unknown) => {
      // relay() answers its own errors; this is the last resort Nest's exception layer would be.
      this.relay.writeError(route.dialect, res, error);
      if (!res.writableEnded) res.end();
    });
  }
}
