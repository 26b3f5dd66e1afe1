import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import express from 'express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AdminExceptionFilter } from 'src/common/http/admin-exception.filter';
import { setLogLevel } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { AuthModule } from 'src/modules/auth/auth.module';
import { MetricsModule } from 'src/modules/metrics/metrics.module';
import { UsersModule } from 'src/modules/users/users.module';
import { UsersService } from 'src/modules/users/users.service';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { adminValidationPipe } from 'src/common/http/admin-validation.pipe';

const PASSWORD = 'correct-horse-battery';
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('ApiKeysController', () => {
  let app: INestApplication;
  let token: string;

  function api(): ReturnType<typeof request.agent> {
    return request.agent(app.getHttpServer()).set('authorization', `Bearer ${token}`);
  }

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-keys-http-'));
    const config = new ConfigService(
      loadEnvironment({ ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' }),
    );
    setLogLevel(config.env.LOG_LEVEL);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        CryptoModule,
        DatabaseModule,
        CoordinationModule,
        SettingsModule,
        // The audit module (imported by AuthModule) counts its rows in the metrics registry.
        MetricsModule,
        UsersModule,
        AuthModule,
        ApiKeysModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AdminExceptionFilter }],
    }).compile();
    // The same HTTP setup as bootstrap.ts.
    app = moduleRef.createNestApplication({ bodyParser: false });
    app.use('/admin/api', express.json({ limit: '2mb' }));
    app.useGlobalPipes(adminValidationPipe());
    await app.init();
    await app.get(UsersService).bootstrapAdmin('admin', PASSWORD);
    const login = await request(app.getHttpServer())
      .post('/admin/api/auth/login')
      .send({ username: 'admin', password: PASSWORD })
      .expect(200);
    token = (login.body as { token: string }).token;
  });

  afterAll(async () => {
    await app?.close();
  });

  it('should refuse every route when there is no admin session', async () => {
    const server = app.getHttpServer();
    await request(server).get('/admin/api/keys').expect(401);
    await request(server).post('/admin/api/keys').send({ name: 'x' }).expect(401);
    await request(server).post(`/admin/api/keys/${UNKNOWN_ID}/disable`).expect(401);
  });

  describe('POST /admin/api/keys', () => {
    it('should create a key and show its secret only in that response', async () => {
      const created = await api()
        .post('/admin/api/keys')
        .send({ name: 'http', limits: { dailyCostMicros: 5_000_000 }, tags: ['web'] })
        .expect(201);

      expect(created.body).toMatchObject({
        name: 'http',
        status: 'active',
        limits: { dailyCostMicros: 5_000_000 },
        secret: expect.stringMatching(/^sk-sy-[0-9A-Za-z]{40}$/),
      });
      const shown = await api().get(`/admin/api/keys/${created.body.id}`).expect(200);
      expect(shown.body).not.toHaveProperty('secret');
      expect(JSON.stringify(shown.body)).not.toContain(created.body.secret.slice(6));
      expect(JSON.stringify(shown.body)).not.toMatch(/digest/i);
    });

    it('should answer 400 when the body has unknown, misspelled or invalid fields', async () => {
      const bad = [
        { name: 'x', secret: 'sk-sy-mine' },
        { name: 'x', limits: { dailyCost: 5 } },
        { name: 'x', permissions: ['claude', 'bard'] },
        { name: 'x', allowedClients: ['curl'] },
        { name: 'x', modelPolicy: { mode: 'allow', patterns: [] } },
        { name: 'x', limits: { concurrency: 0 } },
        { name: 'x', tags: ['has"quote'] },
        { name: '' },
        {},
      ];
      for (const body of bad) {
        const res = await api().post('/admin/api/keys').send(body);
        expect({ body, status: res.status, code: res.body.error?.code }).toEqual({
          body,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    });

    it('should say which field each validation message is about, nested fields by dotted path', async () => {
      const res = await api()
        .post('/admin/api/keys')
        .send({ name: '', limits: { concurrency: 0 } })
        .expect(400);
      const { message, details } = res.body.error;
      expect(details.fields.map((entry: { field: string }) => entry.field)).toEqual([
        'name',
        'limits.concurrency',
      ]);
      for (const entry of details.fields) {
        expect(entry.messages.length).toBeGreaterThan(0);
        for (const text of entry.messages) expect(text.startsWith(entry.field)).toBe(true);
      }
      expect(message).toBe(
        details.fields.flatMap((entry: { messages: string[] }) => entry.messages).join('; '),
      );
    });

    it('should answer 400 INVALID_KEY_POLICY when the fields contradict each other', async () => {
      const res = await api()
        .post('/admin/api/keys')
        .send({ name: 'x', limits: { windowRequests: 10 } })
        .expect(400);

      expect(res.body.error.code).toBe('INVALID_KEY_POLICY');
    });
  });

  describe('POST /admin/api/keys/batch', () => {
    it('should create every key with its own secret', async () => {
      const res = await api()
        .post('/admin/api/keys/batch')
        .send({ count: 3, namePattern: 'batch-{n}', owner: 'batcher' })
        .expect(201);

      expect(res.body.items.map((k: { name: string }) => k.name)).toEqual([
        'batch-1',
        'batch-2',
        'batch-3',
      ]);
      expect(new Set(res.body.items.map((k: { secret: string }) => k.secret)).size).toBe(3);
    });

    it('should answer 400 when the count is above 500', async () => {
      await api().post('/admin/api/keys/batch').send({ count: 501, namePattern: 'x' }).expect(400);
    });
  });

  describe('GET /admin/api/keys', () => {
    it('should parse paging, filters and sorting from the query string', async () => {
      const res = await api()
        .get('/admin/api/keys')
        .query({
          owner: 'batcher',
          enabled: 'true',
          sortBy: 'name',
          sortOrder: 'desc',
          pageSize: 2,
        })
        .expect(200);

      expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 2 });
      expect(res.body.items.map((k: { name: string }) => k.name)).toEqual(['batch-3', 'batch-2']);
    });

    it('should answer 400 when the page size is over 200 or the sort field is unknown', async () => {
      await api().get('/admin/api/keys').query({ pageSize: 201 }).expect(400);
      await api().get('/admin/api/keys').query({ sortBy: 'secret' }).expect(400);
      await api().get('/admin/api/keys').query({ enabled: 'maybe' }).expect(400);
    });
  });

  describe('key lifecycle', () => {
    it('should update, disable, enable, rotate, delete and restore a key', async () => {
      const authenticator = app.get(ApiKeyAuthenticator);
      const created = await api().post('/admin/api/keys').send({ name: 'life' }).expect(201);
      const id = created.body.id as string;
      const base = `/admin/api/keys/${id}`;

      const patched = await api()
        .patch(base)
        .send({ description: 'changed', limits: { concurrency: 2 } })
        .expect(200);
      expect(patched.body).toMatchObject({ description: 'changed', limits: { concurrency: 2 } });
      await api().patch(base).send({ name: null }).expect(400);

      expect((await api().post(`${base}/disable`).expect(200)).body.status).toBe('disabled');
      expect((await authenticator.authenticate(created.body.secret))?.enabled).toBe(false);
      expect((await api().post(`${base}/enable`).expect(200)).body.status).toBe('active');

      const rotated = await api().post(`${base}/rotate`).expect(200);
      expect(rotated.body.secret).not.toBe(created.body.secret);
      expect(await authenticator.authenticate(created.body.secret)).toBeNull();

      expect((await api().delete(base).expect(200)).body.status).toBe('deleted');
      const conflict = await api().patch(base).send({ description: 'x' }).expect(409);
      expect(conflict.body.error.code).toBe('KEY_DELETED');
      const listed = await api().get('/admin/api/keys').query({ search: 'life' }).expect(200);
      expect(listed.body.total).toBe(0);

      expect((await api().post(`${base}/restore`).expect(200)).body.status).toBe('active');
    });

    it('should answer 404 KEY_NOT_FOUND for an unknown id and 400 for a malformed one', async () => {
      const res = await api().get(`/admin/api/keys/${UNKNOWN_ID}`).expect(404);
      expect(res.body.error.code).toBe('KEY_NOT_FOUND');
      await api().post(`/admin/api/keys/${UNKNOWN_ID}/rotate`).expect(404);
      await api().get('/admin/api/keys/not-a-uuid').expect(400);
    });
  });
  describe('POST /admin/api/keys/batch-action', () => {
    it('should apply the action to each key and list the ones it could not change', async () => {
      const ids: string[] = [];
      for (const name of ['batch-a', 'batch-b']) {
        const res = await api().post('/admin/api/keys').send({ name }).expect(201);
        ids.push((res.body as { id: string }).id);
      }
      const disabled = await api()
        .post('/admin/api/keys/batch-action')
        .send({ action: 'disable', ids: [...ids, UNKNOWN_ID] })
        .expect(200);
      expect(
        disabled.body.items.map((k: { id: string; status: string }) => [k.id, k.status]),
      ).toEqual(ids.map((id) => [id, 'disabled']));
      expect(disabled.body.failed).toEqual([
        { id: UNKNOWN_ID, code: 'KEY_NOT_FOUND', message: expect.any(String) },
      ]);

      await api().post('/admin/api/keys/batch-action').send({ action: 'delete', ids }).expect(200);
      const enable = await api()
        .post('/admin/api/keys/batch-action')
        .send({ action: 'enable', ids: [ids[0]] })
        .expect(200);
      expect(enable.body.failed).toEqual([
        { id: ids[0], code: 'KEY_DELETED', message: expect.any(String) },
      ]);
      const restored = await api()
        .post('/admin/api/keys/batch-action')
        .send({ action: 'restore', ids })
        .expect(200);
      expect(restored.body.items.map((k: { deletedAt: unknown }) => k.deletedAt)).toEqual([
        null,
        null,
      ]);
    });

    it('should answer 400 for an unknown action, no ids or a malformed id', async () => {
      for (const body of [
        { action: 'rotate', ids: [UNKNOWN_ID] },
        { action: 'enable', ids: [] },
        { action: 'enable', ids: ['nope'] },
      ]) {
        const res = await api().post('/admin/api/keys/batch-action').send(body);
        expect(res.status).toBe(400);
      }
    });
  });

  describe('GET /admin/api/keys/budgets', () => {
    it('should answer what is used of each limit of each key asked for', async () => {
      const limited = await api()
        .post('/admin/api/keys')
        .send({
          name: 'budgeted',
          limits: {
            windowMinutes: 60,
            windowRequests: 10,
            concurrency: 2,
            dailyCostMicros: 5_000_000,
          },
        })
        .expect(201);
      const plain = await api().post('/admin/api/keys').send({ name: 'plain' }).expect(201);
      const res = await api()
        .get(`/admin/api/keys/budgets?ids=${limited.body.id},${UNKNOWN_ID}&ids=${plain.body.id}`)
        .expect(200);
      expect(res.body.items).toEqual([
        {
          id: limited.body.id,
          budgets: {
            window: { windowMinutes: 60, resetAtMs: null, requests: { limit: 10, used: 0 } },
            daily: { limitMicros: 5_000_000, spentMicros: 0, resetAtMs: expect.any(Number) },
            concurrency: { limit: 2, active: 0 },
          },
        },
        { id: plain.body.id, budgets: {} },
      ]);
    });

    it('should answer 400 without ids or with a malformed one', async () => {
      await api().get('/admin/api/keys/budgets').expect(400);
      await api().get('/admin/api/keys/budgets?ids=nope').expect(400);
    });
  });
});
