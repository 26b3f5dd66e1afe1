import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from 'src/bootstrap';
import { PricingService } from 'src/modules/usage/pricing.service';
import { UsageRecorder } from 'src/modules/usage/usage-recorder.service';
import { FakeUpstream, type FakeScenario } from '../fake-upstream/fake-upstream';
import { throwawayRedis, type ThrowawayRedis } from '../support/redis-server';
import { describeWithRedis } from '../support/services';

/**
 * Budgets end to end, driven by @anthropic-ai/sdk: the reservation covers what a request can
 * really cost (a prompt written to the 1-hour cache), spend survives a restart of the embedded
 * default and a flush of Redis, and the estimate policy lets a small budget serve Claude Code.
 */

const ADMIN_PASSWORD = 'e2e-admin-password';
const MODEL = 'claude-sonnet-4-6';
const MAX_TOKENS = 1000;
/** A prompt worth caching: about 3 KB of text. */
const PROMPT = 'Summarise the following notes. '.repeat(100);
const messages = [{ role: 'user' as const, content: PROMPT }];

/** Serves one app over a data dir and a fake upstream that outlive restarts. */
class Relay {
  server!: RunningServer;
  url = '';
  private token = '';

  constructor(
    readonly upstream: FakeUpstream,
    private readonly env: Record<string, string>,
  ) {}

  async start(): Promise<void> {
    this.server = await startServer({
      PORT: '0',
      HOST: '127.0.0.1',
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
      ANTHROPIC_BASE_URL: this.upstream.url,
      USAGE_FLUSH_INTERVAL_MS: '50',
      ...this.env,
    });
    this.url = `http://127.0.0.1:${this.server.port}`;
    const login = await fetch(`${this.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    this.token = ((await login.json()) as { token: string }).token;
  }

  /** A graceful restart: in-flight requests finish and usage is written, as on SIGTERM. */
  async restart(): Promise<void> {
    await this.server.close();
    await this.start();
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

  async createKey(input: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    const body = await this.admin<any>('POST', '/admin/api/keys', input);
    return { id: body.key?.id ?? body.id, secret: body.secret };
  }

  client(secret: string): Anthropic {
    return new Anthropic({ apiKey: secret, baseURL: this.url, maxRetries: 0, timeout: 30_000 });
  }

  /** What the request log holds for a key: the money actually billed. */
  async recorded(keyId: string): Promise<{ requests: number; costMicros: number }> {
    await this.server.app.get(UsageRecorder).flush();
    const page = await this.admin<any>(
      'GET',
      `/admin/api/usage/requests?keyId=${keyId}&pageSize=200`,
    );
    const costMicros = page.items.reduce((sum: number, r: any) => sum + r.costMicros, 0);
    return { requests: page.total, costMicros };
  }

  /** The worst case the relay reserves for one request of this body. */
  worstCase(model: string, maxTokens: number, content = PROMPT): number {
    const body = JSON.stringify({
      model,
      max_tokens: maxTokens,
      messages: [{ role: 'user', content }],
    });
    return this.server.app
      .get(PricingService)
      .estimate(model, Buffer.byteLength(body), maxTokens, 1);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/**
 * The upstream bills the whole prompt as a 1-hour cache write (2x input) and all of max_tokens:
 * the most such a request can cost. The relay guesses prompt tokens as body bytes / 3.
 */
function writesPromptTo1hCache(promptTokens: number, outputTokens = MAX_TOKENS): FakeScenario {
  return {
    delayFirstByteMs: 300,
    reply: { usage: { inputTokens: 0, cacheCreation1hTokens: promptTokens, outputTokens } },
  };
}

function promptTokensOf(model: string, maxTokens: number): number {
  const body = JSON.stringify({ model, max_tokens: maxTokens, messages });
  return Math.floor(Buffer.byteLength(body) / 3);
}

async function settleAll<T>(promises: Promise<T>[]): Promise<{ ok: T[]; errors: unknown[] }> {
  const results = await Promise.allSettled(promises);
  return {
    ok: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
    errors: results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : [])),
  };
}

function burst(client: Anthropic, n: number, maxTokens = MAX_TOKENS): Promise<unknown>[] {
  return Array.from({ length: n }, () =>
    client.messages.create({ model: MODEL, max_tokens: maxTokens, messages }),
  );
}

function expectBudgetRefusals(errors: unknown[]): void {
  for (const error of errors) {
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
  }
}

describe('Budgets (end to end, @anthropic-ai/sdk, embedded default)', () => {
  let upstream: FakeUpstream;
  let relay: Relay;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    relay = new Relay(upstream, { DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-budgets-')) });
    await relay.start();
    await relay.admin('POST', '/admin/api/accounts', {
      type: 'claude-console',
      name: 'acct',
      baseUrl: upstream.url,
      credentials: { apiKey: 'cred-a' },
    });
  });

  afterAll(async () => {
    await relay?.close();
    await upstream?.close();
  });

  beforeEach(() => upstream.reset());

  it('should never record more than a daily budget when 50 parallel prompts go to the 1-hour cache', async () => {
    const worst = relay.worstCase(MODEL, MAX_TOKENS);
    // Room for 9.5 worst cases; reserving the prompt at the plain input rate let 11 through.
    const budget = Math.floor(worst * 9.5);
    const key = await relay.createKey({ name: '1h-cache', limits: { dailyCostMicros: budget } });
    upstream.setDefault(writesPromptTo1hCache(promptTokensOf(MODEL, MAX_TOKENS)));

    const { ok, errors } = await settleAll(burst(relay.client(key.secret), 50));

    const recorded = await relay.recorded(key.id);
    expect(recorded.costMicros).toBeLessThanOrEqual(budget);
    expect(recorded.requests).toBe(9);
    expect(ok).toHaveLength(9);
    expectBudgetRefusals(errors);
    expect(String((errors[0] as Error).message)).toContain(
      `(${MAX_TOKENS} max_tokens on ${MODEL})`,
    );
  });

  it('should never record more than a lifetime budget when the relay restarts mid-run', async () => {
    const worst = relay.worstCase(MODEL, MAX_TOKENS);
    const budget = worst * 5;
    const key = await relay.createKey({ name: 'restart', limits: { totalCostMicros: budget } });
    upstream.setDefault(writesPromptTo1hCache(promptTokensOf(MODEL, MAX_TOKENS)));

    const first = await settleAll(burst(relay.client(key.secret), 3));
    expect(first.ok).toHaveLength(3);
    // The in-process coordinator starts empty; the money spent is in SQL only.
    const spentBefore = (await relay.recorded(key.id)).costMicros;
    await relay.restart();
    // The key's holder sees the recorded spend, not a fresh zero.
    const own = await fetch(`${relay.url}/v1/usage`, { headers: { 'x-api-key': key.secret } });
    expect(((await own.json()) as any).budgets.total.spentMicros).toBe(spentBefore);
    const second = await settleAll(burst(relay.client(key.secret), 10));
    await relay.restart();
    const third = await settleAll(burst(relay.client(key.secret), 10));

    expect(second.ok.length + third.ok.length).toBe(2);
    expectBudgetRefusals([...second.errors, ...third.errors]);
    const recorded = await relay.recorded(key.id);
    expect(recorded.requests).toBe(5);
    expect(recorded.costMicros).toBeLessThanOrEqual(budget);
  });

  it("should serve Claude Code's default request on a $1 daily key with the estimate policy, and explain the strict refusal", async () => {
    const model = 'claude-opus-4-7';
    const maxTokens = 64_000;
    // Claude Code sends its tools and system prompt: about 10 KB.
    const content = 'x'.repeat(10_000);
    const worst = relay.worstCase(model, maxTokens, content);
    expect(worst).toBeGreaterThan(1_000_000);
    upstream.setDefault({ reply: { usage: { inputTokens: 3000, outputTokens: 900 } } });
    const request = {
      model,
      max_tokens: maxTokens,
      messages: [{ role: 'user' as const, content }],
    };

    const strict = await relay.createKey({
      name: 'cc-strict',
      limits: { dailyCostMicros: 1_000_000 },
    });
    const refusal = await relay
      .client(strict.secret)
      .messages.create(request)
      .catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(Anthropic.APIError);
    expect((refusal as InstanceType<typeof Anthropic.APIError>).status).toBe(402);
    expect((refusal as Error).message).toContain(
      `daily budget $1.00: spent $0.00 (including requests in flight); this request could cost ` +
        `up to $${(worst / 1e6).toFixed(worst % 10_000 === 0 ? 2 : 4)} (64000 max_tokens on ` +
        `${model}), more than the whole budget, which the key's strict reservation policy does ` +
        'not allow',
    );
    expect((refusal as Error).message).toContain('ask an admin for the estimate policy');

    const estimate = await relay.createKey({
      name: 'cc-estimate',
      limits: { dailyCostMicros: 1_000_000 },
      reservationPolicy: 'estimate',
    });
    const reply = await relay.client(estimate.secret).messages.create(request);
    expect(reply.usage.output_tokens).toBe(900);
    const again = await relay.client(estimate.secret).messages.create(request);
    expect(again.usage.output_tokens).toBe(900);
    const recorded = await relay.recorded(estimate.id);
    expect(recorded.requests).toBe(2);
    expect(recorded.costMicros).toBeLessThanOrEqual(1_000_000);
  });

  it('should pass a cap by at most one worst case per request in flight with the estimate policy', async () => {
    const worst = relay.worstCase(MODEL, MAX_TOKENS);
    const budget = worst * 4;
    const concurrency = 6;
    const key = await relay.createKey({
      name: 'estimate-bound',
      limits: { dailyCostMicros: budget, concurrency },
      reservationPolicy: 'estimate',
    });
    // Every request costs its whole worst case: the estimate (half of it) is always too low.
    upstream.setDefault(writesPromptTo1hCache(promptTokensOf(MODEL, MAX_TOKENS)));

    const client = relay.client(key.secret);
    for (let round = 0; round < 3; round++) await settleAll(burst(client, concurrency));

    const recorded = await relay.recorded(key.id);
    // The documented bound: the cap plus (worst case - reservation) of each request in flight
    // when it was reached, fewer than one worst case per concurrent request.
    expect(recorded.costMicros).toBeLessThanOrEqual(budget + concurrency * worst);
    expect(recorded.requests).toBeGreaterThan(4);
  });
});

describeWithRedis('Budgets (end to end, Redis flushed mid-run)', () => {
  let upstream: FakeUpstream;
  let redis: ThrowawayRedis;
  let relay: Relay;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    // Its own redis-server: the shared one is never flushed.
    redis = await throwawayRedis();
    relay = new Relay(upstream, {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-budgets-redis-')),
      REDIS_URL: redis.url,
      // Usage of finished requests is still queued when Redis is flushed: the seed must see it.
      USAGE_FLUSH_INTERVAL_MS: '5000',
    });
    await relay.start();
    await relay.admin('POST', '/admin/api/accounts', {
      type: 'claude-console',
      name: 'acct',
      baseUrl: upstream.url,
      credentials: { apiKey: 'cred-r' },
    });
  });

  afterAll(async () => {
    await relay?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it('should never record more than a budget when Redis is flushed with requests in flight', async () => {
    const worst = relay.worstCase(MODEL, MAX_TOKENS);
    const budget = worst * 6;
    const key = await relay.createKey({ name: 'flush', limits: { dailyCostMicros: budget } });
    const client = relay.client(key.secret);
    upstream.setDefault(writesPromptTo1hCache(promptTokensOf(MODEL, MAX_TOKENS)));
    const done = await settleAll(burst(client, 2));
    expect(done.ok).toHaveLength(2);

    upstream.reset();
    upstream.setDefault({
      ...writesPromptTo1hCache(promptTokensOf(MODEL, MAX_TOKENS)),
      delayFirstByteMs: 1500,
    });
    const inFlight = burst(client, 3);
    await upstream.waitForRequests(3, 10_000);
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await admin.flushall();
    await admin.quit();
    const after = await settleAll(burst(client, 10));
    const before = await settleAll(inFlight);

    expect(before.ok).toHaveLength(3);
    expect(after.ok).toHaveLength(1);
    expectBudgetRefusals(after.errors);
    const recorded = await relay.recorded(key.id);
    expect(recorded.requests).toBe(6);
    expect(recorded.costMicros).toBeLessThanOrEqual(budget);
  });
});
