import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { throwawayRedis, type ThrowawayRedis } from '../support/redis-server';
import {
  runServerExpectingExit,
  startServerProcess,
  waitFor,
  type ServerProcess,
} from '../support/app-process';

async function ready(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/health/ready`);
  return { status: res.status, body: await res.json() };
}

async function login(url: string, username: string, password: string): Promise<number> {
  const res = await fetch(`${url}/admin/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  return res.status;
}

describe('embedded default (SQLite, in-process coordination)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-embedded-'));
  let server: ServerProcess | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('should start, be ready, print the login, and keep data and login across a restart', async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, PRINT_BANNER: 'true' });
    const first = await ready(server.url);
    expect(first.status).toBe(200);
    expect(first.body.info.database).toEqual({ status: 'up', engine: 'sqlite' });

    const match = /Log in as:\s+admin \/ (\S+)/.exec(server.output());
    expect(match).not.toBeNull();
    const password = match![1];
    expect(server.output()).toContain('/admin');
    expect(await login(server.url, 'admin', password)).toBe(200);
    expect(await login(server.url, 'admin', 'wrong-password')).toBe(401);

    expect(await server.stop()).toBe(0);
    server = await startServerProcess({ DATA_DIR: dataDir, PRINT_BANNER: 'true' });
    expect((await ready(server.url)).status).toBe(200);
    // The password is never printed again; the console says how to log in instead.
    expect(server.output()).not.toContain(password);
    expect(server.output()).toContain('password set at first start');
    expect(await login(server.url, 'admin', password)).toBe(200);
  });

  it('should serve liveness, metrics and refuse admin routes without a session', async () => {
    server = await startServerProcess({ DATA_DIR: dataDir });
    expect((await fetch(`${server.url}/health/live`)).status).toBe(200);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('switchyard_http_requests_total');
    expect(metrics).toContain('route="/health/live"');
    expect((await fetch(`${server.url}/admin/api/auth/me`)).status).toBe(401);
  });

  it('should protect metrics with a bearer token when METRICS_TOKEN is set', async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, METRICS_TOKEN: 'metrics-token-123' });
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    const ok = await fetch(`${server.url}/metrics`, {
      headers: { authorization: 'Bearer metrics-token-123' },
    });
    expect(ok.status).toBe(200);
  });

  it("should log JSON lines with its own request id and keep the caller's beside it", async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    await fetch(`${server.url}/health/live`, { headers: { 'x-request-id': 'trace-abc-123' } });
    await waitFor(
      async () => server!.output(),
      (o) => o.includes('trace-abc-123'),
      15_000,
    );
    const line = server
      .output()
      .split('\n')
      .find((l) => l.includes('trace-abc-123'));
    const entry = JSON.parse(line!);
    expect(entry).toMatchObject({ clientRequestId: 'trace-abc-123', route: '/health/live' });
    expect(entry.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('invalid configuration', () => {
  it('should stop startup naming each bad variable', async () => {
    const { code, output } = await runServerExpectingExit({
      NODE_ENV: 'production',
      DATABASE_URL: 'not-a-url',
      PORT: 'abc',
      ENCRYPTION_KEY: 'too-short',
      JWT_SECRET: 'j'.repeat(40),
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-bad-')),
    });
    expect(code).toBe(1);
    expect(output).toContain('DATABASE_URL');
    expect(output).toContain('PORT');
    expect(output).toContain('ENCRYPTION_KEY');
    expect(output).not.toContain('j'.repeat(40));
  });
});

describeWithPostgres('scaled (PostgreSQL + Redis)', (databaseUrl) => {
  let db: TempDatabase;
  let redis: ThrowawayRedis;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    db = await createTempPostgresDatabase(databaseUrl);
    redis = await throwawayRedis();
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.stop();
    await db?.drop();
  });

  it('should report both dependencies, turn 503 when Redis stops and 200 when it returns', async () => {
    server = await startServerProcess({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-scaled-')),
      DATABASE_URL: db.url,
      REDIS_URL: redis.url,
      ADMIN_PASSWORD: 'scaled-admin-password',
      HEALTH_CHECK_TIMEOUT_MS: '1000',
    });
    const up = await ready(server.url);
    expect(up.status).toBe(200);
    expect(up.body.info.database).toMatchObject({ status: 'up', engine: 'postgres' });
    expect(up.body.info.redis).toMatchObject({ status: 'up', mode: 'standalone' });
    expect(await login(server.url, 'admin', 'scaled-admin-password')).toBe(200);

    await redis.stop();
    // Generous for a loaded machine; what matters is that readiness turns 503 and says why.
    const down = await waitFor(
      () => ready(server!.url),
      (r) => r.status === 503,
      20_000,
    );
    expect(down.body.error.redis.status).toBe('down');

    await redis.start();
    await waitFor(
      () => ready(server!.url),
      (r) => r.status === 200,
      20_000,
    );
    expect(server.child.exitCode).toBeNull();
  });
});
