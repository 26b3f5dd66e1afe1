import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Counter } from 'prom-client';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
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

export function createCoordinator(config: ConfigService, metrics?: MetricsService): Coordinator {
  const instanceId = config.instanceId;
  const onError = (error: unknown): void => {
    appLogger.warn({ err: error }, 'coordinator background error');
  };
  const onCall = callCounter(metrics);
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
