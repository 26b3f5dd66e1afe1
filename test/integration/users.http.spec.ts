import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { UsersService } from 'src/modules/users/users.service';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const ADMIN_PASSWORD = 'correct-horse-battery';

interface Answer {
  status: number;
  body: any;
}

interface Harness {
  app: NestExpressApplication;
  url: string;
  adminToken: string;
}

async function startHarness(env: Record<string, string>): Promise<Harness> {
  const app = await createApp(
    new ConfigService(
      loadEnvironment({
        DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-users-http-')),
        LOG_LEVEL: 'silent',
        USAGE_FLUSH_INTERVAL_MS: '3600000',
        ...env,
      }),
    ),
  );
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://127.0.0.1:${port}`;
  await app.get(UsersService).bootstrapAdmin('admin', ADMIN_PASSWORD);
  const adminToken = await login(url, 'admin', ADMIN_PASSWORD);
  return { app, url, adminToken };
}

async function login(url: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${url}/admin/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await res.json()) as { token?: string };
  if (res.status !== 200 || body.token === undefined) {
    throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(body)}`);
  }
  return body.token;
}

function usageEvent(apiKeyId: string, at: number, overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: `req-${apiKeyId}-${at}`,
    at,
    apiKeyId,
    accountId: 'acct-secret-internal',
    platform: 'claude',
    model: 'claude-sonnet-4-6',
    status: 200,
    outcome: 'ok',
    stream: false,
    usage: {
      inputTokens: 100,
      outputTokens: 10,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: 0,
    },
    costMicros: 450,
    priceKnown: true,
    latencyMs: 100,
    ttfbMs: 50,
    attempts: 1,
    errorCode: null,
    ...overrides,
  };
}

/** The users admin API and the self-service routes, over HTTP through the whole application. */
function usersApiContract(env: () => Promise<Record<string, string>>): void {
  let h: Harness;

  async function call(
    token: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Answer> {
    const res = await fetch(`${h.url}/admin/api${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null };
  }
  const admin = (method: string, path: string, body?: unknown): Promise<Answer> =>
    call(h.adminToken, method, path, body);

  /** A new user of the role with these caps, signed in; returns its id and session token. */
  async function signedInUser(
    username: string,
    caps?: Record<string, unknown>,
    role = 'user',
  ): Promise<{ id: string; token: string }> {
    const created = await admin('POST', '/users', { username, role, caps });
    expect(created.status).toBe(201);
    return {
      id: created.body.id,
      token: await login(h.url, username, created.body.generatedPassword),
    };
  }

  /** Whether the relay accepts this key (GET /v1/models, which needs no upstream account). */
  async function keyWorks(secret: string): Promise<{ status: number; message?: string }> {
    const res = await fetch(`${h.url}/v1/models`, {
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01' },
    });
    const body = (await res.json()) as { error?: { message: string } };
    return { status: res.status, message: body.error?.message };
  }

  beforeAll(async () => {
    h = await startHarness(await env());
  });
  afterAll(async () => {
    await h?.app.close();
  });

  describe('users admin API', () => {
    it('should create a user with a generated password shown once and never show a hash', async () => {
      const created = await admin('POST', '/users', { username: 'ana', role: 'operator' });
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: expect.any(String),
        username: 'ana',
        role: 'operator',
        disabled: false,
        authSource: 'local',
        caps: { maxKeys: 5, limits: {}, models: null, platforms: null },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        lastLoginAt: null,
        generatedPassword: expect.stringMatching(/^[\w-]{24}$/),
      });
      await login(h.url, 'ana', created.body.generatedPassword);

      const shown = await admin('GET', `/users/${created.body.id}`);
      const listed = await admin('GET', '/users?search=ana');
      for (const answer of [shown, listed]) {
        expect(answer.status).toBe(200);
        const text = JSON.stringify(answer.body);
        expect(text).not.toContain(created.body.generatedPassword);
        expect(text).not.toMatch(/hash|\$2[aby]\$/i);
      }
      expect(shown.body.lastLoginAt).not.toBeNull();

      const withPassword = await admin('POST', '/users', {
        username: 'bo',
        role: 'viewer',
        password: 'a-chosen-password',
      });
      expect(withPassword.status).toBe(201);
      expect(withPassword.body).not.toHaveProperty('generatedPassword');
      await login(h.url, 'bo', 'a-chosen-password');
    });

    it('should refuse a taken username, a bad role or username, and inconsistent caps', async () => {
      await admin('POST', '/users', { username: 'dup', role: 'user' });
      const taken = await admin('POST', '/users', { username: 'dup', role: 'viewer' });
      expect([taken.status, taken.body.error.code]).toEqual([409, 'USERNAME_TAKEN']);
      for (const body of [
        { username: 'x y', role: 'user' },
        { username: 'ok', role: 'root' },
        { username: 'ok', role: 'user', password: 'short' },
        { username: 'ok', role: 'user', caps: { maxKeys: -1 } },
        { username: 'ok', role: 'user', caps: { limits: { dailyCost: 5 } } },
        { username: 'ok', role: 'user', passwordHash: 'x' },
      ]) {
        const res = await admin('POST', '/users', body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      const caps = await admin('POST', '/users', {
        username: 'windowless',
        role: 'user',
        caps: { limits: { windowRequests: 10 } },
      });
      expect([caps.status, caps.body.error.code]).toEqual([400, 'INVALID_CAPS']);
    });

    it('should page, sort and filter the list in SQL', async () => {
      for (const name of ['list-c', 'list-a', 'list-b']) {
        await admin('POST', '/users', { username: name, role: 'viewer' });
      }
      const page1 = await admin('GET', '/users?search=LIST-&sortBy=username&pageSize=2');
      expect(page1.body.total).toBe(3);
      expect(page1.body.items.map((u: { username: string }) => u.username)).toEqual([
        'list-a',
        'list-b',
      ]);
      const page2 = await admin('GET', '/users?search=list-&sortBy=username&pageSize=2&page=2');
      expect(page2.body.items.map((u: { username: string }) => u.username)).toEqual(['list-c']);
      const desc = await admin('GET', '/users?search=list-&sortBy=username&sortOrder=desc');
      expect(desc.body.items[0].username).toBe('list-c');

      const b = page1.body.items[1] as { id: string };
      await admin('PATCH', `/users/${b.id}`, { disabled: true });
      const disabled = await admin('GET', '/users?search=list-&disabled=true');
      expect(disabled.body.items.map((u: { username: string }) => u.username)).toEqual(['list-b']);
      const admins = await admin('GET', '/users?role=admin');
      expect(admins.body.items.map((u: { username: string }) => u.username)).toEqual(['admin']);
      const bad = await admin('GET', '/users?sortBy=password_hash');
      expect(bad.status).toBe(400);
    });

    it('should apply a role change and a disable to the next request of that user', async () => {
      const carol = await signedInUser('carol', undefined, 'viewer');
      expect((await call(carol.token, 'GET', '/users')).status).toBe(200);
      await admin('PATCH', `/users/${carol.id}`, { role: 'user' });
      const refused = await call(carol.token, 'GET', '/users');
      expect([refused.status, refused.body.error.code]).toEqual([403, 'FORBIDDEN']);
      expect((await call(carol.token, 'GET', '/auth/me')).body.role).toBe('user');

      await admin('PATCH', `/users/${carol.id}`, { disabled: true });
      expect((await call(carol.token, 'GET', '/auth/me')).status).toBe(401);
    });

    it('should refuse to demote, disable or delete the last enabled admin, and allow it once another exists', async () => {
      const me = (await admin('GET', '/auth/me')).body as { id: string };
      for (const [method, body] of [
        ['PATCH', { role: 'operator' }],
        ['PATCH', { disabled: true }],
        ['DELETE', undefined],
      ] as const) {
        const res = await admin(method, `/users/${me.id}`, body);
        expect({ method, body, status: res.status, code: res.body?.error.code }).toEqual({
          method,
          body,
          status: 409,
          code: 'LAST_ADMIN',
        });
      }
      expect((await admin('GET', '/auth/me')).body.role).toBe('admin');

      const second = await admin('POST', '/users', { username: 'admin2', role: 'admin' });
      const secondToken = await login(h.url, 'admin2', second.body.generatedPassword);
      // A disabled admin does not count as the other admin.
      await admin('PATCH', `/users/${second.body.id}`, { disabled: true });
      expect((await admin('PATCH', `/users/${me.id}`, { role: 'operator' })).status).toBe(409);
      await admin('PATCH', `/users/${second.body.id}`, { disabled: false });
      const newToken = await login(h.url, 'admin2', second.body.generatedPassword);
      expect(secondToken).not.toBe(newToken);
      // Now admin2 may demote admin and back again.
      const demoted = await call(newToken, 'PATCH', `/users/${me.id}`, { role: 'operator' });
      expect([demoted.status, demoted.body.role]).toEqual([200, 'operator']);
      expect((await call(newToken, 'PATCH', `/users/${me.id}`, { role: 'admin' })).status).toBe(
        200,
      );
    });

    it('should reset a password: the generated one shown once, old sessions revoked', async () => {
      const dan = await signedInUser('dan');
      const reset = await admin('POST', `/users/${dan.id}/reset-password`, {});
      expect(reset.status).toBe(200);
      expect(reset.body.generatedPassword).toEqual(expect.any(String));
      expect((await call(dan.token, 'GET', '/auth/me')).status).toBe(401);
      await login(h.url, 'dan', reset.body.generatedPassword);
      const chosen = await admin('POST', `/users/${dan.id}/reset-password`, {
        password: 'dans-new-password',
      });
      expect(chosen.body).not.toHaveProperty('generatedPassword');
      await login(h.url, 'dan', 'dans-new-password');
      const unknown = await admin(
        'POST',
        '/users/00000000-0000-4000-8000-000000000000/reset-password',
        {},
      );
      expect([unknown.status, unknown.body.error.code]).toEqual([404, 'USER_NOT_FOUND']);
    });

    it('should merge caps on update: absent fields kept, a null limit removed', async () => {
      const created = await admin('POST', '/users', {
        username: 'capped',
        role: 'user',
        caps: {
          maxKeys: 3,
          limits: { concurrency: 2, dailyCostMicros: 100 },
          models: ['claude-*'],
        },
      });
      const updated = await admin('PATCH', `/users/${created.body.id}`, {
        caps: { limits: { concurrency: null, totalCostMicros: 5 }, platforms: ['claude'] },
      });
      expect(updated.body.caps).toEqual({
        maxKeys: 3,
        limits: { dailyCostMicros: 100, totalCostMicros: 5 },
        models: ['claude-*'],
        platforms: ['claude'],
      });
      const cleared = await admin('PATCH', `/users/${created.body.id}`, { caps: { models: null } });
      expect(cleared.body.caps.models).toBeNull();
    });
  });

  describe('self-service keys', () => {
    const caps = {
      maxKeys: 2,
      limits: { dailyCostMicros: 1_000_000, concurrency: 2 },
      models: ['claude-*'],
      platforms: ['claude'],
    };

    it('should create a key filled from the caps, and show its secret once', async () => {
      const eve = await signedInUser('eve', caps);
      expect((await call(eve.token, 'GET', '/me/caps')).body).toEqual(caps);
      const created = await call(eve.token, 'POST', '/me/keys', { name: 'laptop' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        name: 'laptop',
        owner: 'eve',
        userId: eve.id,
        status: 'active',
        permissions: ['claude'],
        modelPolicy: { mode: 'allow', patterns: ['claude-*'] },
        limits: { dailyCostMicros: 1_000_000, concurrency: 2 },
        reservationPolicy: 'strict',
        priceMultiplier: 1,
        secret: expect.stringMatching(/^sk-sy-/),
      });
      const shown = await call(eve.token, 'GET', `/me/keys/${created.body.id}`);
      expect(shown.body).not.toHaveProperty('secret');
      expect((await keyWorks(created.body.secret)).status).toBe(200);
    });

    it('should refuse a key above a cap with USER_CAP_EXCEEDED naming each cap', async () => {
      const fay = await signedInUser('fay', caps);
      const above = await call(fay.token, 'POST', '/me/keys', {
        name: 'greedy',
        permissions: ['claude', 'openai'],
        modelPolicy: { mode: 'allow', patterns: ['gpt-*'] },
        limits: { dailyCostMicros: 2_000_000 },
      });
      expect(above.status).toBe(422);
      expect(above.body.error.code).toBe('USER_CAP_EXCEEDED');
      expect(above.body.error.message).toContain('limits.dailyCostMicros');
      expect(above.body.error.details.violations).toEqual([
        { cap: 'platforms', limit: ['claude'], requested: ['openai'] },
        { cap: 'models', limit: ['claude-*'], requested: ['gpt-*'] },
        { cap: 'limits.dailyCostMicros', limit: 1_000_000, requested: 2_000_000 },
      ]);
      // Fields only an admin sets are not accepted at all.
      for (const body of [
        { name: 'x', priceMultiplier: 0 },
        { name: 'x', bindings: { claude: { accountId: 'a' } } },
        { name: 'x', owner: 'someone' },
        { name: 'x', reservationPolicy: 'estimate' },
      ]) {
        const res = await call(fay.token, 'POST', '/me/keys', body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
      }
      expect((await call(fay.token, 'GET', '/me/keys')).body.total).toBe(0);
    });

    it('should refuse a key beyond maxKeys until one is deleted', async () => {
      const gus = await signedInUser('gus', caps);
      const one = await call(gus.token, 'POST', '/me/keys', { name: 'one' });
      await call(gus.token, 'POST', '/me/keys', { name: 'two' });
      const three = await call(gus.token, 'POST', '/me/keys', { name: 'three' });
      expect(three.status).toBe(422);
      expect(three.body.error.details.violations).toEqual([
        { cap: 'maxKeys', limit: 2, requested: 3 },
      ]);
      expect((await call(gus.token, 'DELETE', `/me/keys/${one.body.id}`)).status).toBe(200);
      expect((await keyWorks(one.body.secret)).status).toBe(401);
      expect((await call(gus.token, 'POST', '/me/keys', { name: 'three' })).status).toBe(201);
      // A deleted key is gone for its owner.
      expect((await call(gus.token, 'GET', `/me/keys/${one.body.id}`)).status).toBe(404);
    });

    it("should show only the caller's keys and answer 404 for anyone else's", async () => {
      const hal = await signedInUser('hal', caps);
      const ivy = await signedInUser('ivy', caps);
      const hals = await call(hal.token, 'POST', '/me/keys', { name: 'hal-key' });
      const ivys = await call(ivy.token, 'POST', '/me/keys', { name: 'ivy-key' });
      const adminKey = await admin('POST', '/keys', { name: 'admin-key' });
      expect(adminKey.status).toBe(201);

      const list = await call(hal.token, 'GET', '/me/keys');
      expect(list.body.total).toBe(1);
      expect(list.body.items.map((k: { name: string }) => k.name)).toEqual(['hal-key']);
      // Query parameters cannot widen the scope.
      expect((await call(hal.token, 'GET', `/me/keys?userId=${ivy.id}`)).status).toBe(400);
      expect((await call(hal.token, 'GET', '/me/keys?owner=ivy')).status).toBe(400);

      for (const id of [ivys.body.id, adminKey.body.id]) {
        for (const [method, path, body] of [
          ['GET', `/me/keys/${id}`, undefined],
          ['PATCH', `/me/keys/${id}`, { name: 'mine now' }],
          ['POST', `/me/keys/${id}/rotate`, undefined],
          ['POST', `/me/keys/${id}/disable`, undefined],
          ['DELETE', `/me/keys/${id}`, undefined],
        ] as const) {
          const res = await call(hal.token, method, path, body);
          expect({ method, path, status: res.status, code: res.body.error.code }).toEqual({
            method,
            path,
            status: 404,
            code: 'KEY_NOT_FOUND',
          });
        }
      }
      expect((await keyWorks(ivys.body.secret)).status).toBe(200);
      expect((await admin('GET', `/keys/${adminKey.body.id}`)).body.name).toBe('admin-key');
      // The admin finds a user's keys by userId.
      const byUser = await admin('GET', `/keys?userId=${hal.id}`);
      expect(byUser.body.items.map((k: { id: string }) => k.id)).toEqual([hals.body.id]);
    });

    it('should patch within the caps, refuse above them, and give a removed limit the cap', async () => {
      const jo = await signedInUser('jo', caps);
      const key = await call(jo.token, 'POST', '/me/keys', {
        name: 'k',
        limits: { dailyCostMicros: 10 },
      });
      const narrower = await call(jo.token, 'PATCH', `/me/keys/${key.body.id}`, {
        name: 'renamed',
        modelPolicy: { mode: 'allow', patterns: ['claude-haiku-*'] },
        limits: { concurrency: 1 },
      });
      expect(narrower.status).toBe(200);
      expect(narrower.body).toMatchObject({
        name: 'renamed',
        modelPolicy: { mode: 'allow', patterns: ['claude-haiku-*'] },
        limits: { dailyCostMicros: 10, concurrency: 1 },
      });
      const above = await call(jo.token, 'PATCH', `/me/keys/${key.body.id}`, {
        limits: { concurrency: 3 },
      });
      expect([above.status, above.body.error.code]).toEqual([422, 'USER_CAP_EXCEEDED']);
      const removed = await call(jo.token, 'PATCH', `/me/keys/${key.body.id}`, {
        limits: { dailyCostMicros: null },
        modelPolicy: null,
      });
      expect(removed.body.limits).toEqual({ dailyCostMicros: 1_000_000, concurrency: 1 });
      expect(removed.body.modelPolicy).toEqual({ mode: 'allow', patterns: ['claude-*'] });
    });

    it('should rotate, disable and enable an own key', async () => {
      const kim = await signedInUser('kim', caps);
      const key = await call(kim.token, 'POST', '/me/keys', { name: 'k' });
      const rotated = await call(kim.token, 'POST', `/me/keys/${key.body.id}/rotate`);
      expect(rotated.status).toBe(200);
      expect(rotated.body.secret).not.toBe(key.body.secret);
      expect((await keyWorks(key.body.secret)).status).toBe(401);
      expect((await keyWorks(rotated.body.secret)).status).toBe(200);
      expect((await call(kim.token, 'POST', `/me/keys/${key.body.id}/disable`)).body.status).toBe(
        'disabled',
      );
      expect((await keyWorks(rotated.body.secret)).status).toBe(401);
      expect((await call(kim.token, 'POST', `/me/keys/${key.body.id}/enable`)).body.status).toBe(
        'active',
      );
      expect((await keyWorks(rotated.body.secret)).status).toBe(200);
    });

    it("should stop a disabled user's keys at once and bring back only those enabled before", async () => {
      const lee = await signedInUser('lee', caps);
      const on = await call(lee.token, 'POST', '/me/keys', { name: 'on' });
      const off = await call(lee.token, 'POST', '/me/keys', { name: 'off', enabled: false });
      expect((await keyWorks(on.body.secret)).status).toBe(200);

      await admin('PATCH', `/users/${lee.id}`, { disabled: true });
      const refused = await keyWorks(on.body.secret);
      expect(refused.status).toBe(401);
      expect(refused.message).toMatch(/user it belongs to is disabled/);
      expect((await admin('GET', `/keys/${on.body.id}`)).body.status).toBe('disabled');

      await admin('PATCH', `/users/${lee.id}`, { disabled: false });
      expect((await keyWorks(on.body.secret)).status).toBe(200);
      expect((await keyWorks(off.body.secret)).status).toBe(401);
    });

    it("should disable and detach a deleted user's keys and end their sessions", async () => {
      const max = await signedInUser('max', caps);
      const key = await call(max.token, 'POST', '/me/keys', { name: 'k' });
      expect((await admin('DELETE', `/users/${max.id}`)).status).toBe(204);
      expect((await call(max.token, 'GET', '/me/keys')).status).toBe(401);
      expect((await keyWorks(key.body.secret)).status).toBe(401);
      const kept = await admin('GET', `/keys/${key.body.id}`);
      expect(kept.body).toMatchObject({
        status: 'disabled',
        enabled: false,
        userId: null,
        owner: 'max',
      });
      expect((await admin('GET', `/users/${max.id}`)).status).toBe(404);
      // An admin may bring the key back as an ordinary key.
      await admin('POST', `/keys/${key.body.id}/enable`);
      expect((await keyWorks(key.body.secret)).status).toBe(200);
    });
  });

  describe('self-service usage', () => {
    it("should total, chart and list only the caller's keys, and nothing for a user without keys", async () => {
      const ned = await signedInUser('ned');
      const ola = await signedInUser('ola');
      const empty = await signedInUser('pam');
      const nedKey = (await call(ned.token, 'POST', '/me/keys', { name: 'n' })).body;
      const olaKey = (await call(ola.token, 'POST', '/me/keys', { name: 'o' })).body;
      const adminKey = (await admin('POST', '/keys', { name: 'a' })).body;
      const recorder = h.app.get(UsageRecorder);
      const at = Date.now() - 10 * 60_000;
      for (let i = 0; i < 3; i++) recorder.record(usageEvent(nedKey.id, at + i));
      for (let i = 0; i < 5; i++) recorder.record(usageEvent(olaKey.id, at + i));
      for (let i = 0; i < 7; i++) recorder.record(usageEvent(adminKey.id, at + i));
      await recorder.flush();

      const summary = await call(ned.token, 'GET', '/me/usage/summary');
      expect(summary.status).toBe(200);
      expect(summary.body).toMatchObject({ requests: 3, inputTokens: 300, costMicros: 1350 });
      const one = await call(ned.token, 'GET', `/me/usage/summary?keyId=${nedKey.id}`);
      expect(one.body.requests).toBe(3);
      const theirs = await call(ned.token, 'GET', `/me/usage/summary?keyId=${olaKey.id}`);
      expect([theirs.status, theirs.body.error.code]).toEqual([404, 'KEY_NOT_FOUND']);

      const series = await call(ned.token, 'GET', '/me/usage/timeseries?bucket=hour');
      expect(series.status).toBe(200);
      const total = (series.body.points as { requests: number }[]).reduce(
        (sum, p) => sum + p.requests,
        0,
      );
      expect(total).toBe(3);

      const log = await call(ned.token, 'GET', '/me/usage/requests');
      expect(log.body.total).toBe(3);
      for (const item of log.body.items as { apiKeyId: string; accountId: unknown }[]) {
        expect(item).toMatchObject({ apiKeyId: nedKey.id, accountId: null });
      }
      expect(JSON.stringify(log.body)).not.toContain('acct-secret-internal');
      expect((await call(ned.token, 'GET', '/me/usage/requests?accountId=x')).status).toBe(400);

      // No keys: zeros, never everyone's rows.
      expect((await call(empty.token, 'GET', '/me/usage/summary')).body.requests).toBe(0);
      expect((await call(empty.token, 'GET', '/me/usage/requests')).body.total).toBe(0);
      const emptySeries = await call(empty.token, 'GET', '/me/usage/timeseries');
      expect(emptySeries.body.points.every((p: { requests: number }) => p.requests === 0)).toBe(
        true,
      );
      // The admin's own view still sees everything.
      expect((await admin('GET', '/usage/summary')).body.requests).toBeGreaterThanOrEqual(15);
    });
  });
}

describe('users and self-service API on SQLite', () => {
  usersApiContract(async () => ({ DATABASE_URL: '', REDIS_URL: '' }));
});

describeWithPostgres('users and self-service API on PostgreSQL', (baseUrl) => {
  let temp: TempDatabase | undefined;
  afterAll(async () => {
    await temp?.drop();
  });
  usersApiContract(async () => {
    temp = await createTempPostgresDatabase(baseUrl);
    return { DATABASE_URL: temp.url, REDIS_URL: '' };
  });
});
