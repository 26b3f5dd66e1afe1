import {
  context,
  diag,
  DiagLogLevel,
  propagation,
  trace,
  type DiagLogger,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetector, hostDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import {
  ATTR_SERVICE_INSTANCE_ID,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
} from '@opentelemetry/semantic-conventions';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import type { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';

/** The instrumentation scope of every span Switchyard makes. */
export const TRACER_NAME = 'switchyard';

/** How long shutdown waits for the last spans to reach the collector. */
const FLUSH_TIMEOUT_MS = 5000;

export interface TracingOptions {
  /**
   * Span processors used instead of the OTLP exporter (tests hand an in-memory exporter here;
   * nothing else in the application differs).
   */
  spanProcessors?: SpanProcessor[];
}

/** A started OpenTelemetry SDK. */
export interface Tracing {
  /** Exports the spans still buffered (bounded wait) and unregisters the SDK. */
  shutdown(): Promise<void>;
}

/** Where spans are posted: the traces endpoint as given, else `<endpoint>/v1/traces`. */
export function otlpTracesUrl(
  env: Pick<
    EnvironmentSchema,
    'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'
  >,
): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined)
    return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** `key=value,key2=value2` (values may be percent-encoded, as the OTLP spec allows). */
export function parseOtlpHeaders(text: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (text === undefined) return headers;
  for (const pair of text.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const value = pair.slice(eq + 1).trim();
    let decoded = value;
    try {
      decoded = decodeURIComponent(value);
    } catch {
      // Not percent-encoded after all: taken as written.
    }
    headers[pair.slice(0, eq).trim().toLowerCase()] = decoded;
  }
  return headers;
}

/**
 * Starts the OpenTelemetry SDK when OTEL_TRACES_ENABLED is set, before Nest builds the
 * application; null (and nothing started) otherwise. Traces only: no metrics or log exporters
 * (Prometheus serves metrics), no auto-instrumentation (the relay makes its spans itself, see
 * docs/decisions.md), a parent-based ratio sampler, spans batched to OTLP/HTTP.
 */
export function startTracing(config: ConfigService, options: TracingOptions = {}): Tracing | null {
  const { env } = config;
  if (!env.OTEL_TRACES_ENABLED) return null;
  diag.setLogger(diagToAppLogger(), DiagLogLevel.WARN);
  const url = otlpTracesUrl(env);
  const spanProcessors = options.spanProcessors ?? [
    new BatchSpanProcessor(
      new OTLPTraceExporter({ url, headers: parseOtlpHeaders(env.OTEL_EXPORTER_OTLP_HEADERS) }),
    ),
  ];
  const sdk = new NodeSDK({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: env.OTEL_SERVICE_NAME,
      [ATTR_SERVICE_VERSION]: packageVersion(),
      [ATTR_SERVICE_INSTANCE_ID]: config.instanceId,
    }),
    // The host's name and OTEL_RESOURCE_ATTRIBUTES; not the process detector, whose command
    // line could carry something an operator typed there.
    resourceDetectors: [envDetector, hostDetector],
    serviceName: env.OTEL_SERVICE_NAME,
    sampler: new ParentBasedSampler({
      root: new TraceIdRatioBasedSampler(env.OTEL_TRACES_SAMPLER_RATIO),
    }),
    spanProcessors,
    instrumentations: [],
    // Without these the SDK would also start OTLP metric and log exporters from the environment.
    metricReaders: [],
    logRecordProcessors: [],
    // The relay reads and writes trace context with its own propagator (relay/tracing).
    textMapPropagator: null,
  });
  sdk.start();
  appLogger.info(
    {
      endpoint: options.spanProcessors === undefined ? url : 'custom',
      serviceName: env.OTEL_SERVICE_NAME,
    },
    'OpenTelemetry traces enabled',
  );
  let stopped: Promise<void> | null = null;
  return {
    shutdown: () => {
      stopped ??= flushAndStop(sdk);
      return stopped;
    },
  };
}

async function flushAndStop(sdk: NodeSDK): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), FLUSH_TIMEOUT_MS);
    timer.unref();
  });
  try {
    const result = await Promise.race([sdk.shutdown().then(() => 'done' as const), timeout]);
    if (result === 'timeout') {
      appLogger.warn({ timeoutMs: FLUSH_TIMEOUT_MS }, 'traces: the last spans were not exported');
    }
  } catch (error) {
    appLogger.warn({ err: error }, 'traces: shutting the exporter down failed');
  } finally {
    clearTimeout(timer);
    // Unregistered, so a later start in the same process (tests) registers its own provider.
    trace.disable();
    propagation.disable();
    context.disable();
    diag.disable();
  }
}

/** The SDK's own warnings (an export that failed, a collector that refused) in the app's log. */
function diagToAppLogger(): DiagLogger {
  const warn = (message: string): void => appLogger.warn({ source: 'opentelemetry' }, message);
  const ignore = (): void => undefined;
  return { error: warn, warn, info: ignore, debug: ignore, verbose: ignore };
}

function packageVersion(): string {
  // src/infra/tracing and dist/infra/tracing both sit three levels below the package root.
  try {
    const pkg = JSON.parse(
      readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'),
    ) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}
