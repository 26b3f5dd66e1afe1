import Anthropic from '@anthropic-ai/sdk';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres, describeWithRedis } from '../support/services';

const ADMIN_PASSWORD = 'e2e-admin-password';
const MODEL = 'claude-sonnet-4-6';
const messages = [{ role: 'user' as const, content: 'ping' }];
/** The bound for a disable to reach every instance, and slack for a loaded machine. */
const DISABLE_BUDGET_MS = 1_000;
const SLACK_MS = 14_000;

interface Answer {
  status: number;
  body: any;
}

async function call(
  url: string,
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<Answer> {
  const res = await fetch(`${url}/admin/api${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : null };
}

async function login(url: string, username: string, password: string): Promise<string> {
  const answer = await call(url, undefined, 'POST', '/auth/login', { username, password });
  if (answer.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(answer)}`);
  return answer.body.token as string;
}

function expectCreated(answer: Answer): any {
  if (answer.status !== 201) throw new Error(`expected 201: ${JSON.stringify(answer)}`);
  return answer.body;
}

/**
 * Self-service end to end: two built Switchyard processes sharing PostgreSQL and Redis, a fake
 * Anthropic upstream, @anthropic-ai/sdk as the client. A user bound by caps creates keys on
 * instance A, uses one on A and B, sees only their own keys and usage; the admin disables the
 * user on A and the key stops on B through the coordinator alone (B's key cache lives an hour).
 */
describeWithPostgres('self-service keys across two instances', (databaseUrl) => {
  describeWithRedis('on PostgreSQL and Redis', (redisUrl) => {
    twoInstances(databaseUrl, redisUrl);
  });
});

function twoInstances(databaseUrl: string, redisUrl: string): void {
  let temp: TempDatabase;
  let upstream: FakeUpstream;
  let a: ServerProcess;
  let b: ServerProcess;

  beforeAll(async () => {
    temp = await createTempPostgresDatabase(databaseUrl);
    upstream = await FakeUpstream.start();
    const env = {
      // Replicas share their secrets, as production requires.
      ENCRYPTION_KEY: 'e2e-shared-encryption-key-0123456789abcdef',
      JWT_SECRET: 'e2e-shared-jwt-secret-0123456789abcdef',
      ADMIN_PASSWORD,
      DATABASE_URL: temp.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `syss${Date.now().toString(36)}:`,
      DATABASE_POOL_SIZE: '4',
      ANTHROPIC_BASE_URL: upstream.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
      // Far beyond every wait below: only the invalidation message can make B notice a change.
      API_KEY_CACHE_TTL_MS: '3600000',
      // `info`: the harness waits for the "listening" line.
      LOG_LEVEL: 'info',
    };
    // One after the other: the first one migrates the empty database and creates the admin.
    a = await startServerProcess({ ...env, INSTANCE_ID: 'instance-a' }, 60_000);
    b = await startServerProcess({ ...env, INSTANCE_ID: 'instance-b' }, 60_000);
  }, 150_000);

  afterAll(async () => {
    await b?.stop();
    await a?.stop();
    await upstream?.close();
    await temp?.drop();
  });

  it('should keep a user within their caps, to their own keys and usage, and stop their key on B when disabled on A', async () => {
    const admin = await login(a.url, 'admin', ADMIN_PASSWORD);
    expectCreated(
      await call(a.url, admin, 'POST', '/accounts', {
        type: 'claude-console',
        name: 'console',
        baseUrl: upstream.url,
        credentials: { apiKey: 'cred-self-service' },
      }),
    );
    const caps = {
      maxKeys: 2,
      limits: { dailyCostMicros: 1_000_000, concurrency: 2 },
      models: ['claude-*'],
      platforms: ['claude'],
    };
    const sam = expectCreated(
      await call(a.url, admin, 'POST', '/users', { username: 'sam', role: 'user', caps }),
    );
    const tess = expectCreated(
      await call(a.url, admin, 'POST', '/users', { username: 'tess', role: 'user' }),
    );
    const samToken = await login(a.url, 'sam', sam.generatedPassword);
    const tessToken = await login(a.url, 'tess', tess.generatedPassword);
    // Another user's key and an admin's key exist beside sam's.
    const tessKey = expectCreated(
      await call(a.url, tessToken, 'POST', '/me/keys', { name: 'tess' }),
    );
    const adminKey = expectCreated(await call(a.url, admin, 'POST', '/keys', { name: 'ops' }));

    // Above the cap: refused, and the error says which cap.
    const above = await call(a.url, samToken, 'POST', '/me/keys', {
      name: 'too-much',
      limits: { dailyCostMicros: 5_000_000 },
    });
    expect(above.status).toBe(422);
    expect(above.body.error).toEqual({
      code: 'USER_CAP_EXCEEDED',
      message: expect.stringContaining('limits.dailyCostMicros'),
      details: {
        violations: [{ cap: 'limits.dailyCostMicros', limit: 1_000_000, requested: 5_000_000 }],
      },
    });

    // Within the cap: works with the Anthropic SDK, on A and on B.
    const key = expectCreated(
      await call(a.url, samToken, 'POST', '/me/keys', {
        name: 'laptop',
        limits: { dailyCostMicros: 500_000 },
      }),
    );
    expect(key).toMatchObject({
      userId: sam.id,
      owner: 'sam',
      permissions: ['claude'],
      modelPolicy: { mode: 'allow', patterns: ['claude-*'] },
      limits: { dailyCostMicros: 500_000, concurrency: 2 },
    });
    const viaA = new Anthropic({ apiKey: key.secret, baseURL: a.url, maxRetries: 0 });
    const viaB = new Anthropic({ apiKey: key.secret, baseURL: b.url, maxRetries: 0 });
    const reply = await viaA.messages.create({ model: MODEL, max_tokens: 16, messages });
    expect(reply.type).toBe('message');
    // B now holds the key in its cache.
    expect((await viaB.messages.create({ model: MODEL, max_tokens: 16, messages })).type).toBe(
      'message',
    );
    // The caps' model list holds on the relay too.
    await expect(
      viaA.messages.create({ model: 'gpt-4o', max_tokens: 16, messages }),
    ).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);

    // Only sam's keys, from either instance.
    for (const url of [a.url, b.url]) {
      const listed = await call(url, samToken, 'GET', '/me/keys');
      expect(listed.body.items.map((k: { id: string }) => k.id)).toEqual([key.id]);
      expect((await call(url, samToken, 'GET', `/me/keys/${tessKey.id}`)).status).toBe(404);
      expect((await call(url, samToken, 'GET', `/me/keys/${adminKey.id}`)).status).toBe(404);
    }

    // sam's usage shows those requests, and only sam's (the write-behind lands within a moment).
    const tessClient = new Anthropic({ apiKey: tessKey.secret, baseURL: a.url, maxRetries: 0 });
    await tessClient.messages.create({ model: MODEL, max_tokens: 16, messages });
    // Requests refused by the key's policy are not metered: the two served ones are.
    const log = await waitFor(
      async () => (await call(a.url, samToken, 'GET', '/me/usage/requests')).body,
      (body) => body?.total === 2,
      15_000,
      100,
    );
    for (const entry of log.items as { apiKeyId: string; model: string; status: number }[]) {
      expect(entry).toMatchObject({ apiKeyId: key.id, model: MODEL, status: 200, accountId: null });
    }
    const summary = await call(a.url, samToken, 'GET', '/me/usage/summary');
    expect(summary.body.requests).toBe(2);
    expect(summary.body.outputTokens).toBeGreaterThan(0);
    await waitFor(
      async () => (await call(a.url, tessToken, 'GET', '/me/usage/summary')).body,
      (body) => body?.requests === 1,
      15_000,
      100,
    );

    // The admin disables sam on A; B refuses the key once the invalidation arrives.
    const started = performance.now();
    const disabled = await call(a.url, admin, 'PATCH', `/users/${sam.id}`, { disabled: true });
    expect(disabled.status).toBe(200);
    const answeredMs = performance.now() - started;
    let attempts = 0;
    const refusal = await waitFor(
      () => {
        attempts += 1;
        return viaB.messages.create({ model: MODEL, max_tokens: 16, messages }).then(
          () => 'still served',
          (error: unknown) => error,
        );
      },
      (outcome) => outcome instanceof Anthropic.AuthenticationError,
      DISABLE_BUDGET_MS + SLACK_MS,
      20,
    );
    const elapsedMs = performance.now() - started;
    process.stderr.write(
      `[self-service] key refused on instance B ${elapsedMs.toFixed(0)} ms after the disable ` +
        `was sent to instance A (which answered in ${answeredMs.toFixed(0)} ms; ` +
        `${attempts} request(s) to B; budget ${DISABLE_BUDGET_MS} ms)\n`,
    );
    expect((refusal as InstanceType<typeof Anthropic.AuthenticationError>).message).toContain(
      'the user it belongs to is disabled',
    );
    await expect(
      viaA.messages.create({ model: MODEL, max_tokens: 16, messages }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    // Sam's session ended too; tess's key is untouched.
    expect((await call(b.url, samToken, 'GET', '/me/keys')).status).toBe(401);
    expect(
      (await tessClient.messages.create({ model: MODEL, max_tokens: 16, messages })).type,
    ).toBe('message');

    // Enabled again: the key (which was enabled) works again on B.
    await call(a.url, admin, 'PATCH', `/users/${sam.id}`, { disabled: false });
    await waitFor(
      () =>
        viaB.messages.create({ model: MODEL, max_tokens: 16, messages }).then(
          (message) => message.type,
          (error: unknown) => String(error),
        ),
      (outcome) => outcome === 'message',
      DISABLE_BUDGET_MS + SLACK_MS,
      20,
    );
  }, 120_000);
}
