import { Test } from '@nestjs/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { Client } from 'pg';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { parseCsv } from 'src/common/text/csv';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import { DatabaseModule } from 'src/infra/database/database.module';
import type { Db, RequestLogTable, UsageAggregatesTable } from 'src/infra/database/database.types';
import { MetricsModule } from 'src/modules/metrics/metrics.module';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import type { UsageTotalsDto } from 'src/modules/usage/dto/usage-response.dto';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import { UsageStatsRepository } from 'src/modules/usage/usage-stats.repository';
import { UsageStatsService } from 'src/modules/usage/usage-stats.service';
import { UsageModule } from 'src/modules/usage/usage.module';
import { UsageRepository } from 'src/modules/usage/usage.repository';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';
import { SettingsModule } from 'src/modules/settings/settings.module';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Events spread over three days from an unaligned start, so every bucket edge is exercised. */
const START = Date.parse('2025-03-07T20:17:00Z');
const DAY0 = Date.parse('2025-03-08T00:00:00Z');

const KEYS = ['key-a', 'key-b', 'key-c', null];
const ACCOUNTS = ['acct-1', 'acct-2', null];
const MODELS = ['claude-sonnet-4', 'claude-opus-4-1', 'gpt-4o', 'acme-unknown'];
const OUTCOMES = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'error', 'truncated', 'aborted'] as const;

/** A small deterministic generator, so a failure can be reproduced. */
function generator(seed: number): (n: number) => number {
  let state = seed;
  return (n) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    // The high bits: an LCG's low bits repeat with a short period.
    return Math.floor((state / 2_147_483_648) * n);
  };
}

function events(count: number, prefix = 'req', seed = 7): UsageEvent[] {
  const pick = generator(seed);
  return Array.from({ length: count }, (_, i) => {
    const model = MODELS[pick(MODELS.length)];
    const outcome = OUTCOMES[pick(OUTCOMES.length)];
    return {
      requestId: `${prefix}-${String(i).padStart(6, '0')}`,
      at: START + pick(3 * DAY),
      apiKeyId: KEYS[pick(KEYS.length)],
      accountId: ACCOUNTS[pick(ACCOUNTS.length)],
      platform: model === 'gpt-4o' ? 'openai' : 'claude',
      model,
      status: outcome === 'error' ? 529 : 200,
      outcome,
      stream: pick(2) === 1,
      usage: {
        inputTokens: pick(100_000),
        outputTokens: pick(20_000),
        cacheCreation5mTokens: pick(3) === 0 ? pick(50_000) : 0,
        cacheCreation1hTokens: pick(5) === 0 ? pick(50_000) : 0,
        cacheReadTokens: pick(2) === 0 ? pick(200_000) : 0,
      },
      costMicros: pick(2_000_000),
      priceKnown: model !== 'acme-unknown',
      latencyMs: 100 + pick(60_000),
      ttfbMs: pick(4) === 0 ? null : pick(5000),
      attempts: 1 + pick(2),
      errorCode: outcome === 'error' ? 'UPSTREAM_OVERLOADED' : null,
    };
  });
}

// --- expectations computed straight from request-log rows, independently of the module ---

interface Filter {
  keyId?: string;
  accountId?: string;
  model?: string;
  platform?: 'claude' | 'openai';
}

function totalsOf(rows: RequestLogTable[]): UsageTotalsDto {
  const t: UsageTotalsDto = {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreation5mTokens: 0,
    cacheCreation1hTokens: 0,
    cacheReadTokens: 0,
    totalTokens: 0,
    costMicros: 0,
    unpricedRequests: 0,
  };
  for (const r of rows) {
    t.requests += 1;
    t.errors += r.outcome === 'ok' ? 0 : 1;
    t.inputTokens += r.input_tokens;
    t.outputTokens += r.output_tokens;
    t.cacheCreation5mTokens += r.cache_5m_tokens;
    t.cacheCreation1hTokens += r.cache_1h_tokens;
    t.cacheReadTokens += r.cache_read_tokens;
    t.costMicros += r.cost_micros;
    t.unpricedRequests += r.price_known === 1 ? 0 : 1;
  }
  t.totalTokens =
    t.inputTokens +
    t.outputTokens +
    t.cacheCreation5mTokens +
    t.cacheCreation1hTokens +
    t.cacheReadTokens;
  return t;
}

function select(rows: RequestLogTable[], from: number, to: number, f: Filter): RequestLogTable[] {
  return rows.filter(
    (r) =>
      r.at >= from &&
      r.at < to &&
      (f.keyId === undefined || r.api_key_id === f.keyId) &&
      (f.accountId === undefined || r.account_id === f.accountId) &&
      (f.model === undefined || r.model === f.model) &&
      (f.platform === undefined || r.platform === f.platform),
  );
}

/** The nearest-rank percentile: the value at rank ceil(p * n) of the sorted values. */
function nearestRank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil(p * sorted.length)) - 1];
}

/** What usage_aggregates must hold: the plain GROUP BY of the request log, written out by hand. */
function expectedAggregates(rows: RequestLogTable[]): string[] {
  const groups = new Map<string, RequestLogTable[]>();
  for (const r of rows) {
    for (const [bucket, length] of [
      ['hour', HOUR],
      ['day', DAY],
    ] as const) {
      const start = Math.floor(r.at / length) * length;
      const dims: [string, string | null][] = [
        ['key', r.api_key_id],
        ['account', r.account_id],
        ['model', r.model],
        ['platform', r.platform],
        ['all', '*'],
      ];
      for (const [dim, id] of dims) {
        if (id === null) continue;
        const key = `${bucket}|${start}|${dim}|${id}`;
        groups.set(key, [...(groups.get(key) ?? []), r]);
      }
    }
  }
  return [...groups.entries()]
    .map(([key, group]) => {
      const t = totalsOf(group);
      return `${key}|${t.requests}|${t.errors}|${t.inputTokens}|${t.outputTokens}|${t.cacheCreation5mTokens}|${t.cacheCreation1hTokens}|${t.cacheReadTokens}|${t.costMicros}|${t.unpricedRequests}`;
    })
    .sort();
}

function storedAggregates(rows: UsageAggregatesTable[]): string[] {
  return rows
    .map((a) =>
      [
        a.bucket,
        Number(a.bucket_start),
        a.dim,
        a.dim_id,
        a.requests,
        a.errors,
        a.input_tokens,
        a.output_tokens,
        a.cache_5m_tokens,
        a.cache_1h_tokens,
        a.cache_read_tokens,
        a.cost_micros,
        a.unpriced_requests,
      ]
        .map((v) => String(Number.isNaN(Number(v)) ? v : Number(v)))
        .join('|'),
    )
    .sort();
}

async function requestLog(db: Db): Promise<RequestLogTable[]> {
  const rows = await db.selectFrom('request_log').selectAll().orderBy('id').execute();
  // bigint columns: numbers on both engines (pg's int8 parser is set by the database factory).
  return rows.map((r) => ({ ...r, at: Number(r.at) }));
}

async function count(db: Db): Promise<number> {
  const row = await db
    .selectFrom('request_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function config(env: Record<string, string>): ConfigService {
  return new ConfigService(
    loadEnvironment({
      USAGE_BATCH_SIZE: '200',
      USAGE_FLUSH_INTERVAL_MS: '50',
      USAGE_QUEUE_MAX: '100000',
      SHUTDOWN_TIMEOUT_MS: '20000',
      ...env,
    }),
  );
}

async function metricValue(
  metrics: MetricsService,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

/** One engine: a fresh migrated database per test, and a way to take it away and give it back. */
interface Engine {
  open(): Promise<{
    db: Db;
    /** What the application's ConfigService needs to reach the same database. */
    env: Record<string, string>;
    /** Makes every write fail until the returned function is called. */
    outage(): Promise<() => Promise<void>>;
    close(): Promise<void>;
  }>;
}

function usageRecorderContract(engine: Engine): void {
  let harness: Awaited<ReturnType<Engine['open']>>;
  const recorders: UsageRecorder[] = [];

  function recorder(env: Record<string, string> = {}) {
    const metrics = new MetricsService();
    const r = new UsageRecorder(
      config(env),
      metrics,
      new UsageRepository(harness.db),
      new FixedRuntimeSettings(config(env).env),
    );
    recorders.push(r);
    return { recorder: r, metrics };
  }

  beforeEach(async () => {
    harness = await engine.open();
    // Outage tests make the recorder log warnings on purpose.
    jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(recorders.splice(0).map((r) => r.onApplicationShutdown()));
    await harness.close();
  });

  describe('writing', () => {
    it('should store one request-log row per event and aggregates equal to the rows sums', async () => {
      const { recorder: r, metrics } = recorder();
      const batch = events(1500);
      for (const e of batch) r.record(e);
      await r.flush();
      const rows = await requestLog(harness.db);
      expect(rows).toHaveLength(1500);
      const aggregates = await harness.db.selectFrom('usage_aggregates').selectAll().execute();
      expect(storedAggregates(aggregates)).toEqual(expectedAggregates(rows));
      expect(await metricValue(metrics, 'switchyard_usage_events_written_total')).toBe(1500);
    });

    it('should count nothing twice when the same events are written again', async () => {
      const repository = new UsageRepository(harness.db);
      const batch = events(300);
      expect(await repository.writeBatch(batch)).toBe(300);
      expect(await repository.writeBatch([...batch.slice(0, 100), ...events(50, 'new')])).toBe(50);
      const rows = await requestLog(harness.db);
      expect(rows).toHaveLength(350);
      const aggregates = await harness.db.selectFrom('usage_aggregates').selectAll().execute();
      expect(storedAggregates(aggregates)).toEqual(expectedAggregates(rows));
    });
  });

  describe('stats', () => {
    let rows: RequestLogTable[];
    let stats: UsageStatsService;

    beforeEach(async () => {
      await new UsageRepository(harness.db).writeBatch(events(2000));
      rows = await requestLog(harness.db);
      // The events lie in 2025: keep every request-log row, so the log answers the edges.
      stats = new UsageStatsService(
        new UsageStatsRepository(harness.db),
        new FixedRuntimeSettings(config({}).env, { requestLogRetentionDays: 0 }),
      );
    });

    const ranges: [string, number, number][] = [
      ['the whole span', START - HOUR, START + 4 * DAY],
      ['whole UTC days', DAY0, DAY0 + 2 * DAY],
      ['whole hours', DAY0 + 5 * HOUR, DAY0 + 29 * HOUR],
      ['unaligned edges across days', START + 5 * HOUR + 13 * 60_000, START + 2 * DAY + 7 * HOUR],
      ['less than an hour', DAY0 + HOUR + 5 * 60_000, DAY0 + HOUR + 50 * 60_000],
    ];
    const filters: Filter[] = [
      {},
      { keyId: 'key-a' },
      { accountId: 'acct-2' },
      { model: 'gpt-4o' },
      { platform: 'openai' },
      { keyId: 'key-b', model: 'claude-sonnet-4' },
      { accountId: 'acct-1', platform: 'claude' },
    ];

    it.each(ranges)('should report the request-log totals over %s', async (_, from, to) => {
      expect(select(rows, from, to, {}).length).toBeGreaterThan(0);
      for (const filter of filters) {
        const summary = await stats.summary({ from, to, ...filter });
        const { from: _f, to: _t, ...totals } = summary;
        expect({ filter, totals }).toEqual({
          filter,
          totals: totalsOf(select(rows, from, to, filter)),
        });
      }
    });

    it('should report daily points that are the request-log sums of each UTC day', async () => {
      const series = await stats.timeseries({
        from: DAY0,
        to: DAY0 + 2 * DAY,
        bucket: 'day',
        dim: 'key',
        dimId: 'key-a',
      });
      expect(series.points.map((p) => p.start)).toEqual([
        '2025-03-08T00:00:00.000Z',
        '2025-03-09T00:00:00.000Z',
      ]);
      for (const point of series.points) {
        const start = Date.parse(point.start);
        const { start: _s, ...totals } = point;
        expect(totals).toEqual(totalsOf(select(rows, start, start + DAY, { keyId: 'key-a' })));
      }
    });

    it('should fill hours without traffic with zeros when the series asks for hours', async () => {
      // 17:17 to 21:17 overlaps the whole hours 17:00 to 22:00; traffic starts at 20:17.
      const series = await stats.timeseries({ from: START - 3 * HOUR, to: START + HOUR });
      expect(series.points.map((p) => p.start.slice(11, 16))).toEqual([
        '17:00',
        '18:00',
        '19:00',
        '20:00',
        '21:00',
      ]);
      expect(series.points.slice(0, 3).map((p) => p.requests)).toEqual([0, 0, 0]);
      const total = series.points.reduce((n, p) => n + p.requests, 0);
      const lastHourEnd = Date.parse('2025-03-07T22:00:00Z');
      expect(total).toBe(select(rows, START - 3 * HOUR, lastHourEnd, {}).length);
      expect(total).toBeGreaterThan(0);
    });

    it('should rank models by cost with totals matching the request log', async () => {
      const from = START + 3 * HOUR + 1;
      const to = START + 2 * DAY;
      const breakdown = await stats.breakdown({ from, to, dim: 'model', limit: 500 });
      expect(breakdown.items.map((i) => i.id).sort()).toEqual([...MODELS].sort());
      for (const item of breakdown.items) {
        const { id, ...totals } = item;
        expect(totals).toEqual(totalsOf(select(rows, from, to, { model: id })));
      }
      const costs = breakdown.items.map((i) => i.costMicros);
      expect(costs).toEqual([...costs].sort((a, b) => b - a));
      const unpriced = breakdown.items.find((i) => i.id === 'acme-unknown');
      expect(unpriced?.unpricedRequests).toBe(unpriced?.requests);
    });

    it('should page through the filtered request log newest first with the total count', async () => {
      const filter = { keyId: 'key-a', outcome: 'ok' as const, from: START, to: START + 3 * DAY };
      const expected = select(rows, START, START + 3 * DAY, { keyId: 'key-a' }).filter(
        (r) => r.outcome === 'ok',
      );
      const first = await stats.requests({ ...filter, page: 1, pageSize: 40 });
      const second = await stats.requests({ ...filter, page: 2, pageSize: 40 });
      expect(first.total).toBe(expected.length);
      expect(first.items).toHaveLength(40);
      const ats = [...first.items, ...second.items].map((i) => Date.parse(i.at));
      expect(ats).toEqual([...ats].sort((a, b) => b - a));
      const seen = new Set([...first.items, ...second.items].map((i) => i.id));
      expect(seen.size).toBe(80);
      expect(first.items.every((i) => i.apiKeyId === 'key-a' && i.outcome === 'ok')).toBe(true);
    });

    it('should rank platforms by cost with totals matching the request log', async () => {
      const breakdown = await stats.breakdown({ from: DAY0, to: DAY0 + 2 * DAY, dim: 'platform' });
      expect(breakdown.items.map((i) => i.id).sort()).toEqual(['claude', 'openai']);
      for (const item of breakdown.items) {
        const { id, ...totals } = item;
        const platform = id as 'claude' | 'openai';
        expect(totals).toEqual(totalsOf(select(rows, DAY0, DAY0 + 2 * DAY, { platform })));
      }
    });

    it.each(ranges)(
      'should report outcomes, failovers and nearest-rank percentiles over %s',
      async (_, from, to) => {
        for (const filter of [{}, { keyId: 'key-a' }, { platform: 'openai' as const }]) {
          const picked = select(rows, from, to, filter);
          const performance = await stats.performance({ from, to, ...filter });
          const count = (outcome: string) => picked.filter((r) => r.outcome === outcome).length;
          const errors = picked.length - count('ok');
          const failovers = picked.filter((r) => r.attempts > 1).length;
          const ttfbs = picked.flatMap((r) => (r.ttfb_ms === null ? [] : [r.ttfb_ms]));
          const latencies = picked.map((r) => r.latency_ms);
          expect({ filter, performance }).toEqual({
            filter,
            performance: {
              from: new Date(from).toISOString(),
              to: new Date(to).toISOString(),
              requests: picked.length,
              outcomes: {
                ok: count('ok'),
                error: count('error'),
                truncated: count('truncated'),
                aborted: count('aborted'),
              },
              errors,
              errorRate: errors / picked.length,
              failovers,
              failoverRate: failovers / picked.length,
              ttfbMs: {
                samples: ttfbs.length,
                p50: nearestRank(ttfbs, 0.5),
                p95: nearestRank(ttfbs, 0.95),
                p99: nearestRank(ttfbs, 0.99),
              },
              latencyMs: {
                samples: latencies.length,
                p50: nearestRank(latencies, 0.5),
                p95: nearestRank(latencies, 0.95),
                p99: nearestRank(latencies, 0.99),
              },
            },
          });
        }
      },
    );

    it('should report no rates and no percentiles for a range without requests', async () => {
      const performance = await stats.performance({ from: DAY0 - 30 * DAY, to: DAY0 - 29 * DAY });
      expect(performance).toMatchObject({
        requests: 0,
        errorRate: null,
        failoverRate: null,
        ttfbMs: { samples: 0, p50: null, p95: null, p99: null },
      });
    });

    it('should find one request by id and refuse an unknown one', async () => {
      const row = rows[17];
      const entry = await stats.request(row.id);
      expect(entry).toMatchObject({
        id: row.id,
        at: new Date(row.at).toISOString(),
        model: row.model,
        platform: row.platform,
        costMicros: row.cost_micros,
        attempts: row.attempts,
      });
      await expect(stats.request('no-such-request')).rejects.toMatchObject({
        code: 'REQUEST_NOT_FOUND',
        status: 404,
      });
    });

    it('should export every filtered row as CSV in time order, across chunks', async () => {
      const from = START;
      const to = START + 3 * DAY;
      const expected = select(rows, from, to, { platform: 'claude' })
        .sort((a, b) => b.at - a.at || (b.id < a.id ? -1 : 1))
        .map((r) => r.id);
      expect(expected.length).toBeGreaterThan(1000);
      let text = '';
      for await (const chunk of stats.exportCsv({ from, to, platform: 'claude' })) text += chunk;
      const [header, ...lines] = parseCsv(text);
      expect(header[0]).toBe('id');
      expect(lines.map((line) => line[0])).toEqual(expected);
      const cost = header.indexOf('costUsd');
      const first = rows.find((r) => r.id === expected[0]);
      expect(lines[0][cost]).toBe(((first?.cost_micros ?? 0) / 1e6).toFixed(6));
    });

    it("should report a key's own usage with daily points that add up to its totals", async () => {
      const usage = await stats.keyUsage('key-c', { from: DAY0, to: DAY0 + 3 * DAY });
      expect(usage.totals).toEqual(
        totalsOf(select(rows, DAY0, DAY0 + 3 * DAY, { keyId: 'key-c' })),
      );
      expect(usage.daily).toHaveLength(3);
      expect(usage.daily.reduce((n, p) => n + p.costMicros, 0)).toBe(usage.totals.costMicros);
    });
  });

  describe('database outage', () => {
    it('should keep events while the database is away and write them all when it returns', async () => {
      const { recorder: r } = recorder({ USAGE_BATCH_SIZE: '50' });
      const end = await harness.outage();
      const batch = events(300);
      for (const e of batch) expect(() => r.record(e)).not.toThrow();
      await expect(r.flush()).rejects.toThrow();
      expect(r.pending).toBe(300);
      await end();
      // No manual flush: the recorder's own retries must bring everything in.
      await waitFor(async () => (await count(harness.db)) === 300, 20_000);
      expect(r.pending).toBe(0);
      const rows = await requestLog(harness.db);
      expect(rows.map((row) => row.id)).toEqual(batch.map((e) => e.requestId).sort());
      const aggregates = await harness.db.selectFrom('usage_aggregates').selectAll().execute();
      expect(storedAggregates(aggregates)).toEqual(expectedAggregates(rows));
    });

    it('should drop only the oldest events, and count them, when the outage outlasts the queue', async () => {
      const { recorder: r, metrics } = recorder({ USAGE_QUEUE_MAX: '100', USAGE_BATCH_SIZE: '20' });
      const end = await harness.outage();
      const batch = events(150);
      for (const e of batch) r.record(e);
      await expect(r.flush()).rejects.toThrow();
      expect(r.pending).toBe(100);
      await end();
      await waitFor(async () => (await count(harness.db)) === 100, 20_000);
      const ids = (await requestLog(harness.db)).map((row) => row.id);
      expect(ids).toEqual(batch.slice(50).map((e) => e.requestId));
      expect(
        await metricValue(metrics, 'switchyard_usage_events_dropped_total', {
          reason: 'queue_full',
        }),
      ).toBe(50);
    });
  });

  describe('shutdown', () => {
    it('should write every recorded event when the application closes under load', async () => {
      const appConfig = config({
        ...harness.env,
        USAGE_BATCH_SIZE: '500',
        USAGE_FLUSH_INTERVAL_MS: '60000',
      });
      const app = await Test.createTestingModule({
        imports: [
          ConfigModule.forRoot(appConfig),
          DatabaseModule,
          CoordinationModule,
          SettingsModule,
          MetricsModule,
          UsageModule,
        ],
      }).compile();
      await app.init();
      const r = app.get(UsageRecorder);
      const batch = events(5321);
      // Full batches start writing on the next turn; close() lands in the middle of them.
      for (const e of batch) r.record(e);
      await app.close();
      expect(await count(harness.db)).toBe(5321);
      const rows = await requestLog(harness.db);
      const aggregates = await harness.db.selectFrom('usage_aggregates').selectAll().execute();
      expect(storedAggregates(aggregates)).toEqual(expectedAggregates(rows));
    });
  });
}

describe('usage recorder on SQLite', () => {
  usageRecorderContract({
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'sy-usage-'));
      const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
      await migrateToLatest(db);
      return {
        db,
        env: { DATA_DIR: dir },
        // An embedded database cannot be stopped; a missing table refuses every write the same
        // way while `select 1` still answers, which is the harder case for the recorder.
        outage: async () => {
          await sql`alter table request_log rename to request_log_offline`.execute(db);
          return async () => {
            await sql`alter table request_log_offline rename to request_log`.execute(db);
          };
        },
        close: () => db.destroy(),
      };
    },
  });
});

describeWithPostgres('usage recorder on PostgreSQL', (baseUrl) => {
  async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: baseUrl });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }

  usageRecorderContract({
    open: async () => {
      const temp: TempDatabase = await createTempPostgresDatabase(baseUrl);
      const name = new URL(temp.url).pathname.slice(1);
      const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
      await migrateToLatest(db);
      return {
        db,
        env: { DATABASE_URL: temp.url },
        // A real outage for the pool: every connection is killed and no new one is accepted.
        outage: async () => {
          await admin(async (client) => {
            await client.query(`alter database ${name} allow_connections false`);
            await client.query(
              'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1',
              [name],
            );
          });
          return async () => {
            await admin((client) => client.query(`alter database ${name} allow_connections true`));
          };
        },
        close: async () => {
          await db.destroy();
          await temp.drop();
        },
      };
    },
  });
});
