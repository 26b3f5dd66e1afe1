import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:net';
import { FakeGate, type FakeScenario } from '../fake-upstream/fake-upstream';
import { startHttpProxy, startSocks5Proxy, type LocalProxy } from '../support/proxies';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';
import { waitFor } from '../support/app-process';

const MODEL = 'claude-sonnet-4-6';
const COOLDOWN_MS = 4000;

const richReply: FakeScenario = {
  reply: {
    id: 'msg_fixed_1',
    content: [
      { type: 'thinking', thinking: ['Let me ', 'think.'], signature: 'sig-abc' },
      { type: 'text', text: ['Hello ', 'wörld 🌍 ', 'from the fake.'] },
      {
        type: 'tool_use',
        id: 'toolu_fixed',
        name: 'get_weather',
        input: { city: 'Zürich' },
        partialJson: ['{"city"', ': "Zürich"}'],
      },
    ],
    usage: {
      inputTokens: 120,
      outputTokens: 42,
      cacheCreation5mTokens: 300,
      cacheCreation1hTokens: 200,
      cacheReadTokens: 1000,
    },
    stopReason: 'tool_use',
  },
};

function client(
  h: RelayHarness,
  secret: string,
  extra: Partial<ConstructorParameters<typeof Anthropic>[0]> = {},
): Anthropic {
  return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0, timeout: 20000, ...extra });
}

async function closedPort(): Promise<number> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function requestLog(h: RelayHarness, query = ''): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>(
    'GET',
    `/admin/api/usage/requests?pageSize=200${query}`,
  );
  return res.body.items;
}

describe('Anthropic relay (end to end, @anthropic-ai/sdk)', () => {
  let h: RelayHarness;
  let secret: string;
  const accounts: Record<string, string> = {};

  beforeAll(async () => {
    h = await startRelayHarness({
      ACCOUNT_COOLDOWN_OVERLOADED_MS: String(COOLDOWN_MS),
      ACCOUNT_COOLDOWN_SERVER_ERROR_MS: String(COOLDOWN_MS),
      ACCOUNT_COOLDOWN_TIMEOUT_MS: String(COOLDOWN_MS),
      // Short enough for the failover test, long enough that a loaded machine's fake upstream
      // still answers every other test in time.
      UPSTREAM_FIRST_BYTE_TIMEOUT_MS: '2000',
    });
    for (const name of ['a', 'b', 'c']) {
      const account = await h.createAccount({
        name: `acct-${name}`,
        credentials: { apiKey: `cred-${name}` },
      });
      accounts[name] = account.id;
    }
    secret = (await h.createKey({ name: 'e2e' })).secret;
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it('should return exactly what the upstream sent when not streaming', async () => {
    h.upstream.setDefault(richReply);
    const direct = await new Anthropic({
      apiKey: 'cred-a',
      baseURL: h.upstream.url,
      maxRetries: 0,
    }).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const relayed = await client(h, secret).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(relayed).toEqual(direct);
    expect(relayed.usage.cache_creation_input_tokens).toBe(500);
    const forwarded = h.upstream.requests.at(-1)!;
    expect(forwarded.headers['x-api-key']).toMatch(/^cred-/);
    expect(JSON.stringify(forwarded.headers)).not.toContain(secret);
  });

  it('should stream the same bytes the upstream sent and the SDK should see the final usage', async () => {
    h.upstream.setDefault(richReply);
    const body = JSON.stringify({
      model: MODEL,
      max_tokens: 100,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const direct = await (
      await fetch(`${h.upstream.url}/v1/messages`, {
        method: 'POST',
        headers: {
          'x-api-key': 'cred-a',
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
        },
        body,
      })
    ).text();
    const relayedRes = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': secret,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body,
    });
    expect(relayedRes.headers.get('content-type')).toContain('text/event-stream');
    expect(relayedRes.headers.get('x-accel-buffering')).toBe('no');
    expect(await relayedRes.text()).toBe(direct);

    const stream = client(h, secret).messages.stream({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const final = await stream.finalMessage();
    expect(final.usage).toMatchObject({
      input_tokens: 120,
      output_tokens: 42,
      cache_creation_input_tokens: 500,
      cache_read_input_tokens: 1000,
    });
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text', 'tool_use']);
  });

  it('should spread requests across accounts and keep a session on one account', async () => {
    const sdk = client(h, secret);
    for (let i = 0; i < 6; i++) {
      await sdk.messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: `n${i}` }],
      });
    }
    const spread = new Set(h.upstream.requests.map((r) => r.credential));
    expect(spread.size).toBe(3);

    h.upstream.reset();
    const session = {
      user_id: 'user_abc123_account__session_11111111-2222-3333-4444-555555555555',
    };
    for (let i = 0; i < 4; i++) {
      await sdk.messages.create({
        model: MODEL,
        max_tokens: 10,
        metadata: session,
        messages: [{ role: 'user', content: `s${i}` }],
      });
    }
    expect(new Set(h.upstream.requests.map((r) => r.credential)).size).toBe(1);
  });

  it("should read a limited key's sticky session inside its admission, with no round trip of its own", async () => {
    const limited = await h.createKey({ name: 'limited-sticky', limits: { concurrency: 5 } });
    const sdk = client(h, limited.secret);
    const calls = async (op: string): Promise<number> => {
      const text = await (await fetch(`${h.url}/metrics`)).text();
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`switchyard_coordinator_calls_total{op="${op}"}`));
      return line === undefined ? 0 : Number(line.split(' ').at(-1));
    };
    const session = { user_id: JSON.stringify({ session_id: 'sess-folded', device_id: 'd' }) };
    const ask = (i: number) =>
      sdk.messages.create({
        model: MODEL,
        max_tokens: 10,
        metadata: session,
        messages: [{ role: 'user', content: `f${i}` }],
      });
    await ask(0);
    h.upstream.reset();
    const [touchesBefore, admitsBefore] = [await calls('getValueAndTouch'), await calls('admit')];

    for (let i = 1; i <= 4; i++) await ask(i);

    expect(new Set(h.upstream.requests.map((r) => r.credential)).size).toBe(1);
    expect(await calls('getValueAndTouch')).toBe(touchesBefore);
    expect(await calls('admit')).toBe(admitsBefore + 4);
  });

  it('should move a session off an account answering 529, cool it, and use it again after the cooldown', async () => {
    const sdk = client(h, secret);
    const session = { user_id: JSON.stringify({ session_id: 'sess-529', device_id: 'd' }) };
    await sdk.messages.create({
      model: MODEL,
      max_tokens: 10,
      metadata: session,
      messages: [{ role: 'user', content: 'x' }],
    });
    const stickyCredential = h.upstream.requests.at(-1)!.credential!;
    const stickyId = accounts[stickyCredential.replace('cred-', '')];
    h.upstream.forCredential(stickyCredential, { status: 529 });

    const reply = await sdk.messages.create({
      model: MODEL,
      max_tokens: 10,
      metadata: session,
      messages: [{ role: 'user', content: 'y' }],
    });
    expect(reply.type).toBe('message');
    const served = h.upstream.requests.at(-1)!;
    expect(served.credential).not.toBe(stickyCredential);
    expect(served.status).toBe(200);

    const detail = await h.admin<any>('GET', `/admin/api/accounts/${stickyId}`);
    expect(JSON.stringify(detail.body)).toContain('cooling');
    expect(JSON.stringify(detail.body)).toContain('529');

    // The session now sticks to the new account.
    await sdk.messages.create({
      model: MODEL,
      max_tokens: 10,
      metadata: session,
      messages: [{ role: 'user', content: 'z' }],
    });
    expect(h.upstream.requests.at(-1)!.credential).toBe(served.credential);

    h.upstream.forCredential(stickyCredential, []);
    // The cooldown ends by time; wait for the account to be routable again, however long it takes.
    await waitFor(
      () => h.admin<any>('GET', `/admin/api/accounts/${stickyId}`),
      (res) => res.body.routable === true,
      COOLDOWN_MS + 15_000,
      100,
    );
    h.upstream.reset();
    for (let i = 0; i < 6; i++) {
      await sdk.messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: `after${i}` }],
      });
    }
    expect(h.upstream.requests.map((r) => r.credential)).toContain(stickyCredential);
  });

  it('should mark an account rate_limited until the reset header, and answer 429 with retry-after when all are', async () => {
    const sdk = client(h, secret);
    const resetAt = Math.floor(Date.now() / 1000) + 30;
    h.upstream.forCredential('cred-a', { status: 429, unifiedResetEpochSeconds: resetAt });
    h.upstream.forCredential('cred-b', { status: 429, unifiedResetEpochSeconds: resetAt });
    h.upstream.forCredential('cred-c', { status: 429, unifiedResetEpochSeconds: resetAt });
    const error = await sdk.messages
      .create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'rl' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const retryAfter = Number(
      (error as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after'),
    );
    expect(retryAfter).toBeGreaterThan(20);
    expect(retryAfter).toBeLessThanOrEqual(31);
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${accounts.a}`);
    expect(JSON.stringify(detail.body)).toContain('rate_limited');
    expect(detail.body.healthStates).toContainEqual(
      expect.objectContaining({
        state: 'rate_limited',
        until: new Date(resetAt * 1000).toISOString(),
      }),
    );
    expect(detail.body.routable).toBe(false);
  });

  afterEach(async () => {
    for (const id of Object.values(accounts)) {
      expect((await h.admin('POST', `/admin/api/accounts/${id}/reset-health`)).status).toBeLessThan(
        300,
      );
    }
  });

  it('should answer 529 with retry-after when every account is overloaded', async () => {
    for (const name of ['a', 'b', 'c']) h.upstream.forCredential(`cred-${name}`, { status: 529 });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'o' }],
      }),
    });
    expect(res.status).toBe(529);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await res.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'upstream is overloaded' },
    });
    expect(new Set(h.upstream.requests.map((r) => r.credential)).size).toBe(3);
  });

  it('should fail over from a refused connection and from a first-byte timeout', async () => {
    const sdk = client(h, secret);
    const dead = await h.createAccount({
      name: 'dead',
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      credentials: { apiKey: 'cred-dead' },
      priority: 1,
    });
    const reply = await sdk.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'refused' }],
    });
    expect(reply.type).toBe('message');
    await h.admin('DELETE', `/admin/api/accounts/${dead.id}`);

    const slow = await h.createAccount({
      name: 'slow',
      credentials: { apiKey: 'cred-slow' },
      priority: 1,
    });
    // The slow account would answer only after the client's own timeout: the relay must give up
    // on it at its first-byte timeout and fail over.
    h.upstream.reset();
    h.upstream.forCredential('cred-slow', { delayFirstByteMs: 60_000 });
    const again = await sdk.messages.create({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'slow' }],
    });
    expect(again.type).toBe('message');
    const [first, second] = h.upstream.requests;
    expect(first.credential).toBe('cred-slow');
    expect(await h.upstream.waitForAbort(10_000)).toBe(first);
    expect(first.status).toBeUndefined();
    expect(second.credential).not.toBe('cred-slow');
    expect(second.status).toBe(200);
    expect(h.upstream.requests).toHaveLength(2);
    await h.admin('DELETE', `/admin/api/accounts/${slow.id}`);
  });

  it('should end a stream cut after its first event with an error event and record it truncated', async () => {
    h.upstream.setDefault({ cutAfterEvents: 1 });
    const stream = client(h, secret).messages.stream({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'cut' }],
    });
    await expect(stream.finalMessage()).rejects.toThrow();
    const rows = await waitFor(
      () => requestLog(h, '&outcome=truncated'),
      (r) => r.length > 0,
      15_000,
    );
    expect(rows[0].outcome).toBe('truncated');
  });

  it("should pass a stream's status on before its first event when the model is slow to start", async () => {
    // The fake sends its headers, then no event until the test opens the gate: the client can
    // only see the status if the relay passed the headers on by themselves.
    const firstEvent = new FakeGate();
    h.upstream.setDefault({ holdAfterHeaders: firstEvent });
    const response = fetch(`${h.server.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 10,
        stream: true,
        messages: [{ role: 'user', content: 'slow start' }],
      }),
    });
    let timer: NodeJS.Timeout | undefined;
    const res = await Promise.race([
      response,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('no response headers while the first event was held')),
          15_000,
        );
      }),
    ]).finally(() => {
      clearTimeout(timer);
      // Never leave the stream held, whatever happened.
      firstEvent.open();
    });

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text();
    expect(body).toContain('event: message_stop');
  });

  it('should abort the upstream when the client leaves mid-stream and record the partial usage', async () => {
    h.upstream.setDefault({ events: 50, eventDelayMs: 50 });
    const controller = new AbortController();
    const stream = client(h, secret).messages.stream(
      { model: MODEL, max_tokens: 1000, messages: [{ role: 'user', content: 'leave' }] },
      { signal: controller.signal },
    );
    let deltas = 0;
    stream.on('text', () => {
      deltas += 1;
      if (deltas === 5) controller.abort();
    });
    await stream.done().catch(() => undefined);
    const aborted = await h.upstream.waitForAbort(15_000);
    expect(aborted.aborted).toBe(true);
    const rows = await waitFor(
      () => requestLog(h, '&outcome=aborted'),
      (r) => r.length > 0,
      15_000,
    );
    expect(rows[0].outcome).toBe('aborted');
    expect(Number(rows[0].outputTokens ?? rows[0].output_tokens)).toBeGreaterThan(0);
  });

  describe('accounts behind proxies', () => {
    let httpProxy: LocalProxy;
    let socksProxy: LocalProxy;
    beforeAll(async () => {
      httpProxy = await startHttpProxy({ auth: { username: 'pu', password: 'pp' } });
      socksProxy = await startSocks5Proxy({ auth: { username: 'su', password: 'sp' } });
    });
    afterAll(async () => {
      await httpProxy?.close();
      await socksProxy?.close();
    });

    it('should relay through an HTTP proxy and through a SOCKS5 proxy', async () => {
      const sdk = client(h, secret);
      for (const [name, proxy] of [
        ['via-http', httpProxy],
        ['via-socks', socksProxy],
      ] as const) {
        const key = await h.createKey({ name: `k-${name}` });
        const account = await h.createAccount({
          name,
          credentials: { apiKey: `cred-${name}` },
          proxy: proxy.url,
        });
        await h.admin('PATCH', `/admin/api/keys/${key.id}`, {
          bindings: { claude: { accountId: account.id } },
        });
        const before = proxy.connections;
        const reply = await client(h, key.secret).messages.create({
          model: MODEL,
          max_tokens: 10,
          messages: [{ role: 'user', content: name }],
        });
        expect(reply.type).toBe('message');
        expect(proxy.connections).toBeGreaterThan(before);
        expect(h.upstream.requests.at(-1)!.credential).toBe(`cred-${name}`);
        await h.admin('DELETE', `/admin/api/accounts/${account.id}`);
      }
      expect(sdk).toBeDefined();
    });
  });

  it('should test an account with one small real request through it', async () => {
    const ok = await h.admin<any>('POST', `/admin/api/accounts/${accounts.a}/test`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ ok: true, status: 200 });
    expect(h.upstream.requests.at(-1)!.credential).toBe('cred-a');
    h.upstream.forCredential('cred-b', { status: 401 });
    const bad = await h.admin<any>('POST', `/admin/api/accounts/${accounts.b}/test`);
    expect(bad.body).toMatchObject({ ok: false, status: 401 });
    expect(JSON.stringify(bad.body)).not.toContain('cred-b');
  });

  it('should reject a missing or unknown key with the SDK authentication error', async () => {
    const error = await client(h, 'sk-sy-unknown')
      .messages.create({ model: MODEL, max_tokens: 10, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
  });
});
