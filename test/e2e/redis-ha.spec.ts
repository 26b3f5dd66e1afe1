import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { FakeGate, FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { throwawayCluster, type ThrowawayCluster } from '../support/redis-cluster';
import { throwawaySentinel, type ThrowawaySentinel } from '../support/redis-sentinel';
import { describeWithRedisBinaries } from '../support/services';

/**
 * The built relay on high-availability Redis: Sentinel with a failover in the middle of a steady
 * stream of requests, and Cluster. Driven by @anthropic-ai/sdk as a client would.
 */

const ADMIN_PASSWORD = 'e2e-admin-password';
const MODEL = 'claude-sonnet-4-6';
const messages = [{ role: 'user' as const, content: 'hello' }];
/** A request that takes longer than this hangs: the failover itself takes a second or two. */
const REQUEST_BOUND_MS = 10_000;

/** The built app over its own SQLite dir and a fake upstream, with an admin session. */
class App {
  private token = '';

  private constructor(
    readonly server: ServerProcess,
    private readonly dataDir: string,
  ) {}

  static async start(redisEnv: Record<string, string>, upstream: FakeUpstream): Promise<App> {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-redis-ha-'));
    const server = await startServerProcess({
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      // info at least: startServerProcess waits for the "listening" line.
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      ANTHROPIC_BASE_URL: upstream.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
      REDIS_KEY_PREFIX: 'sye2e:',
      ...redisEnv,
    });
    const app = new App(server, dataDir);
    const login = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    app.token = ((await login.json()) as { token: string }).token;
    return app;
  }

  get url(): string {
    return this.server.url;
  }

  async admin<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async createAccount(name: string, upstream: FakeUpstream): Promise<string> {
    const body = await this.admin<{ id: string }>('POST', '/admin/api/accounts', {
      type: 'claude-console',
      name,
      baseUrl: upstream.url,
      credentials: { apiKey: `cred-${name}` },
    });
    return body.id;
  }

  async createKey(
    name: string,
    limits: Record<string, number>,
  ): Promise<{ id: string; secret: string }> {
    const body = await this.admin<any>('POST', '/admin/api/keys', { name, limits });
    return { id: body.key?.id ?? body.id, secret: body.secret };
  }

  client(secret: string): Anthropic {
    return new Anthropic({
      apiKey: secret,
      baseURL: this.url,
      maxRetries: 0,
      timeout: REQUEST_BOUND_MS,
    });
  }

  /** The request log rows of a key (all pages). */
  async logged(keyId: string): Promise<{ id: string; status: number; accountId: string | null }[]> {
    const rows: { id: string; status: number; accountId: string | null }[] = [];
    for (let page = 1; ; page++) {
      const body = await this.admin<any>(
        'GET',
        `/admin/api/usage/requests?keyId=${keyId}&pageSize=200&page=${page}`,
      );
      rows.push(...(body.items as typeof rows));
      if (rows.length >= body.total || body.items.length === 0) return rows;
    }
  }

  async stop(): Promise<void> {
    await this.server.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

interface Outcome {
  ok: boolean;
  requestId: string | null;
  status: number | null;
  error?: unknown;
  ms: number;
}

async function send(client: Anthropic, headers: Record<string, string> = {}): Promise<Outcome> {
  const started = Date.now();
  try {
    const { response } = await client.messages
      .create({ model: MODEL, max_tokens: 10, messages }, { headers })
      .withResponse();
    return {
      ok: true,
      requestId: response.headers.get('x-request-id'),
      status: response.status,
      ms: Date.now() - started,
    };
  } catch (error) {
    const status = error instanceof Anthropic.APIError ? (error.status ?? null) : null;
    return { ok: false, requestId: null, status, error, ms: Date.now() - started };
  }
}

/** Requests one after another until refused (bounded); how many succeeded, and the refusal. */
async function untilRefused(
  client: Anthropic,
  max: number,
): Promise<{ ok: number; refusal: Outcome }> {
  for (let ok = 0; ok < max; ok++) {
    const outcome = await send(client);
    if (!outcome.ok) return { ok, refusal: outcome };
  }
  throw new Error(`no refusal within ${max} requests`);
}

/** The limits on the new primary: a window refuses past its limit, a lease caps concurrency. */
async function expectLimitsHold(app: App, upstream: FakeUpstream): Promise<void> {
  const windowKey = await app.createKey('window-after', { windowMinutes: 1, windowRequests: 3 });
  const { ok, refusal } = await untilRefused(app.client(windowKey.secret), 10);
  expect(ok).toBe(3);
  expect(refusal.error).toBeInstanceOf(Anthropic.RateLimitError);

  const leaseKey = await app.createKey('concurrency-after', { concurrency: 2 });
  const held = new FakeGate();
  upstream.setDefault({ holdFirstByte: held });
  const client = app.client(leaseKey.secret);
  const calls = [send(client), send(client)];
  try {
    await upstream.waitForHeld(held, 2, 15_000);
    const third = await send(client);
    expect(third.error).toBeInstanceOf(Anthropic.RateLimitError);
  } finally {
    held.open();
    upstream.setDefault(undefined);
  }
  expect((await Promise.all(calls)).map((call) => call.ok)).toEqual([true, true]);
  // The leases are released (after the answers, off the response path): admitted again.
  await waitFor(
    () => send(client),
    (outcome) => outcome.ok,
    10_000,
  );
}

describeWithRedisBinaries('Relay on Redis Sentinel (end to end, failover under load)', () => {
  let sentinel: ThrowawaySentinel;
  let upstream: FakeUpstream;
  let app: App;

  beforeAll(async () => {
    [sentinel, upstream] = await Promise.all([throwawaySentinel(), FakeUpstream.start()]);
    app = await App.start(
      { REDIS_SENTINELS: sentinel.sentinelsEnv, REDIS_SENTINEL_NAME: sentinel.masterName },
      upstream,
    );
    await app.createAccount('acct', upstream);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await upstream?.close();
    await sentinel?.stop();
  });

  it('should lose no usage, answer every request in bounded time and keep the limits when the primary fails over mid-stream', async () => {
    // Well above what the load sends (a slow failover on a busy machine lets 100+ requests
    // through while it runs): the workers stop short of it, so no request of the load is refused
    // by the window itself, and the check afterwards walks the rest of it.
    const LIMIT = 600;
    const LOAD_CAP = LIMIT - 60;
    const WORKERS = 4;
    const key = await app.createKey('stream', { windowMinutes: 5, windowRequests: LIMIT });
    const client = app.client(key.secret);
    const outcomes: Outcome[] = [];
    let stop = false;
    const worker = async (): Promise<void> => {
      while (!stop && outcomes.length < LOAD_CAP) {
        outcomes.push(await send(client));
        // Paced (about 25 requests a second per worker): the failover takes seconds.
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    };
    const workers = Array.from({ length: WORKERS }, () => worker());

    const okCount = (): number => outcomes.filter((o) => o.ok).length;
    await waitFor(
      async () => okCount(),
      (n) => n >= 20,
      30_000,
      20,
    );
    const oldPrimary = await sentinel.primaryPort();
    const beforeSwitch = outcomes.length;
    const newPrimary = await sentinel.failover('command');
    const afterSwitch = outcomes.length;
    // Traffic goes on after the switch: more requests succeed on the new primary.
    const okAtSwitch = okCount();
    await waitFor(
      async () => okCount(),
      (n) => n >= okAtSwitch + 20,
      30_000,
      20,
    );
    stop = true;
    await Promise.all(workers);

    expect(newPrimary).not.toBe(oldPrimary);
    const ok = outcomes.filter((o) => o.ok);
    const failed = outcomes.filter((o) => !o.ok);
    // Requests during the switch either succeed or get the dialect's clear 503, never a hang.
    for (const outcome of failed) {
      expect(outcome.error).toBeInstanceOf(Anthropic.APIError);
      expect(outcome.status).toBe(503);
      expect(String((outcome.error as Error).message)).toContain('retry shortly');
    }
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(REQUEST_BOUND_MS);
    process.stderr.write(
      `[redis-ha] ${outcomes.length} requests, ${ok.length} ok, ${failed.length} refused (503) ` +
        `around the failover; ${afterSwitch - beforeSwitch} finished while it ran\n`,
    );

    // No lost usage: every request answered 200 is in the request log, once.
    const okIds = ok.map((o) => o.requestId);
    expect(okIds.every((id) => typeof id === 'string')).toBe(true);
    const rows = await waitFor(
      () => app.logged(key.id),
      (logged) => okIds.every((id) => logged.some((row) => row.id === id)),
      30_000,
    );
    const logged200 = rows.filter((row) => row.status === 200).map((row) => row.id);
    expect(logged200.sort()).toEqual([...(okIds as string[])].sort());

    // The window limit still holds on the new primary: it refuses once the limit is reached.
    // Replication is asynchronous: counts the old primary acknowledged between the promotion of
    // the replica and the relay's switch (+switch-master) are not on the new primary, so the
    // window may let through up to the requests that finished during the switch, no more.
    const rest = await untilRefused(client, LIMIT);
    expect(rest.refusal.error).toBeInstanceOf(Anthropic.RateLimitError);
    const admitted = ok.length + rest.ok;
    process.stderr.write(
      `[redis-ha] window of ${LIMIT}: refused after ${admitted} (${admitted - LIMIT} counts lost in the switch)\n`,
    );
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    expect(admitted).toBeLessThanOrEqual(LIMIT + (afterSwitch - beforeSwitch) + WORKERS);

    await expectLimitsHold(app, upstream);
  }, 120_000);
});

describeWithRedisBinaries('Relay on Redis Cluster (end to end)', () => {
  let cluster: ThrowawayCluster;
  let upstream: FakeUpstream;
  let app: App;

  beforeAll(async () => {
    [cluster, upstream] = await Promise.all([throwawayCluster(), FakeUpstream.start()]);
    app = await App.start({ REDIS_CLUSTER_NODES: cluster.nodesEnv }, upstream);
    await app.createAccount('acct-a', upstream);
    await app.createAccount('acct-b', upstream);
  }, 90_000);

  afterAll(async () => {
    await app?.stop();
    await upstream?.close();
    await cluster?.stop();
  });

  it('should relay with window limits, concurrency leases and sticky sessions', async () => {
    // Keys whose counters live on different nodes of the cluster.
    const keys = await Promise.all(
      [1, 2, 3].map((i) => app.createKey(`cluster-${i}`, { windowMinutes: 1, windowRequests: 4 })),
    );
    for (const key of keys) {
      const client = app.client(key.secret);
      const sessions = ['conversation-1', 'conversation-2'];
      const outcomes: Outcome[] = [];
      for (let i = 0; i < 4; i++) {
        outcomes.push(await send(client, { 'x-session-id': sessions[i % 2] }));
      }
      expect(outcomes.map((o) => o.ok)).toEqual([true, true, true, true]);
      const refused = await send(client);
      expect(refused.error).toBeInstanceOf(Anthropic.RateLimitError);

      // Each conversation stayed on the account it started on.
      const rows = await waitFor(
        () => app.logged(key.id),
        (logged) => logged.filter((row) => row.status === 200).length === 4,
        15_000,
      );
      for (const [i, session] of sessions.entries()) {
        const ids = outcomes.filter((_, j) => j % 2 === i).map((o) => o.requestId);
        const accounts = new Set(
          rows.filter((row) => ids.includes(row.id)).map((r) => r.accountId),
        );
        expect({ session, accounts: accounts.size }).toEqual({ session, accounts: 1 });
      }
    }

    await expectLimitsHold(app, upstream);
  }, 90_000);
});
