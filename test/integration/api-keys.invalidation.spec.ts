import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { ApiKeyHasher } from 'src/infra/crypto/api-key-hasher';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';
import { ApiKeysRepository } from 'src/modules/api-keys/api-keys.repository';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import { describeWithRedis } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

/**
 * An admin change must reach every instance through the invalidation message. The promise is
 * "within about a second"; the bound here is generous so a loaded machine cannot fail it, and
 * still far inside the one-hour cache TTL below, so only the message can make B notice in time.
 */
const PROPAGATION_BUDGET_MS = 15_000;

interface Instance {
  service: ApiKeysService;
  authenticator: ApiKeyAuthenticator;
}

/** Polls until the predicate holds, or fails past the budget. */
async function within(budgetMs: number, predicate: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (await predicate()) return;
    if (Date.now() - started > budgetMs) throw new Error(`not within ${budgetMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function invalidationContract(createCoordinators: () => Promise<Coordinator[]>): void {
  let db: Db;
  let coordinators: Coordinator[];
  let a: Instance;
  let b: Instance;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-keys-inval-'));
    db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    coordinators = await createCoordinators();
    // A long TTL: only the invalidation message can make instance B notice a change in time.
    const config = new ConfigService({
      API_KEY_PREFIX: 'sk-sy-',
      API_KEY_CACHE_TTL_MS: 3_600_000,
      LEASE_TTL_MS: 60_000,
    } as EnvironmentSchema);
    const hasher = new ApiKeyHasher();
    const repository = new ApiKeysRepository(db);
    const instances = await Promise.all(
      coordinators.map(async (coordinator) => {
        const authenticator = new ApiKeyAuthenticator(repository, hasher, config, coordinator);
        await authenticator.onModuleInit();
        const admission = new AdmissionService(coordinator, config);
        const service = new ApiKeysService(
          repository,
          hasher,
          config,
          coordinator,
          authenticator,
          admission,
          new FixedRuntimeSettings(new EnvironmentSchema()),
        );
        return { service, authenticator };
      }),
    );
    [a, b] = instances;
  });

  afterEach(async () => {
    for (const instance of [a, b]) await instance.authenticator.onApplicationShutdown();
    await Promise.all(coordinators.map((c) => c.close()));
    await db.destroy();
  });

  async function enabledOnB(secret: string): Promise<ApiKeyPolicy | null> {
    return b.authenticator.authenticate(secret);
  }

  it('should refuse a key on instance B when it is disabled on instance A', async () => {
    const key = await a.service.create({ name: 'shared' });
    expect((await enabledOnB(key.secret))?.enabled).toBe(true);

    await a.service.setEnabled(key.id, false);

    await within(
      PROPAGATION_BUDGET_MS,
      async () => (await enabledOnB(key.secret))?.enabled === false,
    );
  });

  it('should stop the old secret on instance B when it is rotated on A', async () => {
    const key = await a.service.create({ name: 'shared' });
    expect(await enabledOnB(key.secret)).not.toBeNull();

    const rotated = await a.service.rotate(key.id);

    await within(PROPAGATION_BUDGET_MS, async () => (await enabledOnB(key.secret)) === null);
    expect((await enabledOnB(rotated.secret))?.id).toBe(key.id);
  });

  it('should apply a new limit on instance B when it is updated on A', async () => {
    const key = await a.service.create({ name: 'shared' });
    expect((await enabledOnB(key.secret))?.limits).toEqual({});

    await a.service.update(key.id, { limits: { concurrency: 1 } });

    await within(
      PROPAGATION_BUDGET_MS,
      async () => (await enabledOnB(key.secret))?.limits.concurrency === 1,
    );
  });
}

describe(`${ApiKeyAuthenticator.name} invalidation on LocalCoordinator`, () => {
  invalidationContract(async () => {
    const store = new LocalCoordinatorStore();
    return ['a', 'b'].map((instanceId) => new LocalCoordinator({ instanceId, store }));
  });
});

describeWithRedis(`${ApiKeyAuthenticator.name} invalidation on RedisCoordinator`, (url) => {
  invalidationContract(async () => {
    // A fresh prefix per test: channels are prefixed too, so parallel runs never hear each other.
    const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    return ['a', 'b'].map((instanceId) => {
      const { client, subscriber } = createRedisClients({ url });
      return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
    });
  });
});
