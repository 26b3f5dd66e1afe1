import { randomBytes } from 'node:crypto';

import { Redis } from 'ioredis';

import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { throwawaySentinel, type ThrowawaySentinel } from '../support/redis-sentinel';
import { describeWithRedisBinaries } from '../support/services';
import { coordinatorContract } from './coordinator.contract';

/**
 * RedisCoordinator over Redis Sentinel (a primary, a replica, three sentinels started by the
 * test): the whole contract, then what Sentinel adds: a failover moves the primary and the
 * coordinator follows it without a restart.
 */

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retries a call until it succeeds: the first calls after a failover may fail, none may hang. */
async function eventually<T>(call: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(100);
    }
  }
}

describeWithRedisBinaries(`${RedisCoordinator.name} on Redis Sentinel`, () => {
  let sentinel: ThrowawaySentinel;
  let admin: Redis;

  beforeAll(async () => {
    sentinel = await throwawaySentinel();
    admin = new Redis({
      sentinels: sentinel.sentinels,
      name: sentinel.masterName,
      maxRetriesPerRequest: 1,
    });
    admin.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    await admin?.quit().catch(() => admin.disconnect());
    await sentinel?.stop();
  });

  function createInstance(instanceId: string, keyPrefix: string): RedisCoordinator {
    const { client, subscriber } = createRedisClients({
      sentinels: sentinel.sentinels,
      sentinelName: sentinel.masterName,
    });
    return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
  }

  coordinatorContract(
    'Coordinator contract',
    async (instanceCount) => {
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
          const found = await admin.keys(`${keyPrefix}*`);
          if (found.length > 0) await admin.del(...found);
        },
      };
    },
    // Real time, as on standalone Redis; a little shorter to keep the run near half a minute.
    { shortTtlMs: 2500 },
  );

  describe('failover', () => {
    const rpm = coordinationKeys.keyWindow('key1', 'rpm');
    const lease = coordinationKeys.keyLease('key1');
    const channel = coordinationKeys.channels.keyInvalidation;

    it.each(['command', 'kill'] as const)(
      'should follow the new primary and keep limits and pub/sub when a failover (%s) happens',
      async (how) => {
        const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
        const a = createInstance('instance-a', keyPrefix);
        const b = createInstance('instance-b', keyPrefix);
        try {
          await sentinel.waitForReplica();
          const received: string[] = [];
          await b.subscribe(channel, (message) => received.push(message));
          const window = { key: rpm, amount: 1, limit: 5, ttlMs: 60_000 };
          for (let i = 0; i < 3; i++) expect((await a.admit({ counters: [window] })).ok).toBe(true);
          const first = { key: lease, leaseId: 'r1', limit: 1, ttlMs: 60_000 };
          expect((await a.admit({ counters: [], lease: first })).ok).toBe(true);
          // Replication is asynchronous: make sure the replica has these writes before the switch.
          expect(await admin.call('WAIT', '1', '5000')).toBe(1);
          const before = await sentinel.primaryPort();

          const after = await sentinel.failover(how);

          expect(after).not.toBe(before);
          // The first calls may fail while the client switches; none may hang, and the ones that
          // succeed must have gone to the new primary, not to the old one still up (command).
          const counted = await eventually(() => a.admit({ counters: [window] }));
          expect(counted).toMatchObject({ ok: true, values: [4] });
          const onNewPrimary = new Redis({ host: '127.0.0.1', port: after });
          try {
            expect(await onNewPrimary.get(keyPrefix + rpm)).toBe('4');
          } finally {
            onNewPrimary.disconnect();
          }
          expect((await eventually(() => b.admit({ counters: [window] }))).values).toEqual([5]);
          expect((await b.admit({ counters: [window] })).rejection).toMatchObject({
            kind: 'counter',
            current: 5,
            limit: 5,
          });
          const second = { key: lease, leaseId: 'r2', limit: 1, ttlMs: 60_000 };
          expect((await b.admit({ counters: [], lease: second })).ok).toBe(false);
          await a.releaseLease(lease, 'r1');
          expect((await b.admit({ counters: [], lease: second })).ok).toBe(true);
          // The subscriber reconnected to the new primary and subscribed again by itself.
          await eventually(async () => {
            await a.publish(channel, 'after-failover');
            await sleep(100);
            if (!received.includes('after-failover')) throw new Error('not delivered yet');
          }, 30_000);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      },
      90_000,
    );
  });
});
