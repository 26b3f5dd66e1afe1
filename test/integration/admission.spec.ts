import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { budgetCounterKey, windowCounterKey } from 'src/modules/api-keys/admission-plan';
import { Admission, AdmissionService } from 'src/modules/api-keys/admission.service';
import {
  KeyRejectionCode,
  type ApiKeyLimits,
  type ApiKeyPolicy,
} from 'src/modules/api-keys/api-key.types';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { dailyPeriod, totalPeriod } from 'src/modules/api-keys/budget-periods';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { describeWithRedis } from '../support/services';
import { apiKeyPolicy } from '../factories/api-key-policy.factory';

/**
 * Short enough to wait for; long enough that a renewal (every third of it) comes in time even when
 * a loaded machine stalls the event loop for a second or two.
 */
const LEASE_TTL_MS = 3000;

interface Fixture {
  /** Two instances over one backing store. */
  coordinators: Coordinator[];
  teardown(): Promise<void>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until the check holds; the bound only tells a broken run from a slow one. */
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + LEASE_TTL_MS * 8;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(20);
  }
}

function policy(limits: ApiKeyLimits): ApiKeyPolicy {
  return apiKeyPolicy({ id: `key-${randomBytes(4).toString('hex')}`, limits });
}

let requestSeq = 0;
function request(estimatedCostMicros = 1000): {
  requestId: string;
  model: string;
  estimatedCostMicros: number;
} {
  requestSeq += 1;
  return { requestId: `req-${requestSeq}`, model: 'claude-sonnet-4-5', estimatedCostMicros };
}

/** Admission or the rejection code, so races can be counted. */
async function tryAdmit(
  service: AdmissionService,
  key: ApiKeyPolicy,
  estimate = 1000,
): Promise<Admission | KeyRejectionCode> {
  try {
    return await service.admit(key, request(estimate));
  } catch (error) {
    if (error instanceof ApiKeyException) return error.code as KeyRejectionCode;
    throw error;
  }
}

function admitted(results: (Admission | KeyRejectionCode)[]): Admission[] {
  return results.filter((r): r is Admission => r instanceof Admission);
}

function admissionContract(factory: () => Promise<Fixture>): void {
  let fixture: Fixture;
  let services: AdmissionService[];
  let reader: Coordinator;

  beforeEach(async () => {
    fixture = await factory();
    const config = new ConfigService({ LEASE_TTL_MS } as EnvironmentSchema);
    services = fixture.coordinators.map((c) => new AdmissionService(c, config));
    reader = fixture.coordinators[0];
  });

  afterEach(async () => {
    for (const service of services) service.onApplicationShutdown();
    await fixture.teardown();
  });

  /** Alternates between the instances, as a load balancer would. */
  function on(i: number): AdmissionService {
    return services[i % services.length];
  }

  describe('key.window_limit', () => {
    it('should store one event in SQLite for 20 concurrent refusals on two instances', async () => {
      const db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
      try {
        await migrateToLatest(db);
        const outbox = new OutboxRepository(db);
        const notifications = new NotificationOutbox(outbox);
        const writes: Promise<boolean>[] = [];
        const emit = notifications.emit.bind(notifications);
        jest.spyOn(notifications, 'emit').mockImplementation((event) => {
          const write = emit(event);
          writes.push(write);
          return write;
        });
        const config = new ConfigService({ LEASE_TTL_MS } as EnvironmentSchema);
        const notifying = fixture.coordinators.map(
          (c) => new AdmissionService(c, config, undefined, notifications),
        );
        const key = policy({ windowMinutes: 1, windowRequests: 2 });
        const first = await Promise.all([0, 1].map((i) => tryAdmit(notifying[i % 2], key)));
        expect(admitted(first)).toHaveLength(2);

        const refused = await Promise.all(
          Array.from({ length: 20 }, (_, i) => tryAdmit(notifying[i % 2], key)),
        );
        await Promise.all(writes);

        expect(refused.every((r) => r === KeyRejectionCode.WINDOW_LIMIT)).toBe(true);
        const events = await outbox.pending('notification', 10);
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({
          type: 'key.window_limit',
          dedupeKey: expect.stringMatching(
            new RegExp(`^key\\.window_limit:${key.id}:requests:\\d+$`),
          ),
          payload: {
            subject: { kind: 'api_key', id: key.id },
            data: { metric: 'requests', limit: 2 },
          },
        });
        for (const service of notifying) service.onApplicationShutdown();
      } finally {
        await db.destroy();
      }
    });
  });

  describe('budgets', () => {
    it('should admit exactly 10 of 50 racing requests when the daily cap covers 10 estimates', async () => {
      const key = policy({ dailyCostMicros: 10_000 });

      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => tryAdmit(on(i), key, 1000)),
      );

      const ok = admitted(results);
      expect(ok).toHaveLength(10);
      expect(results.filter((r) => r === KeyRejectionCode.BUDGET_EXHAUSTED)).toHaveLength(40);
      const dailyKey = budgetCounterKey(key.id, dailyPeriod(Date.now()));
      expect(await reader.getCounters([dailyKey])).toEqual([10_000]);

      // Each settles to an actual cost at or below its estimate.
      await Promise.all(ok.map((a, i) => a.settle({ tokens: 100, costMicros: 500 + i * 50 })));
      const [spent] = await reader.getCounters([dailyKey]);
      expect(spent).toBe(ok.reduce((sum, _, i) => sum + 500 + i * 50, 0));
      expect(spent).toBeLessThanOrEqual(10_000);
    });

    it('should never let settled spend pass the cap when requests race until it is used up', async () => {
      const key = policy({ totalCostMicros: 25_000, dailyCostMicros: 1_000_000 });
      const totalKey = budgetCounterKey(key.id, totalPeriod());

      for (let round = 0; round < 5; round += 1) {
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, i) => tryAdmit(on(i), key, 2000)),
        );
        await Promise.all(admitted(results).map((a) => a.settle({ tokens: 10, costMicros: 1500 })));
        const [spent] = await reader.getCounters([totalKey]);
        expect(spent).toBeLessThanOrEqual(25_000);
      }
      // 16 requests of 1500 fit; the 17th would need 2000 on top of 24000.
      expect(await reader.getCounters([totalKey])).toEqual([24_000]);
      await expect(on(0).admit(key, request(2000))).rejects.toMatchObject({
        code: KeyRejectionCode.BUDGET_EXHAUSTED,
        budget: { cap: 'total', limitMicros: 25_000, spentMicros: 24_000, resetAtMs: null },
      });
      // A request whose worst case fits is still admitted.
      const small = await on(1).admit(key, request(1000));
      await small.release();
    });

    it('should refuse any request when the cap is exactly used up, even with a zero estimate', async () => {
      const key = policy({ dailyCostMicros: 3000 });
      const first = await on(0).admit(key, request(3000));
      await first.settle({ tokens: 1, costMicros: 3000 });

      await expect(on(1).admit(key, request(0))).rejects.toMatchObject({
        code: KeyRejectionCode.BUDGET_EXHAUSTED,
      });
    });
  });

  describe('window limits', () => {
    it('should let exactly N requests through when N is the window limit', async () => {
      const key = policy({ windowMinutes: 1, windowRequests: 7 });

      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => tryAdmit(on(i), key)));

      expect(admitted(results)).toHaveLength(7);
      const rejected = results.filter((r) => r === KeyRejectionCode.WINDOW_LIMIT);
      expect(rejected).toHaveLength(23);
      await expect(on(0).admit(key, request())).rejects.toMatchObject({
        status: 429,
        rateLimit: { metric: 'requests', limit: 7, remaining: 0 },
      });
    });

    it('should refuse once the token window is reached and count real tokens at settle', async () => {
      const key = policy({ windowMinutes: 1, windowTokens: 1000 });
      const tokensKey = windowCounterKey(key.id, 'tokens', 1);

      const a = await on(0).admit(key, request());
      await a.settle({ tokens: 999, costMicros: 0 });
      expect(await reader.getCounters([tokensKey])).toEqual([999]);

      const b = await on(1).admit(key, request());
      await b.settle({ tokens: 1, costMicros: 0 });
      expect(await reader.getCounters([tokensKey])).toEqual([1000]);

      await expect(on(0).admit(key, request())).rejects.toMatchObject({
        code: KeyRejectionCode.WINDOW_LIMIT,
        rateLimit: { metric: 'tokens', limit: 1000, remaining: 0 },
      });
    });
  });

  describe('concurrency', () => {
    it('should never have more than N admitted and unsettled requests when N is the limit', async () => {
      const limit = 4;
      const key = policy({ concurrency: limit });
      let active = 0;
      let peak = 0;
      let served = 0;
      let refused = 0;

      const worker = async (w: number): Promise<void> => {
        for (let i = 0; i < 8; i += 1) {
          const result = await tryAdmit(on(w), key);
          if (!(result instanceof Admission)) {
            expect(result).toBe(KeyRejectionCode.CONCURRENCY_LIMIT);
            refused += 1;
            await sleep(2);
            continue;
          }
          active += 1;
          peak = Math.max(peak, active);
          try {
            expect(await reader.countLeases(coordinationKeys.keyLease(key.id))).toBeLessThanOrEqual(
              limit,
            );
            await sleep(5 + ((w * 7 + i) % 10));
            served += 1;
          } finally {
            active -= 1;
            await result.settle({ tokens: 1, costMicros: 1 });
          }
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, w) => worker(w)));

      expect(peak).toBe(limit);
      expect(served).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
      expect(await reader.countLeases(coordinationKeys.keyLease(key.id))).toBe(0);
    });

    it('should keep a lease alive past its TTL while it is renewed, and free it on release', async () => {
      const key = policy({ concurrency: 1 });
      const held = await on(0).admit(key, request());
      const renewals = jest.spyOn(held, 'renew');
      const stop = held.startRenewing();

      // Renewals come a third of the TTL apart: the fourth is past the lease's first TTL.
      await until(() => renewals.mock.calls.length >= 4, 'four renewals');

      await expect(on(1).admit(key, request())).rejects.toMatchObject({
        code: KeyRejectionCode.CONCURRENCY_LIMIT,
      });
      expect(await held.renew()).toBe(true);
      stop();
      await held.release();
      const next = await on(1).admit(key, request());
      await next.release();
    });

    it('should let the lease expire when it is not renewed', async () => {
      const key = policy({ concurrency: 1 });
      const abandoned = await on(0).admit(key, request());

      await until(
        async () => (await reader.countLeases(coordinationKeys.keyLease(key.id))) === 0,
        'the lease to expire',
      );
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);

      expect(await abandoned.renew()).toBe(false);
      // The renewer that meets the lost lease stops renewing it and says so once.
      abandoned.startRenewing();
      await until(async () => on(0).renewingCount === 0, 'the renewer to drop the lost lease');
      const lost = warn.mock.calls.filter(
        ([, message]) => message === 'lease lost before its request ended; renewal stopped',
      );
      expect(lost).toHaveLength(1);
      warn.mockRestore();
      const next = await on(1).admit(key, request());
      await next.release();
    });
  });

  describe('settle', () => {
    it('should apply once when called twice', async () => {
      const key = policy({
        windowMinutes: 1,
        windowTokens: 1_000_000,
        windowCostMicros: 1_000_000,
        dailyCostMicros: 1_000_000,
        concurrency: 2,
      });
      const keys = [
        windowCounterKey(key.id, 'tokens', 1),
        windowCounterKey(key.id, 'cost', 1),
        budgetCounterKey(key.id, dailyPeriod(Date.now())),
      ];
      const admission = await on(0).admit(key, request(5000));
      expect(await reader.getCounters(keys)).toEqual([1, 5000, 5000]);

      await admission.settle({ tokens: 300, costMicros: 1200 });
      await admission.settle({ tokens: 300, costMicros: 1200 });
      await admission.release();

      expect(await reader.getCounters(keys)).toEqual([300, 1200, 1200]);
      expect(await reader.countLeases(coordinationKeys.keyLease(key.id))).toBe(0);
    });

    it('should refund the whole reservation when released before any upstream call', async () => {
      const key = policy({ dailyCostMicros: 10_000, concurrency: 1 });
      const dailyKey = budgetCounterKey(key.id, dailyPeriod(Date.now()));

      const admission = await on(0).admit(key, request(4000));
      await admission.release();

      expect(await reader.getCounters([dailyKey])).toEqual([0]);
      expect(await reader.countLeases(coordinationKeys.keyLease(key.id))).toBe(0);
    });
  });

  describe('getBudgetStatus', () => {
    it('should report spend with reservations, window use and active leases', async () => {
      const key = policy({
        windowMinutes: 5,
        windowRequests: 10,
        dailyCostMicros: 10_000,
        concurrency: 3,
      });
      const done = await on(0).admit(key, request(2000));
      await done.settle({ tokens: 5, costMicros: 1500 });
      const inFlight = await on(1).admit(key, request(3000));

      const status = await on(0).getBudgetStatus(key);

      expect(status).toMatchObject({
        daily: { limitMicros: 10_000, spentMicros: 4500 },
        window: { windowMinutes: 5, requests: { limit: 10, used: 2 } },
        concurrency: { limit: 3, active: 1 },
      });
      expect(status.window?.resetAtMs).toBeGreaterThan(Date.now());
      await inFlight.release();
    });
  });
}

describe(`${AdmissionService.name} on LocalCoordinator`, () => {
  admissionContract(async () => {
    const store = new LocalCoordinatorStore();
    const coordinators = ['a', 'b'].map(
      (instanceId) => new LocalCoordinator({ instanceId, store }),
    );
    return {
      coordinators,
      teardown: async () => {
        await Promise.all(coordinators.map((c) => c.close()));
      },
    };
  });
});

describeWithRedis(`${AdmissionService.name} on RedisCoordinator`, (url) => {
  let admin: Redis;

  beforeAll(() => {
    admin = new Redis(url, { maxRetriesPerRequest: 1 });
  });

  afterAll(async () => {
    await admin.quit();
  });

  admissionContract(async () => {
    const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    const coordinators = ['a', 'b'].map((instanceId) => {
      const { client, subscriber } = createRedisClients({ url });
      return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
    });
    return {
      coordinators,
      teardown: async () => {
        await Promise.all(coordinators.map((c) => c.close()));
        const keys = await admin.keys(`${keyPrefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      },
    };
  });
});
