import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigService } from 'src/config/config.service';
import { loadEnvironment } from 'src/config/config.loader';
import { appLogger } from 'src/common/logging/app-logger';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { SettingsException, SettingsExceptionCode } from 'src/modules/settings/settings.exception';
import { SettingsRepository } from 'src/modules/settings/settings.repository';
import { SettingsService } from 'src/modules/settings/settings.service';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

async function rejectionOf(promise: Promise<unknown>): Promise<SettingsException> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SettingsException);
  return error as SettingsException;
}

/** The same behaviour on every SQL engine; each test starts from an empty table. */
function settingsContract(openDb: () => Promise<Db>, closeDb: (db: Db) => Promise<void>): void {
  let db: Db;
  let repository: SettingsRepository;
  let coordinator: LocalCoordinator;
  let service: SettingsService;
  const config = new ConfigService(
    loadEnvironment({ RELAY_MAX_ATTEMPTS: '3', API_KEY_DEFAULT_LIMITS: '{"concurrency":2}' }),
  );

  beforeAll(async () => {
    db = await openDb();
  });

  afterAll(async () => {
    if (db !== undefined) await closeDb(db);
  });

  beforeEach(async () => {
    await db.deleteFrom('settings').execute();
    repository = new SettingsRepository(db);
    coordinator = new LocalCoordinator({ instanceId: 'test' });
    service = new SettingsService(repository, config, coordinator, {
      safetyReloadMs: 3_600_000,
    });
    await service.onModuleInit();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await service.onModuleDestroy();
    await coordinator.close();
  });

  describe(SettingsRepository.name, () => {
    it('should upsert, list only the keys asked for, and remove rows in one call', async () => {
      await db
        .insertInto('settings')
        .values({ key: 'other.feature', value: 'x', updated_at: 1 })
        .execute();
      await repository.apply(
        [
          { key: 'relayMaxAttempts', value: '5', updated_at: 10 },
          { key: 'stickyContentHash', value: 'true', updated_at: 10 },
        ],
        [],
      );
      await repository.apply(
        [{ key: 'relayMaxAttempts', value: '6', updated_at: 20 }],
        ['stickyContentHash'],
      );
      expect(await repository.list(['relayMaxAttempts', 'stickyContentHash'])).toEqual([
        { key: 'relayMaxAttempts', value: '6', updated_at: 20 },
      ]);
      expect(await repository.list([])).toEqual([]);
      // A row of another feature sharing the table is left alone.
      expect(
        await db.selectFrom('settings').select('key').where('key', '=', 'other.feature').execute(),
      ).toHaveLength(1);
    });

    it('should store none of a change when one of its writes fails', async () => {
      await repository.apply([{ key: 'relayMaxAttempts', value: '5', updated_at: 10 }], []);
      const failed = await repository
        .apply(
          [
            { key: 'stickySessionTtlSeconds', value: '60', updated_at: 20 },
            // NOT NULL: the engine refuses this row after the first was written.
            { key: 'relayMaxAttempts', value: null as unknown as string, updated_at: 20 },
          ],
          [],
        )
        .then(
          () => 'stored',
          () => 'failed',
        );
      expect(failed).toBe('failed');
      expect(await repository.list(['relayMaxAttempts', 'stickySessionTtlSeconds'])).toEqual([
        { key: 'relayMaxAttempts', value: '5', updated_at: 10 },
      ]);
    });
  });

  describe(SettingsService.name, () => {
    it('should answer the environment defaults when nothing is stored', () => {
      expect(service.get('relayMaxAttempts')).toBe(3);
      expect(service.get('apiKeyDefaultLimits')).toEqual({ concurrency: 2 });
      expect(service.show('relayMaxAttempts')).toEqual({
        key: 'relayMaxAttempts',
        type: 'integer',
        value: 3,
        default: 3,
        source: 'env',
        envVariable: 'RELAY_MAX_ATTEMPTS',
        description: expect.stringContaining('Accounts tried per request'),
        bounds: { min: 1, max: 10 },
        unit: 'accounts',
        updatedAt: null,
      });
      expect(service.list().items.map((s) => s.key)).toContain('auditRetentionDays');
    });

    it('should store several values, apply them at once and say what each was', async () => {
      const result = await service.update({
        relayMaxAttempts: 6,
        apiKeyDefaultLimits: { concurrency: 8, dailyCostMicros: 1_000_000 },
        stickyContentHash: false,
      });
      expect(service.get('relayMaxAttempts')).toBe(6);
      expect(service.get('apiKeyDefaultLimits')).toEqual({
        concurrency: 8,
        dailyCostMicros: 1_000_000,
      });
      expect(result.changes).toEqual([
        {
          key: 'relayMaxAttempts',
          previous: 3,
          previousSource: 'env',
          value: 6,
          source: 'database',
          changed: true,
        },
        {
          key: 'apiKeyDefaultLimits',
          previous: { concurrency: 2 },
          previousSource: 'env',
          value: { concurrency: 8, dailyCostMicros: 1_000_000 },
          source: 'database',
          changed: true,
        },
        // The default's value, now pinned in the database: a change of source.
        {
          key: 'stickyContentHash',
          previous: false,
          previousSource: 'env',
          value: false,
          source: 'database',
          changed: true,
        },
      ]);
      expect(result.items.find((s) => s.key === 'relayMaxAttempts')).toMatchObject({
        value: 6,
        default: 3,
        source: 'database',
      });
      expect(result.items.find((s) => s.key === 'relayMaxAttempts')?.updatedAt).toMatch(/^\d{4}-/);
      const again = await service.update({ relayMaxAttempts: 6 });
      expect(again.changes[0].changed).toBe(false);
    });

    it('should refuse the whole change when one value is bad, naming every bad key', async () => {
      await service.update({ relayMaxAttempts: 4 });
      const error = await rejectionOf(
        service.update({
          relayMaxAttempts: 5,
          stickySessionTtlSeconds: 0,
          nope: 1,
          apiKeyDefaultLimits: { windowRequests: 5 },
        }),
      );
      expect(error.code).toBe(SettingsExceptionCode.SETTINGS_INVALID);
      expect(error.status).toBe(400);
      expect(error.details).toEqual({
        errors: {
          stickySessionTtlSeconds: 'must be a whole number from 1 to 2592000',
          nope: 'is not a runtime setting',
          apiKeyDefaultLimits: 'windowRequests needs windowMinutes',
        },
      });
      expect(service.get('relayMaxAttempts')).toBe(4);
      expect(await repository.list(['relayMaxAttempts', 'stickySessionTtlSeconds'])).toEqual([
        { key: 'relayMaxAttempts', value: '4', updated_at: expect.any(Number) },
      ]);
      expect((await rejectionOf(service.update({}))).code).toBe(
        SettingsExceptionCode.SETTINGS_INVALID,
      );
    });

    it('should return a setting to its environment default on reset or null', async () => {
      await service.update({ relayMaxAttempts: 9, requestLogRetentionDays: 7 });
      const reset = await service.reset('relayMaxAttempts');
      expect(reset.changes).toEqual([
        expect.objectContaining({ previous: 9, value: 3, source: 'env', changed: true }),
      ]);
      expect(service.get('relayMaxAttempts')).toBe(3);
      await service.update({ requestLogRetentionDays: null });
      expect(service.show('requestLogRetentionDays')).toMatchObject({ value: 90, source: 'env' });
      expect(await repository.list(['relayMaxAttempts', 'requestLogRetentionDays'])).toEqual([]);
      expect((await rejectionOf(service.reset('nope'))).code).toBe(
        SettingsExceptionCode.SETTING_NOT_FOUND,
      );
    });

    it('should ignore a stored value that fails its check, for the default, and log it', async () => {
      const logged = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      await db
        .insertInto('settings')
        .values([
          { key: 'relayMaxAttempts', value: '99', updated_at: 1 },
          { key: 'stickyContentHash', value: 'not json', updated_at: 1 },
          { key: 'stickySessionTtlSeconds', value: '120', updated_at: 1 },
        ])
        .execute();
      await service.reload();
      expect(service.get('relayMaxAttempts')).toBe(3);
      expect(service.show('relayMaxAttempts').source).toBe('env');
      expect(service.get('stickyContentHash')).toBe(false);
      expect(service.get('stickySessionTtlSeconds')).toBe(120);
      expect(logged.mock.calls.map(([fields]) => (fields as { setting: string }).setting)).toEqual([
        'relayMaxAttempts',
        'stickyContentHash',
      ]);
    });

    it('should start with the stored values of an earlier process', async () => {
      await service.update({ relayMaxAttempts: 7 });
      const next = new SettingsService(repository, config, coordinator, {
        safetyReloadMs: 3_600_000,
      });
      expect(next.get('relayMaxAttempts')).toBe(3);
      await next.onModuleInit();
      try {
        expect(next.get('relayMaxAttempts')).toBe(7);
      } finally {
        await next.onModuleDestroy();
      }
    });
  });
}

describe('runtime settings on SQLite', () => {
  settingsContract(
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-settings-'));
      const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
      await migrateToLatest(db);
      return db;
    },
    (db) => db.destroy(),
  );
});

describeWithPostgres('runtime settings on PostgreSQL', (baseUrl) => {
  let temp: TempDatabase;

  settingsContract(
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
