import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { PRUNE_BATCH_ROWS } from 'src/infra/coordination/locked-prune';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AuditRecorder, toAuditRow } from 'src/modules/audit/audit-recorder.service';
import {
  AUDIT_RETENTION_LOCK,
  AuditRetentionService,
  auditRetentionHorizon,
} from 'src/modules/audit/audit-retention.service';
import { AuditRepository } from 'src/modules/audit/audit.repository';
import { AuditService } from 'src/modules/audit/audit.service';
import type { AuditEvent } from 'src/modules/audit/audit.types';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const DAY = 86_400_000;
const T0 = Date.UTC(2025, 0, 10, 12, 0, 0);
const ACTORS = ['alice', 'bob', 'cli'];
const ACTIONS = ['accounts.create', 'accounts.update', 'keys.rotate', 'auth.login', 'account_x.y'];

/** 90 events over 90 minutes, actors, actions and targets in a fixed rotation. */
function events(): AuditEvent[] {
  return Array.from({ length: 90 }, (_, i) => ({
    at: T0 + i * 60_000,
    actor: ACTORS[i % 3],
    source: '127.0.0.1',
    action: ACTIONS[i % 5],
    targetType: i % 2 === 0 ? 'accounts' : 'keys',
    targetId: `t${i % 4}`,
    outcome: i % 7 === 0 ? 'VALIDATION_FAILED' : 'success',
  }));
}

function config(extra: Record<string, string> = {}): ConfigService {
  return new ConfigService(
    loadEnvironment({ DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-audit-repo-')), ...extra }),
  );
}

function repositoryContract(open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let db: Db;
  let close: () => Promise<void>;
  let repository: AuditRepository;
  let service: AuditService;
  const all = events();

  beforeEach(async () => {
    ({ db, close } = await open());
    repository = new AuditRepository(db);
    await repository.insertMany(all.map((e) => toAuditRow(e)));
    service = new AuditService(repository);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await close();
  });

  function expected(keep: (e: AuditEvent, i: number) => boolean): number[] {
    return all
      .map((e, i) => [e, i] as const)
      .filter(([e, i]) => keep(e, i))
      .map(([e]) => e.at ?? 0)
      .sort((a, b) => b - a);
  }

  async function ats(query: Parameters<AuditService['list']>[0]): Promise<number[]> {
    const page = await service.list({ pageSize: 500, ...query });
    expect(page.total).toBe(page.items.length);
    return page.items.map((item) => Date.parse(item.at));
  }

  it('should filter by actor, exact action, target and outcome, newest first', async () => {
    expect(await ats({ actor: 'bob' })).toEqual(expected((e) => e.actor === 'bob'));
    expect(await ats({ action: 'keys.rotate' })).toEqual(
      expected((e) => e.action === 'keys.rotate'),
    );
    expect(await ats({ targetType: 'keys', targetId: 't1' })).toEqual(
      expected((e) => e.targetType === 'keys' && e.targetId === 't1'),
    );
    expect(await ats({ outcome: 'failure' })).toEqual(expected((e) => e.outcome !== 'success'));
    expect(await ats({ outcome: 'success', actor: 'cli' })).toEqual(
      expected((e) => e.outcome === 'success' && e.actor === 'cli'),
    );
  });

  it('should take an action prefix ending in *, with _ and % meaning themselves', async () => {
    expect(await ats({ action: 'accounts.*' })).toEqual(
      expected((e) => e.action.startsWith('accounts.')),
    );
    // `_` would match any character in a raw LIKE: `account_x.y` must not match `accounts.`.
    expect(await ats({ action: 'account_*' })).toEqual(expected((e) => e.action === 'account_x.y'));
    expect(await ats({ action: '%*' })).toEqual([]);
  });

  it('should filter a half-open time range', async () => {
    const from = T0 + 10 * 60_000;
    const to = T0 + 20 * 60_000;
    expect(await ats({ from, to })).toEqual(expected((e) => e.at! >= from && e.at! < to));
    await expect(service.list({ from: to, to: from })).rejects.toMatchObject({
      code: 'INVALID_RANGE',
    });
  });

  it('should page by page and pageSize, in either order, with the total', async () => {
    const first = await service.list({ actor: 'alice', page: 1, pageSize: 7 });
    const second = await service.list({ actor: 'alice', page: 2, pageSize: 7 });
    const alice = expected((e) => e.actor === 'alice');
    expect(first.total).toBe(alice.length);
    expect([...first.items, ...second.items].map((i) => Date.parse(i.at))).toEqual(
      alice.slice(0, 14),
    );
    const asc = await service.list({ actor: 'alice', order: 'asc', pageSize: 3 });
    expect(asc.items.map((i) => Date.parse(i.at))).toEqual([...alice].reverse().slice(0, 3));
  });

  it('should export every match in keyset chunks, rows sharing a time included', async () => {
    // 1,100 more rows in one millisecond: chunks of 500 must neither skip nor repeat any.
    const burst = Array.from({ length: 1100 }, (_, i) =>
      toAuditRow({
        at: T0 - DAY,
        actor: 'burst',
        source: 'x',
        action: `b.${i}`,
        outcome: 'success',
      }),
    );
    for (let i = 0; i < burst.length; i += 250)
      await repository.insertMany(burst.slice(i, i + 250));
    let csv = '';
    for await (const chunk of service.exportCsv({ actor: 'burst' })) csv += chunk;
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + 1100);
    const ids = lines.slice(1).map((line) => line.split(',')[0]);
    expect(new Set(ids).size).toBe(1100);
    expect(ids).toEqual(burst.map((r) => r.id).reverse());
  });

  it('should delete only rows before the horizon, in batches', async () => {
    const old = Array.from({ length: PRUNE_BATCH_ROWS + 17 }, () =>
      toAuditRow({
        at: T0 - 400 * DAY,
        actor: 'old',
        source: 'x',
        action: 'a.b',
        outcome: 'success',
      }),
    );
    for (let i = 0; i < old.length; i += 500) await repository.insertMany(old.slice(i, i + 500));
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
    const store = new LocalCoordinatorStore();
    const coordinator = new LocalCoordinator({ instanceId: 'a', store });
    const retention = new AuditRetentionService(
      new FixedRuntimeSettings(config({ AUDIT_RETENTION_DAYS: '365' }).env),
      new MetricsService(),
      repository,
      coordinator,
    );
    const other = new LocalCoordinator({ instanceId: 'b', store });
    const held = await other.acquireLock(AUDIT_RETENTION_LOCK, 60_000);
    expect(await retention.prune(T0)).toBeNull();
    await other.releaseLock(held!);
    expect(await retention.prune(T0)).toBe(old.length);
    expect(auditRetentionHorizon(T0, 365)).toBeGreaterThan(T0 - 400 * DAY);
    expect((await service.list({ actor: 'old' })).total).toBe(0);
    expect((await service.list({})).total).toBe(all.length);
    await other.close();
    await coordinator.close();
  });
}

describe('AuditRepository on SQLite', () => {
  repositoryContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-audit-db-'));
    const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    return { db, close: () => db.destroy() };
  });
});

describeWithPostgres('AuditRepository on PostgreSQL', (baseUrl) => {
  repositoryContract(async () => {
    const temp = await createTempPostgresDatabase(baseUrl);
    const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
    await migrateToLatest(db);
    return {
      db,
      close: async () => {
        await db.destroy();
        await temp.drop();
      },
    };
  });
});

describe(AuditRecorder.name, () => {
  let db: Db;
  let repository: AuditRepository;

  beforeEach(async () => {
    db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    repository = new AuditRepository(db);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await db.destroy();
  });

  const event = (i: number): AuditEvent => ({
    actor: 'alice',
    source: '127.0.0.1',
    action: `keys.n${i}`,
    outcome: 'success',
  });

  async function count(): Promise<number> {
    return (await new AuditService(repository).list({})).total;
  }

  it('should write every queued row at shutdown', async () => {
    const recorder = new AuditRecorder(config(), new MetricsService(), repository);
    for (let i = 0; i < 450; i++) recorder.record(event(i));
    await recorder.onApplicationShutdown();
    expect(await count()).toBe(450);
    expect(recorder.pending).toBe(0);
  });

  it('should keep rows queued while the database refuses, never throwing, and write them after', async () => {
    jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
    const recorder = new AuditRecorder(config(), new MetricsService(), repository);
    const insert = jest
      .spyOn(repository, 'insertMany')
      .mockRejectedValue(new Error('database is down'));
    expect(() => recorder.record(event(1))).not.toThrow();
    recorder.record(event(2));
    await expect(recorder.flush()).rejects.toThrow();
    expect(recorder.pending).toBe(2);
    insert.mockRestore();
    await recorder.flush();
    expect(await count()).toBe(2);
    await recorder.onApplicationShutdown();
  });

  it('should drop the one row the database refuses and keep the others', async () => {
    jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
    const recorder = new AuditRecorder(config(), new MetricsService(), repository);
    const real = repository.insertMany.bind(repository);
    jest.spyOn(repository, 'insertMany').mockImplementation(async (rows) => {
      if (rows.some((row) => row.action === 'keys.n3')) throw new Error('refused');
      return real(rows);
    });
    for (let i = 0; i < 6; i++) recorder.record(event(i));
    await recorder.flush();
    expect(await count()).toBe(5);
    await recorder.onApplicationShutdown();
  });
});
