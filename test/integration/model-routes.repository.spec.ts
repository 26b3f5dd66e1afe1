import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { ModelRouter } from 'src/modules/routing/model-router.service';
import {
  ModelRoutesRepository,
  type ModelRouteRecord,
} from 'src/modules/routing/model-routes.repository';
import { ModelRoutesService } from 'src/modules/routing/model-routes.service';
import { RoutingException, RoutingExceptionCode } from 'src/modules/routing/routing.exception';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const SEEDED = [
  ['claude-*', 'claude'],
  ['gpt-*', 'openai'],
  ['chatgpt-*', 'openai'],
  ['o1*', 'openai'],
  ['o3*', 'openai'],
  ['o4*', 'openai'],
  ['codex-*', 'openai'],
  ['gemini-*', 'gemini'],
];

function row(id: string, pattern: string, overrides: Partial<ModelRouteRecord> = {}) {
  return {
    id,
    pattern,
    platform: 'claude',
    target_model: null,
    position: 500,
    enabled: 1,
    note: null,
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
    ...overrides,
  } satisfies ModelRouteRecord;
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RoutingException);
  return (error as RoutingException).code;
}

/**
 * The same behaviour on every SQL engine. One database per suite (creating a PostgreSQL database
 * per test is slow, and contends on template1 with other suites creating theirs); each test starts
 * from the rows the migration seeded.
 */
function modelRoutesContract(openDb: () => Promise<Db>, closeDb: (db: Db) => Promise<void>): void {
  let db: Db;
  let seeded: ModelRouteRecord[];
  let repository: ModelRoutesRepository;
  let coordinator: LocalCoordinator;
  let router: ModelRouter;
  let service: ModelRoutesService;

  beforeAll(async () => {
    db = await openDb();
    seeded = await db.selectFrom('model_routes').selectAll().orderBy('position').execute();
  });

  afterAll(async () => {
    if (db !== undefined) await closeDb(db);
  });

  beforeEach(async () => {
    await db.deleteFrom('model_routes').execute();
    await db.insertInto('model_routes').values(seeded).execute();
    repository = new ModelRoutesRepository(db);
    coordinator = new LocalCoordinator({ instanceId: 'test' });
    router = new ModelRouter(repository, coordinator, { safetyReloadMs: 3_600_000 });
    await router.onModuleInit();
    service = new ModelRoutesService(repository, router, coordinator);
  });

  afterEach(async () => {
    await router.onModuleDestroy();
    await coordinator.close();
  });

  describe('ModelRoutesRepository', () => {
    it('should hold the default routes the migration seeded, in position order', async () => {
      const rows = await repository.listAll();
      expect(rows.map((r) => [r.pattern, r.platform])).toEqual(SEEDED);
      expect(rows.map((r) => r.position)).toEqual([10, 20, 30, 40, 50, 60, 70, 80]);
      for (const r of rows) {
        expect(r).toMatchObject({ target_model: null, enabled: 1 });
        expect(typeof r.created_at).toBe('number');
      }
      expect(await repository.maxPosition()).toBe(80);
    });

    it('should insert, find, update and delete a route with every column intact', async () => {
      const alias = row('0190a000-0000-7000-8000-000000000001', 'gpt-4o', {
        target_model: 'claude-sonnet-4-5',
        note: 'cheaper',
        position: 1_000_000,
      });
      await repository.insert(alias);
      expect(await repository.findById(alias.id)).toEqual(alias);
      expect(await repository.findByPattern('gpt-4o')).toEqual(alias);
      expect(await repository.maxPosition()).toBe(1_000_000);

      expect(
        await repository.update(alias.id, { enabled: 0, target_model: null, updated_at: 2 }),
      ).toBe(true);
      expect(await repository.findById(alias.id)).toEqual({
        ...alias,
        enabled: 0,
        target_model: null,
        updated_at: 2,
      });

      expect(await repository.delete(alias.id)).toBe(true);
      expect(await repository.delete(alias.id)).toBe(false);
      expect(await repository.update(alias.id, { updated_at: 3 })).toBe(false);
      expect(await repository.findById(alias.id)).toBeUndefined();
    });

    it('should refuse a second row with the same pattern', async () => {
      await repository.insert(row('0190a000-0000-7000-8000-000000000002', 'sonnet'));
      // Matched by message: better-sqlite3's error comes from the realm of the first suite that
      // loaded the native module, so toThrow() does not see it as an Error in later suites.
      await expect(
        repository.insert(row('0190a000-0000-7000-8000-000000000003', 'sonnet')),
      ).rejects.toHaveProperty(
        'message',
        expect.stringMatching(
          /UNIQUE constraint failed: model_routes\.pattern|model_routes_pattern_uq/,
        ),
      );
    });

    it('should answer null for the highest position of an empty table', async () => {
      for (const r of await repository.listAll()) await repository.delete(r.id);
      expect(await repository.maxPosition()).toBeNull();
    });
  });

  describe('ModelRoutesService', () => {
    it('should store a pattern lower-case and put a route without position after the others', async () => {
      const created = await service.create({ pattern: 'Mistral-*', platform: 'droid' });
      expect(created).toMatchObject({
        pattern: 'mistral-*',
        platform: 'droid',
        targetModel: null,
        position: 90,
        enabled: true,
        note: null,
      });
      expect(router.route('MISTRAL-large')?.routeId).toBe(created.id);
    });

    it('should answer ROUTE_PATTERN_TAKEN for a pattern another route has, ignoring case', async () => {
      expect(await codeOf(service.create({ pattern: 'CLAUDE-*', platform: 'droid' }))).toBe(
        RoutingExceptionCode.ROUTE_PATTERN_TAKEN,
      );
      const other = await service.create({ pattern: 'sonnet', platform: 'claude' });
      expect(await codeOf(service.update(other.id, { pattern: 'Gemini-*' }))).toBe(
        RoutingExceptionCode.ROUTE_PATTERN_TAKEN,
      );
      // Renaming a route to its own pattern is no conflict.
      await expect(service.update(other.id, { pattern: 'SONNET' })).resolves.toMatchObject({
        pattern: 'sonnet',
      });
    });

    it('should answer ROUTE_NOT_FOUND for a route that does not exist', async () => {
      const missing = '0190a000-0000-7000-8000-00000000ffff';
      expect(await codeOf(service.get(missing))).toBe(RoutingExceptionCode.ROUTE_NOT_FOUND);
      expect(await codeOf(service.update(missing, { enabled: false }))).toBe(
        RoutingExceptionCode.ROUTE_NOT_FOUND,
      );
      expect(await codeOf(service.delete(missing))).toBe(RoutingExceptionCode.ROUTE_NOT_FOUND);
    });
  });
}

describe('model routes on SQLite', () => {
  modelRoutesContract(
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-model-routes-'));
      const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
      await migrateToLatest(db);
      return db;
    },
    (db) => db.destroy(),
  );
});

describeWithPostgres('model routes on PostgreSQL', (baseUrl) => {
  let temp: TempDatabase;

  modelRoutesContract(
    async () => {
      temp = await createTempPostgresDatabase(baseUrl);
      const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 2 });
      await migrateToLatest(db);
      return db;
    },
    async (db) => {
      await db.destroy();
      await temp.drop();
    },
  );
});
