import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import { seedKey } from 'src/infra/coordination/coordination.keys';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { budgetCounterKey } from 'src/modules/api-keys/admission-plan';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import type { ApiKeysRepository } from 'src/modules/api-keys/api-keys.repository';
import { BudgetReconciler } from 'src/modules/api-keys/budget-reconciler';
import { KeyRejectionCode, type ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { dailyPeriod, totalPeriod } from 'src/modules/api-keys/budget-periods';
import type { KeySpendReader } from 'src/modules/usage/key-spend.reader';
import { describeWithRedis } from '../support/services';
import { apiKeyPolicy } from '../factories/api-key-policy.factory';

interface Fixture {
  coordinators: Coordinator[];
  /** What a restart of the embedded default or a Redis flush does to one counter. */
  lose(counterKey: string): Promise<void>;
  teardown(): Promise<void>;
}

/** The usage record as SQL would answer it: billed micro-dollars per key. */
class RecordedSpend {
  readonly byKey = new Map<string, number>();
  reads = 0;
  async spentMicros(keyId: string): Promise<number> {
    this.reads += 1;
    return this.byKey.get(keyId) ?? 0;
  }
}

function key(limits: ApiKeyPolicy['limits']): ApiKeyPolicy {
  return apiKeyPolicy({ id: `key-${randomBytes(4).toString('hex')}`, limits });
}

let seq = 0;
function request(estimatedCostMicros: number): {
  requestId: string;
  model: string;
  estimatedCostMicros: number;
} {
  seq += 1;
  return { requestId: `req-${seq}`, model: 'claude-sonnet-4-6', estimatedCostMicros };
}

function budgetContract(factory: () => Promise<Fixture>): void {
  let fixture: Fixture;
  let spend: RecordedSpend;
  let services: AdmissionService[];

  beforeEach(async () => {
    fixture = await factory();
    spend = new RecordedSpend();
    const config = new ConfigService({ LEASE_TTL_MS: 30_000 } as EnvironmentSchema);
    services = fixture.coordinators.map(
      (c) => new AdmissionService(c, config, spend as unknown as KeySpendReader),
    );
  });

  afterEach(async () => {
    for (const service of services) service.onApplicationShutdown();
    await fixture.teardown();
  });

  async function refused(promise: Promise<unknown>): Promise<KeyRejectionCode | null> {
    try {
      await promise;
      return null;
    } catch (error) {
      return (error as { code: KeyRejectionCode }).code;
    }
  }

  it('should count what the usage record holds when a key first uses its budget', async () => {
    // A $0.10 lifetime budget with $0.08 recorded: a restart used to forget it.
    const k = key({ totalCostMicros: 100_000 });
    spend.byKey.set(k.id, 80_000);

    expect(await refused(services[0].admit(k, request(30_000)))).toBe(
      KeyRejectionCode.BUDGET_EXHAUSTED,
    );
    const admitted = await services[1].admit(k, request(20_000));
    await admitted.settle({ tokens: 10, costMicros: 20_000 });
    expect(await refused(services[0].admit(k, request(1)))).toBe(KeyRejectionCode.BUDGET_EXHAUSTED);
    expect(spend.reads).toBeLessThanOrEqual(2);
  });

  it('should read the usage record once when many requests find the counter missing at once', async () => {
    const k = key({ dailyCostMicros: 1_000_000 });
    const admitted = await Promise.all(
      Array.from({ length: 20 }, () => services[0].admit(k, request(1000))),
    );
    expect(admitted).toHaveLength(20);
    expect(spend.reads).toBe(1);
  });

  it('should keep counting requests in flight when the coordinator loses the counter', async () => {
    const k = key({ dailyCostMicros: 1_000_000 });
    const counter = budgetCounterKey(k.id, dailyPeriod(Date.now()));
    const inFlight = await services[0].admit(k, request(400_000));

    await fixture.lose(counter);
    expect(await fixture.coordinators[0].getCounters([counter])).toEqual([0]);

    // The lost counter is seeded with the record (0) plus the 400k still reserved here.
    expect(await refused(services[0].admit(k, request(700_000)))).toBe(
      KeyRejectionCode.BUDGET_EXHAUSTED,
    );
    const next = await services[0].admit(k, request(600_000));
    await inFlight.settle({ tokens: 10, costMicros: 400_000 });
    await next.settle({ tokens: 10, costMicros: 600_000 });
    expect(await fixture.coordinators[0].getCounters([counter])).toEqual([1_000_000]);
  });

  it('should add the whole cost of a request admitted elsewhere before the loss when it settles', async () => {
    const k = key({ totalCostMicros: 1_000_000 });
    const counter = budgetCounterKey(k.id, totalPeriod());
    const elsewhere = await services[1].admit(k, request(300_000));

    await fixture.lose(counter);
    expect(await fixture.coordinators[0].getCounters([counter])).toEqual([0]);
    const here = await services[0].admit(k, request(100_000));
    await elsewhere.settle({ tokens: 10, costMicros: 250_000 });
    await here.settle({ tokens: 10, costMicros: 100_000 });

    // The seed knew nothing of it; its settle added all 250k rather than 250k - 300k.
    expect(await fixture.coordinators[0].getCounters([counter])).toEqual([350_000]);
  });

  it('should raise a budget counter the usage record has outgrown when reconciling, and only that', async () => {
    const k = key({ dailyCostMicros: 1_000_000, totalCostMicros: 5_000_000 });
    const counter = budgetCounterKey(k.id, dailyPeriod(Date.now()));
    const admitted = await services[0].admit(k, request(100_000));
    await admitted.settle({ tokens: 10, costMicros: 100_000 });
    // Rows the counter never saw: usage replayed from a crash journal after the seed.
    spend.byKey.set(k.id, 700_000);
    const reconciler = new BudgetReconciler(
      fixture.coordinators[1],
      {} as ApiKeysRepository,
      spend as unknown as KeySpendReader,
    );

    expect(await reconciler.reconcile([k])).toEqual({ raised: 2 });
    expect(await fixture.coordinators[0].getCounters([counter])).toEqual([700_000]);
    expect(await reconciler.reconcile([k])).toEqual({ raised: 0 });
    expect(await refused(services[0].admit(k, request(400_000)))).toBe(
      KeyRejectionCode.BUDGET_EXHAUSTED,
    );
  });
}

describe(`${AdmissionService.name} budgets on LocalCoordinator`, () => {
  budgetContract(async () => {
    const store = new LocalCoordinatorStore();
    const coordinators = ['a', 'b'].map(
      (instanceId) => new LocalCoordinator({ instanceId, store }),
    );
    return {
      coordinators,
      lose: async (counterKey) => {
        store.counters.delete(counterKey);
        store.values.delete(seedKey(counterKey));
      },
      teardown: async () => {
        await Promise.all(coordinators.map((c) => c.close()));
      },
    };
  });
});

describeWithRedis(`${AdmissionService.name} budgets on RedisCoordinator`, (url) => {
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await admin.quit();
  });

  budgetContract(async () => {
    const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    const coordinators = ['a', 'b'].map((instanceId) => {
      const { client, subscriber } = createRedisClients({ url });
      return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
    });
    return {
      coordinators,
      // Only this test's keys: the shared Redis is never flushed.
      lose: async (counterKey) => {
        await admin.del(`${keyPrefix}${counterKey}`, `${keyPrefix}${seedKey(counterKey)}`);
      },
      teardown: async () => {
        await Promise.all(coordinators.map((c) => c.close()));
        const keys = await admin.keys(`${keyPrefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      },
    };
  });
});
