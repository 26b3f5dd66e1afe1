import { Injectable } from '@nestjs/common';
import { trace, type Tracer } from '@opentelemetry/api';
import { ConfigService } from 'src/config/config.service';
import { TRACER_NAME } from 'src/infra/tracing/tracing';
import type { RelayContext } from 'src/modules/relay/pipeline/relay-context';
import { MODEL_PARAM, type RelayRoute } from 'src/modules/relay/relay.routes';
import { RelayTrace } from './relay-trace';

/** One path of a route as `http.route` names it: `/gemini/v1beta/models/{model}:generateContent`. */
interface PathTemplate {
  template: string;
  /** For a path that names its model: what comes before and after the model segment. */
  prefix: string;
  suffix: string | null;
}

const MODEL_TEMPLATE = '{model}:';

/**
 * Starts a relayed request's trace when OTEL_TRACES_ENABLED is set. The relay asks `enabled` (a
 * boolean read once) before anything else, so with tracing off no span, context or attribute
 * object is made per request.
 */
@Injectable()
export class RelayTracer {
  readonly enabled: boolean;
  private readonly tracer: Tracer | null;
  private readonly templates = new Map<RelayRoute, PathTemplate[]>();

  constructor(config: ConfigService) {
    this.enabled = config.env.OTEL_TRACES_ENABLED;
    // The global tracer provider the SDK registered at start (src/infra/tracing); a no-op one
    // when the SDK did not start.
    this.tracer = this.enabled ? trace.getTracer(TRACER_NAME) : null;
  }

  begin(ctx: RelayContext): RelayTrace | null {
    if (this.tracer === null) return null;
    // Express rewrites `url` below a mount point; the fast path's requests have only `url`.
    const url = (ctx.req as { originalUrl?: string }).originalUrl ?? ctx.req.url ?? '';
    return new RelayTrace(this.tracer, ctx, this.httpRoute(ctx.route, url));
  }

  /** The route's path the request came in on, as a template (the model is not in it). */
  httpRoute(route: RelayRoute, url: string): string {
    let templates = this.templates.get(route);
    if (templates === undefined) {
      templates = route.paths.map((path) => {
        const template = `/${path.replace(MODEL_PARAM, MODEL_TEMPLATE)}`;
        const at = template.indexOf(MODEL_TEMPLATE);
        return at === -1
          ? { template, prefix: template, suffix: null }
          : {
              template,
              prefix: template.slice(0, at),
              suffix: template.slice(at + MODEL_TEMPLATE.length - 1),
            };
      });
      this.templates.set(route, templates);
    }
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    for (const { template, prefix, suffix } of templates) {
      if (suffix === null ? path === prefix : isModelPath(path, prefix, suffix)) return template;
    }
    return templates[0]?.template ?? 'unmatched';
  }
}

function isModelPath(path: string, prefix: string, suffix: string): boolean {
  if (!path.startsWith(prefix) || !path.endsWith(suffix)) return false;
  const model = path.slice(prefix.length, path.length - suffix.length);
  return model.length > 0 && !model.includes('/');
}
