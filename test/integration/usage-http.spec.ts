import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import express from 'express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AdminExceptionFilter } from 'src/common/http/admin-exception.filter';
import { parseCsv } from 'src/common/text/csv';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { MetricsModule } from 'src/modules/metrics/metrics.module';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import { UsageModule } from 'src/modules/usage/usage.module';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { adminValidationPipe } from 'src/common/http/admin-validation.pipe';

const DAY0 = Date.parse('2025-03-08T00:00:00Z');

function event(i: number, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: `req-${i}`,
    at: DAY0 + i * 60_000,
    apiKeyId: i % 2 === 0 ? 'key-a' : 'key-b',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4',
    status: 200,
    outcome: 'ok',
    stream: true,
    usage: {
      inputTokens: 100,
      outputTokens: 10,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: 0,
    },
    costMicros: 450,
    priceKnown: true,
    latencyMs: 900,
    ttfbMs: 150,
    attempts: 1,
    errorCode: null,
    ...overrides,
  };
}

/**
 * The usage and pricing routes over HTTP with the application's validation and error filter.
 * Admin authentication is the auth module's concern and is not wired here; the access rule each
 * route declares is checked from its metadata instead.
 */
describe('usage admin API over HTTP', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const config = new ConfigService(
      loadEnvironment({ DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-usage-http-')) }),
    );
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule,
        CoordinationModule,
        SettingsModule,
        MetricsModule,
        UsageModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AdminExceptionFilter }],
    }).compile();
    app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
    app.use('/admin/api', express.json());
    app.useGlobalPipes(adminValidationPipe());
    await app.init();
    const recorder = app.get(UsageRecorder);
    for (let i = 0; i < 30; i++) recorder.record(event(i));
    recorder.record(event(30, { model: 'acme-unknown', priceKnown: false, outcome: 'error' }));
    await recorder.flush();
  });

  afterAll(async () => {
    await app.close();
  });

  describe('GET /admin/api/usage/summary', () => {
    it('should total a range given as ISO times', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/summary')
        .query({ from: '2025-03-08T00:00:00Z', to: '2025-03-08T01:00:00Z', keyId: 'key-a' })
        .expect(200);
      expect(res.body).toMatchObject({
        from: '2025-03-08T00:00:00.000Z',
        // Even-numbered events 0..30 belong to key-a.
        requests: 16,
        inputTokens: 1600,
        totalTokens: 1760,
        costMicros: 16 * 450,
      });
    });

    it('should answer 400 INVALID_RANGE when from is after to', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/summary')
        .query({ from: '2025-03-09', to: '2025-03-08' })
        .expect(400)
        .expect('content-type', /^application\/json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.error.code).toBe('INVALID_RANGE');
    });
  });

  describe('GET /admin/api/usage/timeseries', () => {
    it('should return hourly points for the whole relay by default', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/timeseries')
        .query({ from: DAY0, to: DAY0 + 2 * 3_600_000 })
        .expect(200);
      expect(res.body.points.map((p: { requests: number }) => p.requests)).toEqual([31, 0]);
      expect(res.body.points[0].unpricedRequests).toBe(1);
    });
  });

  describe('GET /admin/api/usage/breakdown', () => {
    it('should rank keys by cost', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/breakdown')
        .query({ from: DAY0, to: DAY0 + 86_400_000, dim: 'key', limit: '1' })
        .expect(200);
      expect(res.body.items).toHaveLength(1);
      expect(res.body.items[0]).toMatchObject({ id: 'key-a', requests: 16 });
    });
  });

  describe('GET /admin/api/usage/requests', () => {
    it('should page the filtered request log with numbers parsed from the query', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests')
        .query({ from: DAY0, to: DAY0 + 86_400_000, outcome: 'error', page: '1', pageSize: '5' })
        .expect(200);
      expect(res.body).toMatchObject({ total: 1, page: 1, pageSize: 5 });
      expect(res.body.items[0]).toMatchObject({
        id: 'req-30',
        model: 'acme-unknown',
        priceKnown: false,
        stream: true,
        at: '2025-03-08T00:30:00.000Z',
      });
    });

    it('should sort by cost, latency or time in either order', async () => {
      // A day of its own, so the totals the other tests read do not move.
      const day = DAY0 - 10 * 86_400_000;
      const recorder = app.get(UsageRecorder);
      const rows = [
        { latencyMs: 300, costMicros: 20 },
        { latencyMs: 100, costMicros: 30 },
        { latencyMs: 200, costMicros: 10 },
      ];
      rows.forEach((row, i) => recorder.record(event(100 + i, { at: day + i * 1000, ...row })));
      await recorder.flush();
      const ids = async (query: Record<string, string>): Promise<string[]> => {
        const res = await request(app.getHttpServer())
          .get('/admin/api/usage/requests')
          .query({ from: String(day), to: String(day + 86_400_000), ...query })
          .expect(200);
        return res.body.items.map((r: { id: string }) => r.id);
      };

      expect(await ids({})).toEqual(['req-102', 'req-101', 'req-100']);
      expect(await ids({ sortOrder: 'asc' })).toEqual(['req-100', 'req-101', 'req-102']);
      expect(await ids({ sortBy: 'latencyMs' })).toEqual(['req-100', 'req-102', 'req-101']);
      expect(await ids({ sortBy: 'costMicros', sortOrder: 'asc' })).toEqual([
        'req-102',
        'req-100',
        'req-101',
      ]);
      await request(app.getHttpServer())
        .get('/admin/api/usage/requests')
        .query({ sortBy: 'apiKeyId' })
        .expect(400);
    });

    it('should answer 400 VALIDATION_FAILED for an unknown filter', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests')
        .query({ user: 'x' })
        .expect(400);
      expect(res.body.error.code).toBe('VALIDATION_FAILED');
    });
  });

  describe('GET /admin/api/usage/performance', () => {
    it('should report the error rate and time-to-first-byte percentiles of a range', async () => {
      // The request log answers these: recent requests, inside its retention.
      const now = Date.now();
      const recorder = app.get(UsageRecorder);
      const ttfbs = [100, 200, 300, 400, null];
      ttfbs.forEach((ttfbMs, i) =>
        recorder.record(
          event(200 + i, {
            at: now - 60_000 + i,
            apiKeyId: 'key-perf',
            ttfbMs,
            attempts: i === 0 ? 2 : 1,
            outcome: ttfbMs === null ? 'error' : 'ok',
          }),
        ),
      );
      await recorder.flush();
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/performance')
        .query({ from: now - 3_600_000, to: now + 1000, keyId: 'key-perf', platform: 'claude' })
        .expect(200);
      expect(res.body).toMatchObject({
        requests: 5,
        errors: 1,
        errorRate: 0.2,
        outcomes: { ok: 4, error: 1, truncated: 0, aborted: 0 },
        failovers: 1,
        failoverRate: 0.2,
        ttfbMs: { samples: 4, p50: 200, p95: 400, p99: 400 },
        latencyMs: { samples: 5, p50: 900 },
      });
    });

    it('should refuse a platform that does not exist', async () => {
      await request(app.getHttpServer())
        .get('/admin/api/usage/performance')
        .query({ platform: 'acme' })
        .expect(400);
    });
  });

  describe('GET /admin/api/usage/requests/:id', () => {
    it('should answer one request-log entry', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests/req-30')
        .expect(200);
      expect(res.body).toMatchObject({ id: 'req-30', model: 'acme-unknown', outcome: 'error' });
    });

    it('should answer 404 REQUEST_NOT_FOUND for an unknown id', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests/req-none')
        .expect(404);
      expect(res.body.error.code).toBe('REQUEST_NOT_FOUND');
    });
  });

  describe('GET /admin/api/usage/requests/export.csv', () => {
    it('should stream the filtered log as a CSV attachment, newest first', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests/export.csv')
        .query({ from: DAY0, to: DAY0 + 86_400_000, keyId: 'key-b' })
        .buffer(true)
        .parse((response, done) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => done(null, text));
        })
        .expect(200);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['content-disposition']).toContain('switchyard-requests.csv');
      const [header, ...rows] = parseCsv(res.body as string);
      expect(header.slice(0, 3)).toEqual(['id', 'at', 'apiKeyId']);
      // Odd-numbered events 1..29 belong to key-b.
      expect(rows.map((row) => row[0])).toEqual(
        Array.from({ length: 15 }, (_, i) => `req-${29 - 2 * i}`),
      );
      expect(rows[0][header.indexOf('costUsd')]).toBe('0.000450');
    });

    it('should answer 400 INVALID_RANGE as JSON before any row', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/usage/requests/export.csv')
        .query({ from: '2025-03-09', to: '2025-03-08' })
        .expect(400)
        .expect('content-type', /^application\/json/);
      expect(res.headers['content-disposition']).toBeUndefined();
      expect(res.body.error.code).toBe('INVALID_RANGE');
    });
  });

  describe('/admin/api/pricing', () => {
    it('should look up a dated model name in dollars per million tokens', async () => {
      const res = await request(app.getHttpServer())
        .get('/admin/api/pricing/lookup')
        .query({ model: 'claude-sonnet-4-20250514' })
        .expect(200);
      expect(res.body).toMatchObject({
        known: true,
        matchedModel: 'claude-sonnet-4',
        source: 'bundled',
        price: { input: 3, output: 15, cacheWrite5m: 3.75, cacheWrite1h: 6, cacheRead: 0.3 },
      });
    });

    it('should set, list and delete an override for a model name holding a slash', async () => {
      const server = app.getHttpServer();
      const put = await request(server)
        .put('/admin/api/pricing/overrides/acme%2Fllm-1')
        .send({ input: 1.5, output: 6 })
        .expect(200);
      expect(put.body).toMatchObject({
        model: 'acme/llm-1',
        override: { input: 1.5, output: 6 },
        price: { input: 1.5, output: 6, cacheRead: 1.5 },
      });
      const lookup = await request(server)
        .get('/admin/api/pricing/lookup')
        .query({ model: 'acme/llm-1' })
        .expect(200);
      expect(lookup.body).toMatchObject({ known: true, source: 'override' });
      const list = await request(server).get('/admin/api/pricing/overrides').expect(200);
      expect(list.body).toMatchObject({ total: 1, page: 1, pageSize: 50 });
      expect(list.body.items.map((o: { model: string }) => o.model)).toEqual(['acme/llm-1']);
      await request(server).delete('/admin/api/pricing/overrides/acme%2Fllm-1').expect(204);
      await request(server).delete('/admin/api/pricing/overrides/acme%2Fllm-1').expect(404);
    });

    it('should answer 400 INVALID_PRICE when a new model lacks an output price', async () => {
      const res = await request(app.getHttpServer())
        .put('/admin/api/pricing/overrides/acme-llm-2')
        .send({ input: 1 })
        .expect(400);
      expect(res.body.error.code).toBe('INVALID_PRICE');
    });

    it('should list the effective table with the default price for unknown models', async () => {
      const res = await request(app.getHttpServer()).get('/admin/api/pricing/models').expect(200);
      expect(res.body.defaultPrice).toEqual({
        input: 3,
        output: 15,
        cacheWrite5m: 3,
        cacheWrite1h: 3,
        cacheRead: 3,
      });
      expect(res.body.items.length).toBeGreaterThan(10);
      expect(res.body.total).toBeGreaterThanOrEqual(res.body.items.length);
    });

    it('should filter, sort and page the price table and the overrides', async () => {
      const server = app.getHttpServer();
      const models = async (query: Record<string, string | number>): Promise<string[]> => {
        const res = await request(server).get('/admin/api/pricing/models').query(query).expect(200);
        return res.body.items.map((e: { model: string }) => e.model);
      };
      const sonnets = await models({ search: 'SONNET', pageSize: 200 });
      expect(sonnets.length).toBeGreaterThan(1);
      expect(sonnets.every((m) => m.includes('sonnet'))).toBe(true);
      expect(sonnets).toEqual([...sonnets].sort());
      expect(await models({ search: 'sonnet', sortOrder: 'desc', pageSize: 200 })).toEqual(
        [...sonnets].reverse(),
      );
      const byInput = await request(server)
        .get('/admin/api/pricing/models')
        .query({ sortBy: 'input', sortOrder: 'desc', pageSize: 200 })
        .expect(200);
      const inputs = byInput.body.items.map((e: { price: { input: number } }) => e.price.input);
      expect(inputs).toEqual([...inputs].sort((a, b) => b - a));
      expect(inputs[0]).toBeGreaterThan(inputs.at(-1));

      await request(server)
        .put('/admin/api/pricing/overrides/zeta-1')
        .send({ input: 1, output: 2 });
      await request(server)
        .put('/admin/api/pricing/overrides/alpha-1')
        .send({ input: 1, output: 2 });
      expect(await models({ source: 'override' })).toEqual(['alpha-1', 'zeta-1']);
      const overrides = async (query: Record<string, string | number>): Promise<string[]> => {
        const res = await request(server)
          .get('/admin/api/pricing/overrides')
          .query(query)
          .expect(200);
        return res.body.items.map((o: { model: string }) => o.model);
      };
      expect(await overrides({})).toEqual(['alpha-1', 'zeta-1']);
      expect(await overrides({ sortOrder: 'desc' })).toEqual(['zeta-1', 'alpha-1']);
      // alpha-1 was set last.
      expect(await overrides({ sortBy: 'updatedAt', sortOrder: 'desc', pageSize: 1 })).toEqual([
        'alpha-1',
      ]);
      expect(await overrides({ search: 'ZET' })).toEqual(['zeta-1']);
      await request(server)
        .get('/admin/api/pricing/overrides')
        .query({ sortBy: 'price' })
        .expect(400);
      await request(server).delete('/admin/api/pricing/overrides/zeta-1').expect(204);
      await request(server).delete('/admin/api/pricing/overrides/alpha-1').expect(204);
    });
  });
});
