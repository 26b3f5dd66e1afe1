import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Counter } from 'prom-client';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { LocalHistogram } from 'src/modules/metrics/local-metrics';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { COORDINATOR, type Coordinator } from './coordinator.port';
import { LocalCoordinator } from './local.coordinator';
import { RedisCoordinator } from './redis.coordinator';
import { createRedisClients } from './redis.clients';

export const InjectCoordinator = (): PropertyDecorator & ParameterDecorator => Inject(COORDINATOR);

const lastRedisErrorLog: Record<string, number> = {};

/**
 * `switchyard_coordinator_calls_total{op}`: every coordinator call (with Redis, at most one round
 * trip each: settles of one event-loop turn share a pipeline),
 * so operators and the benchmark can check the per-request coordination budget. Calls are
 * counted in plain numbers and handed to prom-client at scrape time: an `inc()` with a label on
 * every call cost about a microsecond each, several per relayed request.
 */
function callCounter(metrics: MetricsService | undefined): ((op: string) => void) | undefined {
  if (metrics === undefined) return undefined;
  const counts = new Map<string, { total: number; reported: number }>();
  new Counter({
    name: 'switchyard_coordinator_calls_total',
    help: 'Coordinator calls by operation (with Redis, at most one round trip each)',
    labelNames: ['op'] as const,
    registers: [metrics.registry],
    collect() {
      for (const [op, count] of counts) {
        if (count.total > count.reported) this.inc({ op }, count.total - count.reported);
        count.reported = count.total;
      }
    },
  });
  return (op) => {
    const count = counts.get(op);
    if (count === undefined) counts.set(op, { total: 1, reported: 0 });
    else count.total += 1;
  };
}

/** Redis round trips take well under a millisecond on a LAN; the deadline is 1.5 s. */
const COORDINATOR_BUCKETS = [
  0.0002, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2,
];

/**
 * `switchyard_coordinator_call_duration_seconds{op}`: each Redis round trip (a pipelined batch of
 * settles is one). Ops are the coordinator's own fixed call names; children are resolved once per
 * op, so a call costs one observation. The in-process coordinator makes no round trips and
 * records none (the histogram is still registered, empty).
 */
function callTimer(
  metrics: MetricsService | undefined,
): ((op: string, seconds: number) => void) | undefined {
  if (metrics === undefined) return undefined;
  const histogram = new LocalHistogram({
    name: 'switchyard_coordinator_call_duration_seconds',
    help: 'Coordinator round trip duration by operation (Redis only)',
    labelNames: ['op'] as const,
    buckets: COORDINATOR_BUCKETS,
    registers: [metrics.registry],
  });
  const children = new Map<string, { observe(value: number): void }>();
  return (op, seconds) => {
    let child = children.get(op);
    if (child === undefined) {
      child = histogram.labels({ op });
      children.set(op, child);
    }
    child.observe(seconds);
  };
}

export function createCoordinator(config: ConfigService, metrics?: MetricsService): Coordinator {
  const instanceId = config.instanceId;
  const onError = (error: unknown): void => {
    appLogger.warn({ err: error }, 'coordinator background error');
  };
  const onCall = callCounter(metrics);
  const onDuration = callTimer(metrics);
  if (config.redisMode === 'none') return new LocalCoordinator({ instanceId, onError, onCall });
  const { client, subscriber } = createRedisClients({
    url: config.env.REDIS_URL,
    sentinels: config.redisSentinels,
    sentinelName: config.env.REDIS_SENTINEL_NAME,
    sentinelPassword: config.env.REDIS_SENTINEL_PASSWORD,
    clusterNodes: config.redisClusterNodes,
    password: config.env.REDIS_PASSWORD,
    onError: (error, role) => {
      // Reconnect attempts repeat every few hundred ms while Redis is down: log one per 10 s.
      const now = Date.now();
      if (now - (lastRedisErrorLog[role] ?? 0) < 10000) return;
      lastRedisErrorLog[role] = now;
      appLogger.warn({ err: { message: error.message }, role }, 'redis connection error');
    },
  });
  return new RedisCoordinator({
    instanceId,
    client,
    subscriber,
    keyPrefix: config.env.REDIS_KEY_PREFIX,
    onError,
    onCall,
    onDuration,
  });
}

@Injectable()
export class CoordinatorLifecycle implements OnApplicationShutdown {
  constructor(@InjectCoordinator() private readonly coordinator: Coordinator) {}

  /** Releases only the leases and locks this instance owns; other instances keep theirs. */
  async onApplicationShutdown(): Promise<void> {
    await this.coordinator.close();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: COORDINATOR,
      inject: [ConfigService, { token: MetricsService, optional: true }],
      useFactory: (config: ConfigService, metrics: MetricsService | null) =>
        createCoordinator(config, metrics ?? undefined),
    },
    CoordinatorLifecycle,
  ],
  exports: [COORDINATOR],
})
export class CoordinationModule {}
