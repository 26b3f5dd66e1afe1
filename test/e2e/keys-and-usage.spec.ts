import Anthropic from '@anthropic-ai/sdk';
import { Kysely, SqliteDialect } from 'kysely';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import type { Database } from 'src/infra/database/database.types';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { PricingService } from 'src/modules/usage/pricing.service';
import { FakeGate, type FakeScenario } from '../fake-upstream/fake-upstream';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';
import { startTcpForwarder, type TcpForwarder } from '../support/tcp-forwarder';
import { waitFor } from '../support/app-process';

const MODEL = 'claude-sonnet-4-6';
const messages = [{ role: 'user' as const, content: 'hello' }];

/** claude-sonnet-4-5: $3 input, $15 output, $3.75 5m write, $6 1h write, $0.30 read per MTok. */
const billed: FakeScenario = {
  reply: {
    usage: {
      inputTokens: 120,
      outputTokens: 42,
      cacheCreation5mTokens: 300,
      cacheCreation1hTokens: 200,
      cacheReadTokens: 1000,
    },
  },
};
// 120×3 + 42×15 + 300×3.75 + 200×6 + 1000×0.30 = 360 + 630 + 1125 + 1200 + 300 micro-dollars.
const BILLED_COST_MICROS = 3615;

function sdk(h: RelayHarness, secret: string, maxRetries = 0): Anthropic {
  return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries, timeout: 20000 });
}

async function settle<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

describe('API keys, limits and usage (end to end, @anthropic-ai/sdk)', () => {
  let h: RelayHarness;

  beforeAll(async () => {
    h = await startRelayHarness();
    for (const name of ['a', 'b'])
      await h.createAccount({ name: `acct-${name}`, credentials: { apiKey: `cred-${name}` } });
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.upstream.reset());

  it('should never let 50 concurrent requests spend past a daily cap that covers 10 estimates', async () => {
    const body = JSON.stringify({ model: MODEL, max_tokens: 200, messages });
    const estimate = h.server.app
      .get(PricingService)
      .estimate(MODEL, Buffer.byteLength(body), 200, 1);
    const key = await h.createKey({ name: 'budget', limits: { dailyCostMicros: estimate * 10 } });
    // A real upstream bills at most the prompt it was sent and max_tokens of output: the fake's
    // default reply does too, so every estimate covers its request's actual cost.
    h.upstream.setDefault({ delayFirstByteMs: 300 });
    const client = sdk(h, key.secret);
    const { ok, errors } = await settle(
      Array.from({ length: 50 }, () =>
        client.messages.create({ model: MODEL, max_tokens: 200, messages }),
      ),
    );
    expect(ok).toHaveLength(10);
    expect(errors).toHaveLength(40);
    for (const error of errors) {
      expect(error).toBeInstanceOf(Anthropic.APIError);
      expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
      expect(String((error as Error).message)).toMatch(
        /daily budget \$[\d.]+: spent \$[\d.]+ \(including requests in flight\); this request could cost up to \$0\.0\d+ \(200 max_tokens on claude-sonnet-4-6\), more than the \$[\d.]+ left, which the key's strict reservation policy does not allow; it resets at/,
      );
    }
    const own = await fetch(`${h.url}/v1/usage`, { headers: { 'x-api-key': key.secret } });
    const usage = (await own.json()) as any;
    await h.flushUsage();
    expect(usage.budgets.daily.spentMicros).toBeLessThanOrEqual(estimate * 10);
    const rows = (
      await h.admin<any>('GET', `/admin/api/usage/requests?keyId=${key.id}&pageSize=200`)
    ).body;
    const spent = rows.items.reduce((sum: number, r: any) => sum + r.costMicros, 0);
    expect(rows.total).toBe(10);
    expect(spent).toBeLessThanOrEqual(estimate * 10);
  });

  it('should let exactly N requests through a window limit of N and say when to retry', async () => {
    const key = await h.createKey({
      name: 'window',
      limits: { windowMinutes: 1, windowRequests: 3 },
    });
    const client = sdk(h, key.secret);
    const { ok, errors } = await settle(
      Array.from({ length: 8 }, () =>
        client.messages.create({ model: MODEL, max_tokens: 10, messages }),
      ),
    );
    expect(ok).toHaveLength(3);
    expect(errors).toHaveLength(5);
    const fresh = await h.createKey({
      name: 'window-headers',
      limits: { windowMinutes: 1, windowRequests: 3 },
    });
    const { response } = await sdk(h, fresh.secret)
      .messages.create({ model: MODEL, max_tokens: 10, messages })
      .withResponse();
    expect(response.headers.get('x-ratelimit-limit')).toBe('3');
    expect(response.headers.get('x-ratelimit-remaining')).toBe('2');
    const error = errors[0] as InstanceType<typeof Anthropic.RateLimitError>;
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number(error.headers?.get('retry-after'))).toBeGreaterThan(0);
    expect(error.headers?.get('x-ratelimit-limit')).toBe('3');
    expect(error.headers?.get('x-ratelimit-remaining')).toBe('0');
  });

  it('should never have more than N in flight at the upstream under a concurrency limit of N', async () => {
    const key = await h.createKey({ name: 'concurrency', limits: { concurrency: 3 } });
    // The upstream holds every answer until the test has seen the other nine refused.
    const held = new FakeGate();
    h.upstream.setDefault({ holdFirstByte: held });
    const client = sdk(h, key.secret);
    let refused = 0;
    const calls = Array.from({ length: 12 }, () =>
      client.messages.create({ model: MODEL, max_tokens: 10, messages }),
    );
    for (const call of calls) void call.catch(() => (refused += 1));
    try {
      await h.upstream.waitForHeld(held, 3, 15_000);
      await waitFor(
        async () => refused,
        (n) => n === 9,
        15_000,
        20,
      );
      expect(h.upstream.inFlight).toBe(3);
    } finally {
      held.open();
    }
    const { ok, errors } = await settle(calls);
    expect(h.upstream.maxInFlight).toBe(3);
    expect(ok.length).toBe(3);
    expect(errors.every((e) => e instanceof Anthropic.RateLimitError)).toBe(true);
  });

  it('should have the SDK wait for retry-after and then succeed', async () => {
    const key = await h.createKey({ name: 'retry', limits: { concurrency: 1 } });
    // The first answer is held at the upstream until the second request has been refused.
    const held = new FakeGate();
    h.upstream.setDefault({ holdFirstByte: held });
    const refusals: number[] = [];
    const client = new Anthropic({
      apiKey: key.secret,
      baseURL: h.url,
      maxRetries: 3,
      timeout: 20000,
      fetch: async (url: string | URL | Request, init?: RequestInit) => {
        const res = await fetch(url, init);
        if (res.status === 429) refusals.push(Date.now());
        return res;
      },
    });
    const calls = [
      client.messages.create({ model: MODEL, max_tokens: 10, messages }),
      client.messages.create({ model: MODEL, max_tokens: 10, messages }),
    ];
    try {
      await waitFor(
        async () => refusals.length,
        (n) => n >= 1,
        15_000,
        20,
      );
    } finally {
      held.open();
    }
    const replies = await Promise.all(calls);

    expect(replies).toHaveLength(2);
    const retried = h.upstream.requests.filter(
      (r) => Number(r.headers['x-stainless-retry-count']) >= 1,
    );
    expect(retried.length).toBeGreaterThanOrEqual(1);
    // retry-after is 1 s: the SDK came back no sooner (a lower bound, which load cannot break).
    expect(retried[0].receivedAt - refusals[0]).toBeGreaterThanOrEqual(900);
  });

  it('should charge the hand-computed cost, stream and non-stream, and report the same totals in stats', async () => {
    const key = await h.createKey({ name: 'cost' });
    h.upstream.setDefault(billed);
    const client = sdk(h, key.secret);
    await client.messages.create({ model: MODEL, max_tokens: 100, messages });
    await client.messages.stream({ model: MODEL, max_tokens: 100, messages }).finalMessage();
    await h.flushUsage();
    const rows = (await h.admin<any>('GET', `/admin/api/usage/requests?keyId=${key.id}`)).body
      .items;
    expect(rows).toHaveLength(2);
    expect(rows.map((r: any) => r.costMicros)).toEqual([BILLED_COST_MICROS, BILLED_COST_MICROS]);
    expect(rows.map((r: any) => r.stream).sort()).toEqual([false, true]);

    const all = (await h.admin<any>('GET', '/admin/api/usage/requests?pageSize=200')).body;
    const from = new Date(Date.now() - 86_400_000).toISOString();
    const to = new Date(Date.now() + 86_400_000).toISOString();
    const summary = (await h.admin<any>('GET', `/admin/api/usage/summary?from=${from}&to=${to}`))
      .body;
    const sum = (field: string): number => all.items.reduce((s: number, r: any) => s + r[field], 0);
    expect(summary.requests).toBe(all.total);
    expect(summary.costMicros).toBe(sum('costMicros'));
    expect(summary.inputTokens).toBe(sum('inputTokens'));
    expect(summary.outputTokens).toBe(sum('outputTokens'));
    expect(summary.cacheCreation1hTokens).toBe(sum('cacheCreation1hTokens'));
    const perKey = (
      await h.admin<any>('GET', `/admin/api/usage/summary?from=${from}&to=${to}&keyId=${key.id}`)
    ).body;
    expect(perKey.costMicros).toBe(2 * BILLED_COST_MICROS);
  });

  it('should refuse a disabled key on the very next request', async () => {
    const key = await h.createKey({ name: 'disable-me' });
    const client = sdk(h, key.secret);
    await client.messages.create({ model: MODEL, max_tokens: 10, messages });
    expect((await h.admin('POST', `/admin/api/keys/${key.id}/disable`)).status).toBeLessThan(300);
    await expect(
      client.messages.create({ model: MODEL, max_tokens: 10, messages }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it('should answer 403 in the Anthropic shape for a model the key may not use', async () => {
    const key = await h.createKey({
      name: 'models',
      modelPolicy: { mode: 'allow', patterns: ['claude-haiku-*'] },
    });
    await expect(
      sdk(h, key.secret).messages.create({ model: MODEL, max_tokens: 10, messages }),
    ).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);
  });

  it('should lose no usage across a graceful shutdown under load', async () => {
    const local = await startRelayHarness({
      USAGE_FLUSH_INTERVAL_MS: '5000',
      USAGE_BATCH_SIZE: '1000',
    });
    try {
      await local.createAccount({ name: 'one', credentials: { apiKey: 'cred-one' } });
      const key = await local.createKey({ name: 'shutdown' });
      local.upstream.setDefault({ events: 10, eventDelayMs: 30 });
      const client = sdk(local, key.secret);
      const inFlight = Array.from({ length: 20 }, () =>
        client.messages.stream({ model: MODEL, max_tokens: 100, messages }).finalMessage(),
      );
      await waitFor(
        async () => local.upstream.inFlight,
        (n) => n >= 20,
        15_000,
        20,
      );
      const closing = local.server.close();
      const { ok } = await settle(inFlight);
      await closing;
      const dataDir = local.server.config.dataDir;
      const db = new Kysely<Database>({
        dialect: new SqliteDialect({ database: new BetterSqlite3(join(dataDir, 'switchyard.db')) }),
      });
      const rows = await db.selectFrom('request_log').select(['outcome']).execute();
      await db.destroy();
      expect(ok).toHaveLength(20);
      expect(rows.filter((r) => r.outcome === 'ok')).toHaveLength(ok.length);
    } finally {
      await local.upstream.close();
    }
  });
});

describeWithPostgres('keys and usage on PostgreSQL + Redis', (databaseUrl) => {
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  let temp: TempDatabase;
  let forwarder: TcpForwarder;
  let a: RelayHarness;
  let b: RelayHarness;

  beforeAll(async () => {
    temp = await createTempPostgresDatabase(databaseUrl);
    const target = new URL(temp.url);
    forwarder = await startTcpForwarder(target.hostname, Number(target.port || 5432));
    const viaForwarder = new URL(temp.url);
    viaForwarder.port = String(forwarder.port);
    const prefix = `sye2e${Date.now().toString(36)}:`;
    // Replicas share their secrets, as production requires: else B cannot decrypt A's accounts.
    const env = {
      ENCRYPTION_KEY: 'e2e-shared-encryption-key-0123456789abcdef',
      JWT_SECRET: 'e2e-shared-jwt-secret-0123456789abcdef',
      DATABASE_URL: viaForwarder.toString(),
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      DATABASE_POOL_SIZE: '4',
      // Far beyond any wait below: only the invalidation message can make B notice a change.
      API_KEY_CACHE_TTL_MS: '3600000',
    };
    a = await startRelayHarness({ ...env, INSTANCE_ID: 'instance-a' });
    b = await startRelayHarness({
      ...env,
      INSTANCE_ID: 'instance-b',
      ANTHROPIC_BASE_URL: a.upstream.url,
    });
    const shared = await a.createAccount({
      name: 'shared',
      credentials: { apiKey: 'cred-shared' },
    });
    // B learns of A's new account through the coordinator's invalidation message.
    await waitFor(
      async () => b.server.app.get(AccountPool).get(shared.id),
      (x) => x !== undefined,
      15_000,
      20,
    );
  });
  afterAll(async () => {
    await forwarder?.restore().catch(() => undefined);
    await b?.close();
    await a?.close();
    await forwarder?.close();
    await temp?.drop();
  });

  it('should refuse a key disabled on instance A at instance B through the invalidation message', async () => {
    const key = await a.createKey({ name: 'two-instances' });
    const viaB = sdk(b, key.secret);
    const first = await viaB.messages.create({ model: MODEL, max_tokens: 10, messages }).then(
      () => 'ok',
      (e: unknown) => String(e),
    );
    expect(first).toBe('ok');
    expect((await a.admin('POST', `/admin/api/keys/${key.id}/disable`)).status).toBeLessThan(300);
    // A generous bound for a loaded machine, still far inside B's cache TTL.
    await waitFor(
      () =>
        viaB.messages.create({ model: MODEL, max_tokens: 10, messages }).then(
          () => 'ok',
          (e: unknown) => e,
        ),
      (r) => r instanceof Anthropic.AuthenticationError,
      15_000,
      50,
    );
  });

  it('should keep serving while the database is down and write the usage once it returns', async () => {
    const key = await a.createKey({ name: 'outage' });
    const client = sdk(a, key.secret);
    await client.messages.create({ model: MODEL, max_tokens: 10, messages });
    await forwarder.cut();
    for (let i = 0; i < 5; i++) {
      const reply = await client.messages.create({ model: MODEL, max_tokens: 10, messages });
      expect(reply.type).toBe('message');
    }
    await forwarder.restore();
    const rows = await waitFor(
      async () => (await a.admin<any>('GET', `/admin/api/usage/requests?keyId=${key.id}`)).body,
      (body) => body?.total === 6,
      15000,
      250,
    );
    expect(rows.total).toBe(6);
  });
});
