import { Test } from '@nestjs/testing';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import { DatabaseModule } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';
import { MetricsModule } from 'src/modules/metrics/metrics.module';
import { journalHost } from 'src/modules/usage/usage-journal';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import { UsageModule } from 'src/modules/usage/usage.module';
import { UsageRepository } from 'src/modules/usage/usage.repository';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { SettingsModule } from 'src/modules/settings/settings.module';

const DAY = 86_400_000;

function event(id: string, at = Date.now()): UsageEvent {
  return {
    requestId: id,
    at,
    apiKeyId: 'key-a',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4',
    status: 200,
    outcome: 'ok',
    stream: false,
    usage: {
      inputTokens: 10,
      outputTokens: 5,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: 0,
    },
    costMicros: 100,
    priceKnown: true,
    latencyMs: 10,
    ttfbMs: null,
    attempts: 1,
    errorCode: null,
  };
}

async function counts(db: Db): Promise<{ rows: number; aggregated: number }> {
  const rows = await db
    .selectFrom('request_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  const aggregated = await db
    .selectFrom('usage_aggregates')
    .select((eb) => eb.fn.sum<string>('requests').as('n'))
    .where('bucket', '=', 'hour')
    .where('dim', '=', 'all')
    .executeTakeFirstOrThrow();
  return { rows: Number(rows.n), aggregated: Number(aggregated.n ?? 0) };
}

describe(`${UsageRecorder.name} journal (SQLite)`, () => {
  let dataDir: string;
  let db: Db;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sy-usage-journal-'));
    db = createDatabase({ engine: 'sqlite', sqliteFile: join(dataDir, 'switchyard.db') });
    await migrateToLatest(db);
    jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await db.destroy();
  });

  async function startApp() {
    const config = new ConfigService(
      loadEnvironment({ DATA_DIR: dataDir, REQUEST_LOG_RETENTION_DAYS: '30' }),
    );
    const app = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        CoordinationModule,
        SettingsModule,
        MetricsModule,
        UsageModule,
      ],
    }).compile();
    await app.init();
    return app;
  }

  it('should store a dead process journal at start, once, without counting stored rows twice', async () => {
    const journalDir = join(dataDir, 'usage-journal');
    mkdirSync(journalDir);
    const events = Array.from({ length: 1200 }, (_, i) => event(`j-${i}`));
    // The dead process stored the first 700 before it died; the journal still holds them all.
    await new UsageRepository(db).writeBatch(events.slice(0, 700));
    const tooOld = event('too-old', Date.now() - 40 * DAY);
    const lines = [...events, tooOld].map((e) => JSON.stringify(e)).join('\n');
    // Same host and pid, another start time: this container's previous life.
    const name = `usage.${journalHost(hostname())}.${process.pid}.1.s0.ndjson`;
    writeFileSync(join(journalDir, name), `${lines}\n{"requestId":"torn`, { mode: 0o600 });

    const app = await startApp();
    // Stored before the server would listen: no wait.
    expect(await counts(db)).toEqual({ rows: 1200, aggregated: 1200 });
    expect(readdirSync(journalDir)).toEqual([]);
    await app.close();

    // A second start finds nothing to replay.
    const again = await startApp();
    expect(await counts(db)).toEqual({ rows: 1200, aggregated: 1200 });
    await again.close();
  });

  it('should start and store usage without a journal when its directory cannot be made', async () => {
    const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
    // A file where the directory should be: mkdir fails as on a read-only volume.
    writeFileSync(join(dataDir, 'usage-journal'), '');
    const app = await startApp();
    expect(error).toHaveBeenCalledWith(
      expect.anything(),
      expect.stringContaining('usage journal unavailable'),
    );
    const recorder = app.get(UsageRecorder);
    recorder.record(event('no-journal'));
    await recorder.journaled();
    await app.close();
    expect(await counts(db)).toEqual({ rows: 1, aggregated: 1 });
  });

  it('should leave every served event journaled until it is stored, and nothing after a clean close', async () => {
    const app = await startApp();
    const recorder = app.get(UsageRecorder);
    for (let i = 0; i < 50; i++) recorder.record(event(`live-${i}`));
    await recorder.journaled();
    const journalDir = join(dataDir, 'usage-journal');
    expect(readdirSync(journalDir)).toHaveLength(1);
    await app.close();
    expect(await counts(db)).toEqual({ rows: 50, aggregated: 50 });
    expect(readdirSync(journalDir)).toEqual([]);
  });
});
