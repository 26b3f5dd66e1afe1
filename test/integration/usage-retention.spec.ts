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
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { retentionHorizon } from 'src/modules/usage/usage-range';
import { UsageRetentionService } from 'src/modules/usage/usage-retention.service';
import { UsageStatsRepository } from 'src/modules/usage/usage-stats.repository';
import { UsageStatsService } from 'src/modules/usage/usage-stats.service';
import { UsageRepository } from 'src/modules/usage/usage.repository';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RETENTION_DAYS = 30;
const NOW = Date.now();
/** Rows before this UTC day start are past the retention. */
const HORIZON = retentionHorizon(NOW, RETENTION_DAYS);
const KEYS = ['key-a', 'key-b', null];
const MODELS = ['claude-sonnet-4', 'claude-opus-4-1'];

function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return Math.floor((state / 2_147_483_648) * n);
  };
}

/** Enough events for several prune batches, from five days before the horizon to two after. */
function events(count: number): UsageEvent[] {
  const pick = generator(11);
  return Array.from({ length: count }, (_, i) => ({
    requestId: `ret-${i}`,
    at: HORIZON - 5 * DAY + pick(7 * DAY),
    apiKeyId: KEYS[pick(KEYS.length)],
    accountId: 'acct-1',
    platform: 'claude',
    model: MODELS[pick(MODELS.length)],
    status: 200,
    outcome: pick(5) === 0 ? 'error' : 'ok',
    stream: false,
    usage: {
      inputTokens: pick(1000),
      outputTokens: pick(500),
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: pick(100),
    },
    costMicros: pick(10_000),
    priceKnown: true,
    latencyMs: 10,
    ttfbMs: null,
    attempts: 1,
    errorCode: null,
  }));
}

async function countBefore(db: Db, before: number): Promise<number> {
  const row = await db
    .selectFrom('request_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('at', '<', before)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function aggregates(db: Db): Promise<string> {
  const rows = await db.selectFrom('usage_aggregates').selectAll().execute();
  return JSON.stringify(
    rows.map((r) => Object.values(r).map((v) => String(Number(v) || v))).sort(),
  );
}

function retentionContract(open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let db: Db;
  let close: () => Promise<void>;
  let stats: UsageStatsService;
  let retention: UsageRetentionService;
  let coordinator: LocalCoordinator;
  let store: LocalCoordinatorStore;
  const all = events(3 * PRUNE_BATCH_ROWS + 123);

  beforeEach(async () => {
    ({ db, close } = await open());
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
    const config = new ConfigService(
      loadEnvironment({
        DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-retention-')),
        REQUEST_LOG_RETENTION_DAYS: String(RETENTION_DAYS),
      }),
    );
    const settings = new FixedRuntimeSettings(config.env);
    const repository = new UsageRepository(db);
    for (let i = 0; i < all.length; i += 1000) await repository.writeBatch(all.slice(i, i + 1000));
    stats = new UsageStatsService(new UsageStatsRepository(db), settings);
    store = new LocalCoordinatorStore();
    coordinator = new LocalCoordinator({ instanceId: 'a', store });
    retention = new UsageRetentionService(settings, new MetricsService(), repository, coordinator);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await coordinator.close();
    await close();
  });

  /** Questions over pruned periods, with unaligned edges, answered before and after pruning. */
  async function answers(): Promise<unknown[]> {
    const straddling = { from: HORIZON - 4 * DAY + 17 * 60_000, to: HORIZON + DAY + 13 * 60_000 };
    const pruned = { from: HORIZON - 3 * DAY + 10 * 60_000, to: HORIZON - 2 * DAY + 50 * 60_000 };
    const insideOneHour = { from: HORIZON - DAY + 5 * 60_000, to: HORIZON - DAY + 25 * 60_000 };
    return Promise.all([
      stats.summary(straddling),
      stats.summary(pruned),
      stats.summary(insideOneHour),
      stats.summary({ ...pruned, keyId: 'key-a' }),
      stats.summary({ ...straddling, model: 'claude-opus-4-1' }),
      stats.breakdown({ ...straddling, dim: 'model' }),
      stats.breakdown({ ...pruned, dim: 'key' }),
      stats.timeseries({ ...pruned, bucket: 'hour' }),
      stats.timeseries({ ...straddling, bucket: 'day', dim: 'key', dimId: 'key-b' }),
    ]);
  }

  it('should delete only rows before the horizon, in batches, and keep every aggregate', async () => {
    const old = all.filter((e) => e.at < HORIZON).length;
    expect(old).toBeGreaterThan(2 * PRUNE_BATCH_ROWS);
    const aggregatesBefore = await aggregates(db);
    expect(await retention.prune(NOW)).toBe(old);
    expect(await countBefore(db, HORIZON)).toBe(0);
    expect(await countBefore(db, Number.MAX_SAFE_INTEGER)).toBe(all.length - old);
    expect(await aggregates(db)).toBe(aggregatesBefore);
    expect(await retention.prune(NOW)).toBe(0);
  });

  it('should answer totals over pruned periods from aggregates, the same as before pruning', async () => {
    const before = await answers();
    await retention.prune(NOW);
    expect(await countBefore(db, HORIZON)).toBe(0);
    expect(await answers()).toEqual(before);
  });

  it('should say which range it totalled: whole hours before the horizon', async () => {
    await retention.prune(NOW);
    const from = HORIZON - 3 * DAY + 10 * 60_000;
    const to = HORIZON - 2 * DAY + 50 * 60_000;
    const summary = await stats.summary({ from, to });
    expect(summary.from).toBe(new Date(from - 10 * 60_000).toISOString());
    expect(summary.to).toBe(new Date(to + 10 * 60_000).toISOString());
    const inRange = all.filter((e) => e.at >= from - 10 * 60_000 && e.at < to + 10 * 60_000);
    expect(summary.requests).toBe(inRange.length);
    expect(summary.costMicros).toBe(inRange.reduce((sum, e) => sum + e.costMicros, 0));
    // Two filters: only the log can answer, and it starts at the horizon.
    const both = await stats.summary({ from, to: HORIZON + DAY, keyId: 'key-a', model: MODELS[0] });
    expect(both.from).toBe(new Date(HORIZON).toISOString());
    expect(both.requests).toBe(
      all.filter(
        (e) =>
          e.at >= HORIZON &&
          e.at < HORIZON + DAY &&
          e.apiKeyId === 'key-a' &&
          e.model === MODELS[0],
      ).length,
    );
  });

  it('should leave the job to the instance that holds its lock', async () => {
    const other = new LocalCoordinator({ instanceId: 'b', store });
    const lock = await other.acquireLock('lock:{job:request-log-retention}', 60_000);
    expect(lock).not.toBeNull();
    expect(await retention.prune(NOW)).toBeNull();
    expect(await countBefore(db, HORIZON)).toBeGreaterThan(0);
    await other.close();
    expect(await retention.prune(NOW)).toBeGreaterThan(0);
  });
}

describe('request-log retention on SQLite', () => {
  retentionContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-retention-db-'));
    const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    return { db, close: () => db.destroy() };
  });
});

describeWithPostgres('request-log retention on PostgreSQL', (baseUrl) => {
  retentionContract(async () => {
    const temp: TempDatabase = await createTempPostgresDatabase(baseUrl);
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
