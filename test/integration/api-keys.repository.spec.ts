import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import { ApiKeyHasher } from 'src/infra/crypto/api-key-hasher';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { checkKey } from 'src/modules/api-keys/api-key-policy';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { ApiKeyAdminCode, ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { ApiKeysRepository } from 'src/modules/api-keys/api-keys.repository';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import type { CreateApiKeyRequestDto } from 'src/modules/api-keys/dto/create-api-key.dto';
import { ListApiKeysQueryDto } from 'src/modules/api-keys/dto/list-api-keys.dto';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const DAY = 86_400_000;

interface Harness {
  db: Db;
  repository: ApiKeysRepository;
  service: ApiKeysService;
  authenticator: ApiKeyAuthenticator;
  published: string[];
}

function query(overrides: Partial<ListApiKeysQueryDto> = {}): ListApiKeysQueryDto {
  return Object.assign(new ListApiKeysQueryDto(), overrides);
}

function input(
  name: string,
  overrides: Partial<CreateApiKeyRequestDto> = {},
): CreateApiKeyRequestDto {
  return { name, ...overrides };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApiKeyException);
  expect((error as ApiKeyException).code).toBe(code);
}

/** The same behaviour on every SQL engine. */
function apiKeysContract(openDb: () => Promise<Db>, closeDb: (db: Db) => Promise<void>): void {
  let h: Harness;
  let coordinator: LocalCoordinator;

  beforeEach(async () => {
    const db = await openDb();
    coordinator = new LocalCoordinator({ instanceId: 'test' });
    const config = new ConfigService({
      API_KEY_PREFIX: 'sk-sy-',
      API_KEY_CACHE_TTL_MS: 60_000,
      LEASE_TTL_MS: 60_000,
    } as EnvironmentSchema);
    const hasher = new ApiKeyHasher();
    const repository = new ApiKeysRepository(db);
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
    const published: string[] = [];
    await coordinator.subscribe(coordinationKeys.channels.keyInvalidation, (id) =>
      published.push(id),
    );
    h = { db, repository, service, authenticator, published };
  });

  afterEach(async () => {
    await h.authenticator.onApplicationShutdown();
    await coordinator.close();
    await closeDb(h.db);
  });

  describe('create', () => {
    it('should return the secret once and store only its digest when a key is created', async () => {
      const created = await h.service.create(input('alpha', { owner: 'team-a', tags: ['x'] }));

      expect(created.secret).toMatch(/^sk-sy-[0-9A-Za-z]{40}$/);
      expect(created.keyHint).toBe(`sk-sy-…${created.secret.slice(-4)}`);
      expect(created).toMatchObject({
        name: 'alpha',
        owner: 'team-a',
        tags: ['x'],
        enabled: true,
        status: 'active',
        permissions: ['claude', 'gemini', 'openai', 'droid'],
        limits: {},
        priceMultiplier: 1,
      });
      expect(JSON.stringify(created)).not.toContain(new ApiKeyHasher().digest(created.secret));

      const row = await h.db
        .selectFrom('api_keys')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow();
      expect(row.key_digest).toBe(new ApiKeyHasher().digest(created.secret));
      expect(Object.values(row)).not.toContain(created.secret);
      const shown = await h.service.get(created.id);
      expect(shown).not.toHaveProperty('secret');
      expect(shown).not.toHaveProperty('keyDigest');
    });

    it('should store the whole policy when every field is given', async () => {
      const created = await h.service.create(
        input('full', {
          description: 'for CI',
          expiresAfterDays: 30,
          permissions: ['openai', 'claude'],
          modelPolicy: { mode: 'deny', patterns: ['claude-opus-*'] },
          allowedClients: ['claude-code'],
          bindings: { claude: { groupId: 'g1' }, openai: { accountId: 'a1' } },
          limits: { windowMinutes: 5, windowRequests: 10, concurrency: 2, dailyCostMicros: 5 },
          priceMultiplier: 1.5,
          reservationPolicy: 'estimate',
        }),
      );

      const policy = await h.service.getPolicy(created.id);
      expect(policy).toEqual({
        id: created.id,
        name: 'full',
        enabled: true,
        deleted: false,
        expiresAt: null,
        expiresAfterDays: 30,
        firstUsedAt: null,
        permissions: ['claude', 'openai'],
        modelPolicy: { mode: 'deny', patterns: ['claude-opus-*'] },
        allowedClients: ['claude-code'],
        bindings: { claude: { groupId: 'g1' }, openai: { accountId: 'a1' } },
        limits: { windowMinutes: 5, windowRequests: 10, concurrency: 2, dailyCostMicros: 5 },
        priceMultiplier: 1.5,
        reservationPolicy: 'estimate',
        userId: null,
        userDisabled: false,
      });
    });

    it('should refuse contradictions when the policy is inconsistent', async () => {
      await expectCode(
        h.service.create(input('x', { expiresAt: '2030-01-01T00:00:00Z', expiresAfterDays: 3 })),
        ApiKeyAdminCode.INVALID_KEY_POLICY,
      );
      await expectCode(
        h.service.create(input('x', { limits: { windowRequests: 5 } })),
        ApiKeyAdminCode.INVALID_KEY_POLICY,
      );
      await expectCode(
        h.service.create(input('x', { bindings: { claude: { accountId: 'a', groupId: 'g' } } })),
        ApiKeyAdminCode.INVALID_KEY_POLICY,
      );
      expect((await h.service.list(query())).total).toBe(0);
    });

    it('should create N keys named from the pattern when a batch is created', async () => {
      const created = await h.service.createBatch({
        count: 12,
        namePattern: 'ci-{n}',
        owner: 'ci',
      });

      expect(created.map((k) => k.name)).toEqual(
        Array.from({ length: 12 }, (_, i) => `ci-${String(i + 1).padStart(2, '0')}`),
      );
      expect(new Set(created.map((k) => k.secret)).size).toBe(12);
      expect((await h.service.list(query({ owner: 'ci' }))).total).toBe(12);
      for (const key of created.slice(0, 3)) {
        expect((await h.authenticator.authenticate(key.secret))?.id).toBe(key.id);
      }
    });

    it('should append the number when the pattern has no placeholder', async () => {
      const created = await h.service.createBatch({ count: 2, namePattern: 'dev' });

      expect(created.map((k) => k.name)).toEqual(['dev-1', 'dev-2']);
    });
  });

  describe('list', () => {
    beforeEach(async () => {
      const t0 = Date.now();
      await h.service.create(input('Bravo', { owner: 'ops', tags: ['prod', 'eu'] }));
      await h.service.create(
        input('alpha', { description: 'Has 100% coverage', tags: ['prod_x'] }),
      );
      await h.service.create(input('charlie', { owner: 'Dev_Team', enabled: false }));
      const deleted = await h.service.create(input('delta', { tags: ['prod'] }));
      await h.service.remove(deleted.id);
      const echo = await h.service.create(
        input('echo', { expiresAt: new Date(t0 + 3 * DAY).toISOString() }),
      );
      const foxtrot = await h.service.create(input('foxtrot', { expiresAfterDays: 1 }));
      // foxtrot's relative expiry starts with its first use: one day from t0, before echo's.
      await h.repository.recordUse([
        { id: foxtrot.id, firstUsedAt: t0, lastUsedAt: t0 },
        { id: echo.id, firstUsedAt: t0 - 5000, lastUsedAt: t0 + 5000 },
      ]);
    });

    it('should page in SQL and report the total when there are more keys than a page', async () => {
      const first = await h.service.list(query({ pageSize: 2, sortBy: 'name', sortOrder: 'asc' }));
      const third = await h.service.list(
        query({ page: 3, pageSize: 2, sortBy: 'name', sortOrder: 'asc' }),
      );

      expect(first).toMatchObject({ total: 5, page: 1, pageSize: 2 });
      expect(first.items.map((k) => k.name)).toEqual(['alpha', 'Bravo']);
      expect(third.items.map((k) => k.name)).toEqual(['foxtrot']);
      expect((await h.service.list(query({ page: 9 }))).items).toEqual([]);
    });

    it('should sort names case-insensitively in both directions', async () => {
      const desc = await h.service.list(query({ sortBy: 'name', sortOrder: 'desc' }));

      expect(desc.items.map((k) => k.name)).toEqual([
        'foxtrot',
        'echo',
        'charlie',
        'Bravo',
        'alpha',
      ]);
    });

    it('should search name, description and owner case-insensitively and literally', async () => {
      const names = async (search: string): Promise<string[]> =>
        (await h.service.list(query({ search, sortBy: 'name', sortOrder: 'asc' }))).items.map(
          (k) => k.name,
        );

      expect(await names('BRAV')).toEqual(['Bravo']);
      expect(await names('100%')).toEqual(['alpha']);
      expect(await names('%')).toEqual(['alpha']);
      expect(await names('dev_')).toEqual(['charlie']);
      expect(await names('_')).toEqual(['charlie']);
      expect(await names('OPS')).toEqual(['Bravo']);
    });

    it('should match whole tags only when filtering by tag', async () => {
      const prod = await h.service.list(query({ tag: 'prod' }));
      const prodX = await h.service.list(query({ tag: 'prod_x' }));

      expect(prod.items.map((k) => k.name)).toEqual(['Bravo']);
      expect(prodX.items.map((k) => k.name)).toEqual(['alpha']);
      expect((await h.service.list(query({ tag: 'pro' }))).total).toBe(0);
    });

    it('should filter by enabled, owner and deleted when asked', async () => {
      expect((await h.service.list(query({ enabled: false }))).items.map((k) => k.name)).toEqual([
        'charlie',
      ]);
      expect((await h.service.list(query({ owner: 'ops' }))).items.map((k) => k.name)).toEqual([
        'Bravo',
      ]);
      const only = await h.service.list(query({ deleted: 'only' }));
      expect(only.items.map((k) => [k.name, k.status])).toEqual([['delta', 'deleted']]);
      expect((await h.service.list(query({ deleted: 'include' }))).total).toBe(6);
      expect((await h.service.list(query({ tag: 'prod', deleted: 'include' }))).total).toBe(2);
    });

    it('should sort by effective expiry with keys that never expire last', async () => {
      const asc = await h.service.list(query({ sortBy: 'expiresAt', sortOrder: 'asc' }));
      const desc = await h.service.list(query({ sortBy: 'expiresAt', sortOrder: 'desc' }));

      expect(asc.items.slice(0, 2).map((k) => k.name)).toEqual(['foxtrot', 'echo']);
      expect(desc.items.slice(0, 2).map((k) => k.name)).toEqual(['echo', 'foxtrot']);
      expect(asc.items.find((k) => k.name === 'foxtrot')?.effectiveExpiresAt).not.toBeNull();
    });

    it('should sort by last use with never-used keys last in both directions', async () => {
      const asc = await h.service.list(query({ sortBy: 'lastUsedAt', sortOrder: 'asc' }));
      const desc = await h.service.list(query({ sortBy: 'lastUsedAt', sortOrder: 'desc' }));

      expect(asc.items.slice(0, 2).map((k) => k.name)).toEqual(['foxtrot', 'echo']);
      expect(desc.items.slice(0, 2).map((k) => k.name)).toEqual(['echo', 'foxtrot']);
      expect(asc.items[4].lastUsedAt).toBeNull();
    });
  });

  describe('update', () => {
    it('should change only the given fields and merge limits and bindings', async () => {
      const key = await h.service.create(
        input('k', {
          description: 'old',
          owner: 'me',
          limits: { windowMinutes: 1, windowRequests: 5, dailyCostMicros: 100 },
          bindings: { claude: { accountId: 'a1' }, gemini: { groupId: 'g1' } },
        }),
      );

      const updated = await h.service.update(key.id, {
        description: null,
        limits: { windowRequests: null, windowMinutes: null, totalCostMicros: 7 },
        bindings: { claude: null, openai: { groupId: 'g2' } },
      });

      expect(updated).toMatchObject({
        name: 'k',
        owner: 'me',
        description: null,
        limits: { dailyCostMicros: 100, totalCostMicros: 7 },
        bindings: { gemini: { groupId: 'g1' }, openai: { groupId: 'g2' } },
      });
      expect(updated.limits).not.toHaveProperty('windowRequests');
      expect(h.published).toContain(key.id);
    });

    it('should keep both changes when two updates race', async () => {
      const key = await h.service.create(input('k'));

      await Promise.all([
        h.service.update(key.id, { limits: { dailyCostMicros: 1 } }),
        h.service.update(key.id, { limits: { totalCostMicros: 2 } }),
        h.service.update(key.id, { tags: ['t'] }),
      ]);

      expect(await h.service.get(key.id)).toMatchObject({
        limits: { dailyCostMicros: 1, totalCostMicros: 2 },
        tags: ['t'],
      });
    });

    it('should refuse a second expiry until the first is cleared', async () => {
      const key = await h.service.create(input('k', { expiresAfterDays: 5 }));

      await expectCode(
        h.service.update(key.id, { expiresAt: '2031-01-01T00:00:00.000Z' }),
        ApiKeyAdminCode.INVALID_KEY_POLICY,
      );
      const updated = await h.service.update(key.id, {
        expiresAt: '2031-01-01T00:00:00.000Z',
        expiresAfterDays: null,
      });
      expect(updated).toMatchObject({
        expiresAt: '2031-01-01T00:00:00.000Z',
        expiresAfterDays: null,
        effectiveExpiresAt: '2031-01-01T00:00:00.000Z',
      });
    });

    it('should throw KEY_NOT_FOUND when the id is unknown', async () => {
      await expectCode(
        h.service.update('00000000-0000-4000-8000-000000000000', { name: 'x' }),
        ApiKeyAdminCode.KEY_NOT_FOUND,
      );
    });
  });

  describe('setEnabled', () => {
    it('should stop the key at once and publish its id when it is disabled', async () => {
      const key = await h.service.create(input('k'));
      expect(checkKey((await h.authenticator.authenticate(key.secret))!, Date.now())).toBeNull();

      const disabled = await h.service.setEnabled(key.id, false);

      expect(disabled.status).toBe('disabled');
      const policy = await h.authenticator.authenticate(key.secret);
      expect(checkKey(policy!, Date.now())?.code).toBe(KeyRejectionCode.KEY_DISABLED);
      expect((await h.service.setEnabled(key.id, true)).status).toBe('active');
      // Disable and enable are published; creation is not (no instance can hold a new key).
      expect(h.published.filter((id) => id === key.id)).toHaveLength(2);
    });
  });

  describe('rotate', () => {
    it('should issue a new secret and stop the old one at once', async () => {
      const key = await h.service.create(input('k'));
      await h.authenticator.authenticate(key.secret);

      const rotated = await h.service.rotate(key.id);

      expect(rotated.id).toBe(key.id);
      expect(rotated.secret).not.toBe(key.secret);
      expect(rotated.keyHint).toBe(`sk-sy-…${rotated.secret.slice(-4)}`);
      expect(await h.authenticator.authenticate(key.secret)).toBeNull();
      expect((await h.authenticator.authenticate(rotated.secret))?.id).toBe(key.id);
    });
  });

  describe('remove', () => {
    it('should soft-delete, refuse changes until restored, and restore the key', async () => {
      const key = await h.service.create(input('k'));

      const removed = await h.service.remove(key.id);
      const again = await h.service.remove(key.id);

      expect(removed.status).toBe('deleted');
      expect(again.deletedAt).toBe(removed.deletedAt);
      expect(checkKey((await h.authenticator.authenticate(key.secret))!, Date.now())?.code).toBe(
        KeyRejectionCode.INVALID_KEY,
      );
      await expectCode(h.service.rotate(key.id), ApiKeyAdminCode.KEY_DELETED);
      await expectCode(h.service.update(key.id, { name: 'n' }), ApiKeyAdminCode.KEY_DELETED);
      expect((await h.service.get(key.id)).status).toBe('deleted');

      const restored = await h.service.restore(key.id);
      expect(restored).toMatchObject({ status: 'active', deletedAt: null });
      expect(checkKey((await h.authenticator.authenticate(key.secret))!, Date.now())).toBeNull();
    });
  });

  describe('listWithBudgets', () => {
    it('should list the usable keys with a daily, weekly or total cost cap only', async () => {
      const daily = await h.service.create(input('daily', { limits: { dailyCostMicros: 5 } }));
      const total = await h.service.create(
        input('total', { limits: { totalCostMicros: 5, concurrency: 1 } }),
      );
      await h.service.create(
        input('window', { limits: { windowMinutes: 1, windowCostMicros: 5 } }),
      );
      await h.service.create(input('none', {}));
      const disabled = await h.service.create(
        input('off', { enabled: false, limits: { weeklyCostMicros: 5 } }),
      );

      const ids = (await h.repository.listWithBudgets()).map((r) => r.id).sort();

      expect(ids).toEqual([daily.id, total.id].sort());
      expect(ids).not.toContain(disabled.id);
    });
  });

  describe('recordUse', () => {
    it('should keep the earliest first use and never move last use backwards', async () => {
      const key = await h.service.create(input('k'));
      const t = Date.now();

      await h.repository.recordUse([{ id: key.id, firstUsedAt: t, lastUsedAt: t + 10 * DAY }]);
      await h.repository.recordUse([{ id: key.id, firstUsedAt: t - 1000, lastUsedAt: t }]);
      await h.repository.recordUse([{ id: key.id, firstUsedAt: t + 5000, lastUsedAt: t + 1 }]);

      const row = await h.repository.findById(key.id);
      expect(row?.first_used_at).toBe(t);
      expect(row?.last_used_at).toBe(t + 10 * DAY);
    });

    it('should start a relative expiry from the first authenticated use', async () => {
      const key = await h.service.create(input('k', { expiresAfterDays: 2 }));

      await h.authenticator.authenticate(key.secret);
      await h.authenticator.flushUsage();

      const shown = await h.service.get(key.id);
      expect(shown.firstUsedAt).not.toBeNull();
      expect(Date.parse(shown.effectiveExpiresAt!) - Date.parse(shown.firstUsedAt!)).toBe(2 * DAY);
    });
  });
}

describe(`${ApiKeysService.name} on SQLite`, () => {
  apiKeysContract(
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-keys-'));
      const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
      await migrateToLatest(db);
      return db;
    },
    (db) => db.destroy(),
  );
});

describeWithPostgres(`${ApiKeysService.name} on PostgreSQL`, (baseUrl) => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempPostgresDatabase(baseUrl);
    const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 1 });
    await migrateToLatest(db);
    await db.destroy();
  });
  afterAll(async () => {
    await temp?.drop();
  });

  apiKeysContract(
    async () => {
      const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
      await db.deleteFrom('api_keys').execute();
      return db;
    },
    (db) => db.destroy(),
  );
});
