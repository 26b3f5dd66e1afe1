import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { COORDINATOR, type Coordinator } from './coordinator.port';
import { LocalCoordinator } from './local.coordinator';
import { RedisCoordinator } from './redis.coordinator';
import { createRedisClients } from './redis.clients';

export const InjectCoordinator = (): PropertyDecorator & ParameterDecorator => Inject(COORDINATOR);

const lastRedisErrorLog: Record<string, number> = {};

export function createCoordinator(config: ConfigService): Coordinator {
  const instanceId = config.instanceId;
  const onError = (error: unknown): void => {
    appLogger.warn({ err: error }, 'coordinator background error');
  };
  if (config.redisMode === 'none') return new LocalCoordinator({ instanceId, onError });
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
    { provide: COORDINATOR, inject: [ConfigService], useFactory: createCoordinator },
    CoordinatorLifecycle,
  ],
  exports: [COORDINATOR],
})
export class CoordinationModule {}
