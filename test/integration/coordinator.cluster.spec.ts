import { randomBytes } from 'node:crypto';

import { Cluster } from 'ioredis';

import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { throwawayCluster, type ThrowawayCluster } from '../support/redis-cluster';
import { describeWithRedisBinaries } from '../support/services';
import { coordinatorContract } from './coordinator.contract';

/**
 * RedisCoordinator over Redis Cluster (three primaries started by the test): the whole contract,
 * where every script and every pipeline must keep to one slot, and pub/sub crosses nodes.
 */

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** SCAN sees one node only: walk every primary. */
async function keysOnEveryPrimary(cluster: Cluster, pattern: string): Promise<string[]> {
  const found: string[] = [];
  for (const node of cluster.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found;
}

describeWithRedisBinaries(`${RedisCoordinator.name} on Redis Cluster`, () => {
  let cluster: ThrowawayCluster;
  let admin: Cluster;

  beforeAll(async () => {
    cluster = await throwawayCluster();
    admin = new Cluster(cluster.nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
    admin.on('error', () => undefined);
    await admin.ping();
  }, 60_000);

  afterAll(async () => {
    await admin?.quit().catch(() => admin.disconnect());
    await cluster?.stop();
  });

  function createInstance(instanceId: string, keyPrefix: string): RedisCoordinator {
    const { client, subscriber } = createRedisClients({ clusterNodes: cluster.nodes });
    return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
  }

  async function deleteByPrefix(keyPrefix: string): Promise<void> {
    // One DEL per key: a multi-key DEL must stay within one slot.
    for (const key of await keysOnEveryPrimary(admin, `${keyPrefix}*`)) await admin.del(key);
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
          await deleteByPrefix(keyPrefix);
        },
      };
    },
    // Real time, as on standalone Redis; a little shorter to keep the run near half a minute.
    { shortTtlMs: 2500 },
  );

  describe('keys', () => {
    it('should keep the keys of one API key in one slot and spread different API keys', async () => {
      const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
      const slotOf = async (key: string): Promise<number> =>
        Number(await admin.call('CLUSTER', 'KEYSLOT', keyPrefix + key));
      const ofKey = (id: string): string[] => [
        coordinationKeys.keyWindow(id, 'rpm'),
        coordinationKeys.keyBudget(id, 'daily', '2025-01-31'),
        `${coordinationKeys.keyBudget(id, 'daily', '2025-01-31')}:seed`,
        coordinationKeys.keyLease(id),
        coordinationKeys.sticky(id, 'abc'),
      ];

      const slots = await Promise.all(ofKey('key-1').map(slotOf));
      const others = await Promise.all(
        Array.from({ length: 20 }, (_, i) => slotOf(coordinationKeys.keyLease(`key-${i}`))),
      );

      expect(new Set(slots).size).toBe(1);
      // Twenty API keys land on more than one node's slots (0-5460, 5461-10922, 10923-16383).
      expect(new Set(others.map((slot) => Math.floor(slot / 5461))).size).toBeGreaterThan(1);
    });
  });
});
