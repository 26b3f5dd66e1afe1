import { Injectable } from '@nestjs/common';
import { Registry, collectDefaultMetrics } from 'prom-client';
import {
  LocalCounter,
  LocalHistogram,
  type LocalCounterSeries,
  type LocalHistogramSeries,
} from './local-metrics';

type HttpLabel = 'method' | 'route' | 'status';

/** The process's Prometheus registry and the metrics every feature records into. */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequests = new LocalCounter({
    name: 'switchyard_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new LocalHistogram({
    name: 'switchyard_http_request_duration_seconds',
    help: 'HTTP request duration (until the response finished) by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'switchyard_' });
  }

  /**
   * The series of both HTTP metrics per method, route and status, resolved once, so a request
   * costs two plain additions (local-metrics.ts says why not prom-client's children). Routes
   * are the app's own patterns (or `unmatched`), so this stays as small as the metric's own
   * label sets.
   */
  private readonly httpChildren = new Map<
    string,
    { requests: LocalCounterSeries<HttpLabel>; duration: LocalHistogramSeries<HttpLabel> }
  >();

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const id = `${method} ${status} ${route}`;
    let children = this.httpChildren.get(id);
    if (children === undefined) {
      const labels = { method, route, status: String(status) };
      children = {
        requests: this.httpRequests.labels(labels),
        duration: this.httpDuration.labels(labels),
      };
      this.httpChildren.set(id, children);
    }
    children.requests.inc();
    children.duration.observe(seconds);
  }
}
