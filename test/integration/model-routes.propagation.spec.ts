import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { createRedisClients } from 'src/infra/coordination/redis.clients';
import { RedisCoordinator } from 'src/infra/coordination/redis.coordinator';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { ModelRouter } from 'src/modules/routing/model-router.service';
import { ModelRoutesRepository } from 'src/modules/routing/model-routes.repository';
import { ModelRoutesService } from 'src/modules/routing/model-routes.service';
import { describeWithRedis } from '../support/services';

interface Instance {
  router: ModelRouter;
  service: ModelRoutesService;
}

/**
 * Resolves at the first reload of `router` after which `holds` is true. Registered before the
 * change, so the test waits for the change message itself, never for a clock.
 */
function seenBy(router: ModelRouter, holds: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const off = router.onReload(() => {
      if (!holds()) return;
      off();
      resolve();
    });
  });
}

/** Two instances sharing one database and one coordination store; only the message links them. */
function propagationContract(createCoordinators: () => Promise<Coordinator[]>): void {
  let db: Db;
  let coordinators: Coordinator[];
  let a: Instance;
  let b: Instance;

  beforeEach(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-model-routes-prop-'));
    db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    coordinators = await createCoordinators();
    const repository = new ModelRoutesRepository(db);
    [a, b] = await Promise.all(
      coordinators.map(async (coordinator) => {
        // An hour: the periodic reload cannot be what makes B notice within the test.
        const router = new ModelRouter(repository, coordinator, { safetyReloadMs: 3_600_000 });
        await router.onModuleInit();
        return { router, service: new ModelRoutesService(repository, router, coordinator) };
      }),
    );
  });

  afterEach(async () => {
    for (const instance of [a, b]) await instance?.router.onModuleDestroy();
    await Promise.all(coordinators.map((c) => c.close()));
    await db.destroy();
  });

  it('should route by an alias on instance B once it is created on instance A', async () => {
    expect(b.router.route('gpt-4o')?.platform).toBe('openai');
    const seen = seenBy(b.router, () => b.router.route('gpt-4o')?.platform === 'claude');

    const created = await a.service.create({
      pattern: 'gpt-4o',
      platform: 'claude',
      targetModel: 'claude-sonnet-4-5',
    });

    await seen;
    expect(b.router.route('gpt-4o')).toEqual({
      platform: 'claude',
      model: 'claude-sonnet-4-5',
      routeId: created.id,
    });
  });

  it('should stop matching a route on instance B once it is disabled on A, and again once deleted', async () => {
    const claude = a.router.list().find((r) => r.pattern === 'claude-*')!;
    const disabled = seenBy(b.router, () => b.router.route('claude-opus-4-1') === null);
    await a.service.update(claude.id, { enabled: false });
    await disabled;

    const reenabled = seenBy(b.router, () => b.router.route('claude-opus-4-1') !== null);
    await a.service.update(claude.id, { enabled: true });
    await reenabled;

    const deleted = seenBy(b.router, () => !b.router.list().some((r) => r.id === claude.id));
    await a.service.delete(claude.id);
    await deleted;
    expect(b.router.route('claude-opus-4-1')).toBeNull();
  });

  it('should apply an edit made on B back on A', async () => {
    const gemini = b.router.list().find((r) => r.pattern === 'gemini-*')!;
    const seen = seenBy(a.router, () => a.router.route('gemini-2.5-pro')?.platform === 'droid');
    await b.service.update(gemini.id, { platform: 'droid' });
    await seen;
  });
}

describe(`${ModelRouter.name} across instances on LocalCoordinator`, () => {
  propagationContract(async () => {
    const store = new LocalCoordinatorStore();
    return ['a', 'b'].map((instanceId) => new LocalCoordinator({ instanceId, store }));
  });
});

describeWithRedis(`${ModelRouter.name} across instances on RedisCoordinator`, (url) => {
  propagationContract(async () => {
    // A fresh prefix per test: channels are prefixed too, so parallel runs never hear each other.
    const keyPrefix = `sytest:${randomBytes(6).toString('hex')}:`;
    return ['a', 'b'].map((instanceId) => {
      const { client, subscriber } = createRedisClients({ url });
      return new RedisCoordinator({ instanceId, client, subscriber, keyPrefix });
    });
  });
});
