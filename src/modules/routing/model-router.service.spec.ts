import { appLogger } from 'src/common/logging/app-logger';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { ModelRouter } from './model-router.service';
import type { ModelRouteRecord, ModelRoutesRepository } from './model-routes.repository';
import { routingKeys } from './routing-coordination.keys';

function record(id: string, pattern: string, overrides: Partial<ModelRouteRecord> = {}) {
  return {
    id,
    pattern,
    platform: 'claude',
    target_model: null,
    position: 10,
    enabled: 1,
    note: null,
    created_at: 1,
    updated_at: 1,
    ...overrides,
  } satisfies ModelRouteRecord;
}

/** The repository as the router uses it: rows in memory, and a switch to make reads fail. */
class FakeRepository {
  rows: ModelRouteRecord[] = [];
  reads = 0;
  failWith: Error | null = null;

  async listAll(): Promise<ModelRouteRecord[]> {
    this.reads += 1;
    if (this.failWith !== null) throw this.failWith;
    return this.rows.map((row) => ({ ...row }));
  }
}

function nextReload(router: ModelRouter): Promise<number> {
  return new Promise((resolve) => {
    const off = router.onReload((version) => {
      off();
      resolve(version);
    });
  });
}

describe(ModelRouter.name, () => {
  let repository: FakeRepository;
  let store: LocalCoordinatorStore;
  let coordinator: LocalCoordinator;
  let router: ModelRouter;

  beforeEach(async () => {
    repository = new FakeRepository();
    repository.rows = [
      record('r1', 'claude-*', { position: 10 }),
      record('r2', 'gpt-*', { platform: 'openai', position: 20 }),
    ];
    store = new LocalCoordinatorStore();
    coordinator = new LocalCoordinator({ instanceId: 'a', store });
    router = new ModelRouter(
      repository as unknown as ModelRoutesRepository,
      coordinator,
      // Long: only messages and explicit reloads can change the routes in these tests.
      { safetyReloadMs: 3_600_000 },
    );
    await router.onModuleInit();
  });

  afterEach(async () => {
    await router.onModuleDestroy();
    await coordinator.close();
  });

  describe('route', () => {
    it('should answer from the routes loaded at start', () => {
      expect(router.route('claude-opus-4-1')).toEqual({
        platform: 'claude',
        model: 'claude-opus-4-1',
        routeId: 'r1',
      });
      expect(router.route('gpt-4o')?.platform).toBe('openai');
      expect(router.route('gemini-2.5-pro')).toBeNull();
    });

    it('should read no SQL however many requests it answers', () => {
      const reads = repository.reads;
      for (let i = 0; i < 1000; i++) router.route(`claude-model-${i % 7}`);
      expect(repository.reads).toBe(reads);
    });

    it('should skip a stored route whose platform this version does not serve', async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      repository.rows.push(record('r3', 'bedrock-*', { platform: 'bedrock', position: 1 }));
      await router.reload();
      expect(router.route('bedrock-claude')).toBeNull();
      expect(router.list().map((r) => r.id)).toEqual(['r1', 'r2']);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ routeId: 'r3', platform: 'bedrock' }),
        expect.stringContaining('platform'),
      );
      error.mockRestore();
    });
  });

  describe('reload', () => {
    it('should apply an added alias and drop a deleted route', async () => {
      repository.rows.push(record('r3', 'gpt-4o', { target_model: 'claude-sonnet-4-5' }));
      repository.rows = repository.rows.filter((row) => row.id !== 'r2');
      await router.reload();
      expect(router.route('gpt-4o')).toEqual({
        platform: 'claude',
        model: 'claude-sonnet-4-5',
        routeId: 'r3',
      });
      expect(router.route('gpt-4.1')).toBeNull();
      expect(router.aliases()).toEqual([
        { name: 'gpt-4o', platform: 'claude', model: 'claude-sonnet-4-5' },
      ]);
    });

    it('should bump the version only when the routes changed', async () => {
      const before = router.version;
      await router.reload();
      expect(router.version).toBe(before);
      repository.rows[0] = { ...repository.rows[0], enabled: 0 };
      await router.reload();
      expect(router.version).toBe(before + 1);
      expect(router.route('claude-haiku-4-5')).toBeNull();
    });

    it('should keep the current routes when SQL fails', async () => {
      repository.failWith = new Error('database is locked');
      await expect(router.reload()).rejects.toThrow('database is locked');
      expect(router.route('claude-haiku-4-5')?.platform).toBe('claude');
    });

    it('should share one follow-up read among calls made during a reload', async () => {
      const reads = repository.reads;
      repository.rows.push(record('r3', 'gemini-*', { platform: 'gemini', position: 30 }));
      await Promise.all([router.reload(), router.reload(), router.reload(), router.reload()]);
      expect(repository.reads - reads).toBe(2);
      expect(router.route('gemini-2.5-flash')?.platform).toBe('gemini');
    });
  });

  describe('change messages', () => {
    it('should reload when another instance announces a change', async () => {
      const other = new LocalCoordinator({ instanceId: 'b', store });
      repository.rows.push(record('r3', 'gemini-*', { platform: 'gemini', position: 30 }));
      const reloaded = nextReload(router);
      await other.publish(routingKeys.channels.modelRoutes, 'r3');
      await reloaded;
      expect(router.route('gemini-2.5-flash')?.routeId).toBe('r3');
      await other.close();
    });

    it('should stop listening once destroyed', async () => {
      await router.onModuleDestroy();
      const reads = repository.reads;
      await coordinator.publish(routingKeys.channels.modelRoutes, '*');
      await new Promise((resolve) => setImmediate(resolve));
      expect(repository.reads).toBe(reads);
    });
  });

  describe('safety reload', () => {
    it('should pick up a change that was never announced', async () => {
      jest.useFakeTimers();
      const quiet = new ModelRouter(repository as unknown as ModelRoutesRepository, coordinator, {
        safetyReloadMs: 60_000,
      });
      try {
        await quiet.onModuleInit();
        repository.rows.push(record('r3', 'gemini-*', { platform: 'gemini', position: 30 }));
        const reloaded = nextReload(quiet);
        await jest.advanceTimersByTimeAsync(60_000);
        await reloaded;
        expect(quiet.route('gemini-2.5-pro')?.platform).toBe('gemini');
      } finally {
        await quiet.onModuleDestroy();
        jest.useRealTimers();
      }
    });
  });
});
