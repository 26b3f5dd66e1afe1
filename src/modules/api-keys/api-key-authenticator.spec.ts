import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { ApiKeyHasher } from 'src/infra/crypto/api-key-hasher';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import type { ApiKeyRecord } from './api-key.mapper';
import type { ApiKeysRepository } from './api-keys.repository';

const CACHE_TTL_MS = 60_000;
const NOW = Date.parse('2025-01-31T12:00:00.000Z');
const hasher = new ApiKeyHasher();

function record(secret: string, overrides: Partial<ApiKeyRecord> = {}): ApiKeyRecord {
  return {
    id: `id-${secret}`,
    name: secret,
    description: null,
    tags: '[]',
    owner: null,
    key_digest: hasher.digest(secret),
    key_hint: 'sk-sy-…xxxx',
    enabled: 1,
    expires_at: null,
    expires_after_days: null,
    first_used_at: NOW - 1000,
    last_used_at: null,
    permissions: '["claude"]',
    model_policy: null,
    allowed_clients: null,
    bindings: '{}',
    limits: '{}',
    price_multiplier: 1,
    reservation_policy: 'strict',
    user_id: null,
    deleted_at: null,
    created_at: NOW - 1000,
    updated_at: NOW - 1000,
    ...overrides,
  };
}

/** Rows by digest, changed by tests as an admin would change SQL. */
class FakeRepository {
  readonly rows = new Map<string, ApiKeyRecord>();
  readonly findByDigest = jest.fn(async (digest: string) => this.rows.get(digest));
  readonly recordUse = jest.fn(async () => undefined);

  put(row: ApiKeyRecord): void {
    this.rows.set(row.key_digest, row);
  }
}

function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe(ApiKeyAuthenticator.name, () => {
  let store: LocalCoordinatorStore;
  let repository: FakeRepository;
  let instances: { authenticator: ApiKeyAuthenticator; coordinator: LocalCoordinator }[];

  async function createInstance(id: string): Promise<ApiKeyAuthenticator> {
    const coordinator = new LocalCoordinator({ instanceId: id, store });
    const authenticator = new ApiKeyAuthenticator(
      repository as unknown as ApiKeysRepository,
      hasher,
      new ConfigService({ API_KEY_CACHE_TTL_MS: CACHE_TTL_MS } as EnvironmentSchema),
      coordinator,
    );
    await authenticator.onModuleInit();
    instances.push({ authenticator, coordinator });
    return authenticator;
  }

  beforeEach(() => {
    // Pub/sub delivers on a microtask and setImmediate lets it run: keep both real.
    jest.useFakeTimers({ doNotFake: ['queueMicrotask', 'nextTick', 'setImmediate'] });
    jest.setSystemTime(NOW);
    store = new LocalCoordinatorStore();
    repository = new FakeRepository();
    instances = [];
  });

  afterEach(async () => {
    for (const { authenticator, coordinator } of instances) {
      await authenticator.onApplicationShutdown();
      await coordinator.close();
    }
    jest.useRealTimers();
  });

  describe('authenticate', () => {
    it('should return the policy and serve it from memory when asked again', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));

      const first = await authenticator.authenticate('sk-sy-one');
      const second = await authenticator.authenticate('sk-sy-one');

      expect(first).toMatchObject({ id: 'id-sk-sy-one', enabled: true, permissions: ['claude'] });
      expect(second).toBe(first);
      expect(repository.findByDigest).toHaveBeenCalledTimes(1);
      expect(Object.isFrozen(first)).toBe(true);
    });

    it('should read SQL again when the cache TTL has passed', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      await authenticator.authenticate('sk-sy-one');

      jest.advanceTimersByTime(CACHE_TTL_MS);
      await authenticator.authenticate('sk-sy-one');

      expect(repository.findByDigest).toHaveBeenCalledTimes(2);
    });

    it('should remember an unknown key for a few seconds when no key has the secret', async () => {
      const authenticator = await createInstance('a');

      expect(await authenticator.authenticate('sk-sy-nope')).toBeNull();
      expect(await authenticator.authenticate('sk-sy-nope')).toBeNull();
      expect(repository.findByDigest).toHaveBeenCalledTimes(1);

      jest.advanceTimersByTime(5_000);
      expect(await authenticator.authenticate('sk-sy-nope')).toBeNull();
      expect(repository.findByDigest).toHaveBeenCalledTimes(2);
    });

    it('should run one SQL lookup when many requests miss together', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));

      const results = await Promise.all(
        Array.from({ length: 20 }, () => authenticator.authenticate('sk-sy-one')),
      );

      expect(new Set(results.map((r) => r?.id))).toEqual(new Set(['id-sk-sy-one']));
      expect(repository.findByDigest).toHaveBeenCalledTimes(1);
    });

    it('should return disabled and deleted keys so the caller can tell them from unknown ones', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-off', { enabled: 0 }));
      repository.put(record('sk-sy-gone', { deleted_at: NOW - 1 }));

      expect(await authenticator.authenticate('sk-sy-off')).toMatchObject({ enabled: false });
      expect(await authenticator.authenticate('sk-sy-gone')).toMatchObject({ deleted: true });
    });

    it('should refuse without SQL when the secret is empty or absurdly long', async () => {
      const authenticator = await createInstance('a');

      expect(await authenticator.authenticate('')).toBeNull();
      expect(await authenticator.authenticate('x'.repeat(10_000))).toBeNull();
      expect(repository.findByDigest).not.toHaveBeenCalled();
    });

    it('should keep at most 10000 keys when more are used', async () => {
      const authenticator = await createInstance('a');
      for (let i = 0; i <= 10_000; i += 1) repository.put(record(`sk-sy-${i}`));

      for (let i = 0; i <= 10_000; i += 1) await authenticator.authenticate(`sk-sy-${i}`);

      expect(authenticator.size).toBe(10_000);
      // The least recently used one went first.
      repository.findByDigest.mockClear();
      await authenticator.authenticate('sk-sy-0');
      expect(repository.findByDigest).toHaveBeenCalledTimes(1);
    });
  });

  describe('when SQL is unreachable', () => {
    it('should keep serving a cached key past its TTL until SQL answers again', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      const first = await authenticator.authenticate('sk-sy-one');
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      repository.findByDigest.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));

      jest.advanceTimersByTime(CACHE_TTL_MS);
      const during = await authenticator.authenticate('sk-sy-one');
      const after = await authenticator.authenticate('sk-sy-one');

      expect(during).toEqual(first);
      expect(after).toMatchObject({ id: 'id-sk-sy-one' });
      expect(repository.findByDigest).toHaveBeenCalledTimes(3);
      expect(warn).toHaveBeenCalledTimes(1);
      warn.mockRestore();
    });

    it('should answer 503 for a key this instance has not cached', async () => {
      const authenticator = await createInstance('a');
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      repository.findByDigest.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));

      const refused = await authenticator.authenticate('sk-sy-one').catch((e: unknown) => e);

      expect(refused).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE', status: 503 });
      expect(String((refused as Error).message)).not.toContain('ECONNREFUSED');
      warn.mockRestore();
    });

    it('should not serve an invalidated key from the stale copy', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      await authenticator.authenticate('sk-sy-one');
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      repository.findByDigest.mockRejectedValueOnce(new Error('connect ECONNREFUSED'));

      authenticator.invalidate('id-sk-sy-one');
      const refused = await authenticator.authenticate('sk-sy-one').catch((e: unknown) => e);

      expect(refused).toMatchObject({ code: 'KEY_STORE_UNAVAILABLE' });
      warn.mockRestore();
    });

    it('should forget a cached key that SQL no longer has', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      await authenticator.authenticate('sk-sy-one');
      repository.rows.clear();

      jest.advanceTimersByTime(CACHE_TTL_MS);
      expect(await authenticator.authenticate('sk-sy-one')).toBeNull();
      expect(authenticator.size).toBe(0);
    });
  });

  describe('invalidate', () => {
    it('should drop the key on every instance when one instance publishes its id', async () => {
      const a = await createInstance('a');
      const b = await createInstance('b');
      repository.put(record('sk-sy-one'));
      await a.authenticate('sk-sy-one');
      await b.authenticate('sk-sy-one');

      // An admin disables the key through instance A.
      repository.put(record('sk-sy-one', { enabled: 0 }));
      await instances[0].coordinator.publish(
        coordinationKeys.channels.keyInvalidation,
        'id-sk-sy-one',
      );
      await flushMicrotasks();

      expect(await b.authenticate('sk-sy-one')).toMatchObject({ enabled: false });
      expect(await a.authenticate('sk-sy-one')).toMatchObject({ enabled: false });
    });

    it('should not cache a lookup that raced an invalidation', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      let release: () => void = () => undefined;
      repository.findByDigest.mockImplementationOnce(async (digest) => {
        const stale = repository.rows.get(digest);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return stale;
      });

      const pending = authenticator.authenticate('sk-sy-one');
      await flushMicrotasks();
      repository.put(record('sk-sy-one', { enabled: 0 }));
      authenticator.invalidate('id-sk-sy-one');
      release();

      expect(await pending).toMatchObject({ enabled: true });
      expect(await authenticator.authenticate('sk-sy-one')).toMatchObject({ enabled: false });
    });

    it('should stop serving the old secret at once when the key is rotated', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-old'));
      await authenticator.authenticate('sk-sy-old');

      repository.rows.clear();
      repository.put({ ...record('sk-sy-new'), id: 'id-sk-sy-old' });
      authenticator.invalidate('id-sk-sy-old');

      expect(await authenticator.authenticate('sk-sy-old')).toBeNull();
      expect(await authenticator.authenticate('sk-sy-new')).toMatchObject({ id: 'id-sk-sy-old' });
    });
  });

  describe('flushUsage', () => {
    it('should record the first use at once in memory and in SQL with the next flush', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one', { first_used_at: null, expires_after_days: 1 }));

      const first = await authenticator.authenticate('sk-sy-one');
      jest.advanceTimersByTime(1000);
      const again = await authenticator.authenticate('sk-sy-one');

      expect(first?.firstUsedAt).toBe(NOW);
      expect(again?.firstUsedAt).toBe(NOW);
      expect(repository.recordUse).not.toHaveBeenCalled();

      await jest.advanceTimersByTimeAsync(5_000);

      expect(repository.recordUse).toHaveBeenCalledTimes(1);
      expect(repository.recordUse).toHaveBeenCalledWith([
        { id: 'id-sk-sy-one', firstUsedAt: NOW, lastUsedAt: NOW },
      ]);
    });

    it('should write last use at most once a minute per key when a key is busy', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));

      for (let i = 0; i < 100; i += 1) {
        await authenticator.authenticate('sk-sy-one');
        jest.advanceTimersByTime(1000);
      }
      await authenticator.flushUsage();

      const writes = repository.recordUse.mock.calls.flatMap((call: unknown[]) => call[0] as []);
      expect(writes).toHaveLength(2);
    });

    it('should not record use when the key is disabled', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-off', { enabled: 0, first_used_at: null }));

      await authenticator.authenticate('sk-sy-off');
      await authenticator.flushUsage();

      expect(repository.recordUse).not.toHaveBeenCalled();
    });

    it('should keep the uses for the next flush when the write fails', async () => {
      const authenticator = await createInstance('a');
      repository.put(record('sk-sy-one'));
      repository.recordUse.mockRejectedValueOnce(new Error('database locked'));
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);

      await authenticator.authenticate('sk-sy-one');
      await authenticator.flushUsage();
      await authenticator.flushUsage();

      expect(repository.recordUse).toHaveBeenCalledTimes(2);
      expect(repository.recordUse).toHaveBeenLastCalledWith([
        { id: 'id-sk-sy-one', firstUsedAt: null, lastUsedAt: NOW },
      ]);
      expect(warn).toHaveBeenCalledTimes(1);
      warn.mockRestore();
    });
  });
});
