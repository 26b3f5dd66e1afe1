import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { CoordinationExceptionCode } from 'src/infra/coordination/coordination.exception';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { describeWithRedis } from '../support/services';
import { coordinatorContract } from './coordinator.contract';

async function deleteByPrefix(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) await admin.del(...found);
  } while (cursor !== '0');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describeWithRedis(RedisCoordinator.name, (url) => {
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await admin.quit();
  });

  function createInstance(instanceId: string, keyPrefix: string): RedisCoordinator {
    const { client, subscriber } = createRedisClients({ url });
    return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
  }

  coordinatorContract(
    'Coordinator contract',
    async (instanceCount) => {
      // A fresh prefix per test keeps runs (and parallel CI jobs) apart on a shared server.
      const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
      const instances = Array.from({ length: instanceCount }, (_, i) =>
        createInstance(`instance-${i}`, keyPrefix),
      );
      return {
        instances,
        now: Date.now,
        elapse: sleep,
        teardown: async () => {
          await Promise.all(instances.map((instance) => instance.close()));
          await deleteByPrefix(admin, keyPrefix);
        },
      };
    },
    // Real time: a value touched a step ago must outlive a stall of the test process.
    { shortTtlMs: 3000 },
  );

  describe('keys', () => {
    it('should store every key under its prefix with the hash tag intact', async () => {
      const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
      const coordinator = createInstance('instance-0', keyPrefix);
      try {
        await coordinator.admit({
          counters: [{ key: coordinationKeys.keyWindow('key1', 'rpm'), amount: 1, ttlMs: 60_000 }],
          lease: { key: coordinationKeys.keyLease('key1'), leaseId: 'r1', limit: 1, ttlMs: 60_000 },
        });

        const stored = await admin.keys(`${keyPrefix}*`);
        expect(stored.sort()).toEqual([
          `${keyPrefix}k:{key1}:lease`,
          `${keyPrefix}k:{key1}:win:rpm`,
        ]);
        expect(await admin.zrange(`${keyPrefix}k:{key1}:lease`, 0, -1)).toEqual(['instance-0:r1']);
      } finally {
        await coordinator.close();
        await deleteByPrefix(admin, keyPrefix);
      }
    });

    it('should refuse a key prefix when it contains a brace', () => {
      const { client, subscriber } = createRedisClients({ url });
      try {
        expect(
          () => new RedisCoordinator({ instanceId: 'i', client, subscriber, keyPrefix: '{sy}:' }),
        ).toThrow(RangeError);
      } finally {
        client.disconnect();
        subscriber.disconnect();
      }
    });
  });

  describe('settle', () => {
    it('should apply a pipelined batch of settles when Redis has lost its scripts', async () => {
      const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
      const coordinator = createInstance('instance-0', keyPrefix);
      const key = coordinationKeys.keyWindow('key1', 'tpm');
      try {
        await admin.script('FLUSH');

        await Promise.all(
          [1, 2, 3, 4, 5].map((amount) =>
            coordinator.settle({ counters: [{ key, amount, ttlMs: 60_000 }] }),
          ),
        );

        expect(await coordinator.getCounters([key])).toEqual([15]);
      } finally {
        await coordinator.close();
        await deleteByPrefix(admin, keyPrefix);
      }
    });
  });

  describe('unavailable', () => {
    it('should reject within the call timeout when Redis cannot be reached', async () => {
      // Nothing listens on port 1; the client keeps reconnecting in the background.
      const { client, subscriber } = createRedisClients({ url: 'redis://127.0.0.1:1' });
      const coordinator = new RedisCoordinator({
        instanceId: 'instance-0',
        client,
        subscriber,
        keyPrefix: 'sytest:down:',
      });
      // The calls must fail rather than wait for a Redis that never comes; the bound, ten call
      // timeouts, only tells a hang from a slow machine.
      const bounded = <T>(call: Promise<T>): Promise<T> => {
        let timer: NodeJS.Timeout | undefined;
        return Promise.race([
          call,
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('still waiting for Redis')), 15_000);
          }),
        ]).finally(() => clearTimeout(timer));
      };

      await expect(bounded(coordinator.ping())).rejects.toMatchObject({
        code: CoordinationExceptionCode.UNAVAILABLE,
      });
      await expect(
        bounded(coordinator.admit({ counters: [{ key: 'k:{x}:win:rpm', amount: 1, limit: 1 }] })),
      ).rejects.toMatchObject({ code: CoordinationExceptionCode.UNAVAILABLE });

      await coordinator.close();
    });
  });
});
