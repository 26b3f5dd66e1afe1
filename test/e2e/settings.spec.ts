import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream, type FakeScenario } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

/**
 * Runtime settings end to end: two Switchyard processes share PostgreSQL and Redis; a pool of
 * accounts all fail (529 or 5xx, scripted per credential on the fake upstream); the failover
 * attempts a request makes follow `relayMaxAttempts`, changed through the admin API of one
 * instance and obeyed by the other without a restart.
 */

const ADMIN_PASSWORD = 'e2e-settings-admin-password';
const MODEL = 'claude-sonnet-4-6';
const ENV_ATTEMPTS = 2;
/** More accounts than any attempt count used below: every attempt can go to a fresh account. */
const FAILING: [string, FakeScenario][] = [
  ['cred-overloaded-1', { status: 529 }],
  ['cred-overloaded-2', { status: 529 }],
  ['cred-overloaded-3', { status: 529 }],
  ['cred-server-error-1', { status: 500 }],
  ['cred-server-error-2', { status: 503 }],
  ['cred-server-error-3', { status: 502 }],
];

class Instance {
  private token = '';

  constructor(readonly process: ServerProcess) {}

  get url(): string {
    return this.process.url;
  }

  async login(): Promise<void> {
    const res = await fetch(`${this.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    expect(res.status).toBe(200);
    this.token = ((await res.json()) as { token: string }).token;
  }

  async admin(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined };
  }

  async setting(key: string): Promise<{ value: unknown; source: string }> {
    const res = await this.admin('GET', `/admin/api/settings/${key}`);
    if (res.status !== 200) throw new Error(`GET setting ${key}: ${res.status}`);
    return res.body;
  }
}

describeWithPostgres('Runtime settings across two instances (PostgreSQL + Redis)', (baseUrl) => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let db: TempDatabase;
  let upstream: FakeUpstream;
  let a: Instance;
  let b: Instance;
  let secret: string;

  /** Sends one request through `via` and returns the credentials the upstream saw, in order. */
  async function attemptsOf(via: Instance): Promise<string[]> {
    const before = upstream.requests.length;
    const client = new Anthropic({ apiKey: secret, baseURL: via.url, maxRetries: 0 });
    const outcome = await client.messages
      .create({ model: MODEL, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })
      .then(
        () => 'answered',
        (error: unknown) => error,
      );
    // Every account fails: the client gets the last failure, after the attempts allowed.
    expect(outcome).toBeInstanceOf(Anthropic.APIError);
    expect((outcome as InstanceType<typeof Anthropic.APIError>).status).toBeGreaterThanOrEqual(500);
    return upstream.requests
      .slice(before)
      .filter((r) => r.path === '/v1/messages')
      .map((r) => r.credential ?? '?');
  }

  beforeAll(async () => {
    db = await createTempPostgresDatabase(baseUrl);
    upstream = await FakeUpstream.start();
    for (const [credential, scenario] of FAILING) upstream.forCredential(credential, scenario);
    const env = {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      // Channels are prefixed too: parallel runs on the same Redis never hear each other.
      REDIS_KEY_PREFIX: `syset${Date.now().toString(36)}:`,
      // Replicas share their secrets, as production requires.
      ENCRYPTION_KEY: 'e2e-settings-encryption-key-0123456789abcdef',
      JWT_SECRET: 'e2e-settings-jwt-secret-0123456789abcdef',
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      RELAY_MAX_ATTEMPTS: String(ENV_ATTEMPTS),
      // A failed account stays routable, so each request can try the whole pool again.
      ACCOUNT_COOLDOWN_OVERLOADED_MS: '0',
      ACCOUNT_COOLDOWN_SERVER_ERROR_MS: '0',
    };
    a = new Instance(
      await startServerProcess({
        ...env,
        INSTANCE_ID: 'settings-a',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-settings-a-')),
      }),
    );
    await a.login();
    for (const [credential] of FAILING) {
      const created = await a.admin('POST', '/admin/api/accounts', {
        type: 'claude-console',
        name: credential,
        baseUrl: upstream.url,
        credentials: { apiKey: credential },
      });
      expect(created.status).toBe(201);
    }
    const key = await a.admin('POST', '/admin/api/keys', { name: 'settings-e2e' });
    expect(key.status).toBe(201);
    secret = key.body.secret;
    // B starts once the accounts exist, so its pool holds all of them from its first request.
    b = new Instance(
      await startServerProcess({
        ...env,
        INSTANCE_ID: 'settings-b',
        DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-settings-b-')),
      }),
    );
    await b.login();
  }, 90_000);

  afterAll(async () => {
    await a?.process.stop();
    await b?.process.stop();
    await upstream?.close();
    await db?.drop();
  });

  it('should try the environment number of accounts, then a number changed on A on B, without a restart', async () => {
    const pidA = a.process.child.pid;
    const pidB = b.process.child.pid;
    expect(await b.setting('relayMaxAttempts')).toMatchObject({
      value: ENV_ATTEMPTS,
      default: ENV_ATTEMPTS,
      source: 'env',
      envVariable: 'RELAY_MAX_ATTEMPTS',
    });
    const first = await attemptsOf(b);
    expect(first).toHaveLength(ENV_ATTEMPTS);
    expect(new Set(first).size).toBe(ENV_ATTEMPTS);

    const put = await a.admin('PUT', '/admin/api/settings', { values: { relayMaxAttempts: 5 } });
    expect(put.status).toBe(200);
    expect(put.body.changes).toEqual([
      {
        key: 'relayMaxAttempts',
        previous: ENV_ATTEMPTS,
        previousSource: 'env',
        value: 5,
        source: 'database',
        changed: true,
      },
    ]);
    // The writer applies its change before it answers.
    expect((await attemptsOf(a)).length).toBe(5);

    // B hears of it through Redis: wait for B's own view of the value, not for a clock.
    await waitFor(
      () => b.setting('relayMaxAttempts'),
      (s) => s.value === 5 && s.source === 'database',
      15_000,
      50,
    );
    const afterChange = await attemptsOf(b);
    expect(afterChange).toHaveLength(5);
    expect(new Set(afterChange).size).toBe(5);

    // Back to the environment's value, this time from B; A follows.
    const reset = await b.admin('DELETE', '/admin/api/settings/relayMaxAttempts');
    expect(reset.status).toBe(200);
    expect(reset.body.changes[0]).toMatchObject({
      previous: 5,
      value: ENV_ATTEMPTS,
      source: 'env',
    });
    await waitFor(
      () => a.setting('relayMaxAttempts'),
      (s) => s.value === ENV_ATTEMPTS && s.source === 'env',
      15_000,
      50,
    );
    expect(await attemptsOf(a)).toHaveLength(ENV_ATTEMPTS);

    // The same two processes throughout.
    expect(a.process.child.exitCode).toBeNull();
    expect(b.process.child.exitCode).toBeNull();
    expect([a.process.child.pid, b.process.child.pid]).toEqual([pidA, pidB]);
  });

  it('should refuse a partly bad change as a whole, naming every bad key, and change nothing', async () => {
    const res = await a.admin('PUT', '/admin/api/settings', {
      values: { relayMaxAttempts: 11, stickyContentHash: 'yes', accountCooldownTimeoutMs: 5000 },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('SETTINGS_INVALID');
    expect(Object.keys(res.body.error.details.errors).sort()).toEqual([
      'relayMaxAttempts',
      'stickyContentHash',
    ]);
    for (const instance of [a, b]) {
      expect(await instance.setting('accountCooldownTimeoutMs')).toMatchObject({ source: 'env' });
      expect(await instance.setting('relayMaxAttempts')).toMatchObject({ value: ENV_ATTEMPTS });
    }
    expect(await attemptsOf(b)).toHaveLength(ENV_ATTEMPTS);
  });
});
