import Anthropic from '@anthropic-ai/sdk';
import { request as httpRequest } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { appLogger } from 'src/common/logging/app-logger';
import { RelayService } from 'src/modules/relay/relay.service';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * Requests built to hurt the relay before it admits them: deep nesting, huge and crafted
 * strings, bursts of large bodies, chunked bodies over the limit, methods the routes do not
 * take. Each is refused (in the Anthropic error shape) or served, and /health/live, polled
 * throughout, keeps answering: the event loop never stalls.
 */

const MODEL = 'claude-sonnet-4-6';
const BODY_BUDGET = 64 * 1024 * 1024;
/** A generous bound for a loaded machine; a stalled loop takes seconds to minutes here. */
const LIVENESS_BOUND_MS = 1000;

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** POST with a body given as chunks (chunked transfer when contentLength is omitted). */
function post(
  url: string,
  path: string,
  headers: Record<string, string | number>,
  chunks: Iterable<Buffer | string>,
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers });
    req.on('error', reject);
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    const iterator = chunks[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const next = iterator.next();
        if (next.done === true) {
          req.end();
          return;
        }
        if (req.destroyed) return;
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

/** Polls /health/live back to back and keeps the slowest answer's time. */
function pollLiveness(url: string): { stop(): Promise<{ worstMs: number; polls: number }> } {
  let running = true;
  let worstMs = 0;
  let polls = 0;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const res = await fetch(`${url}/health/live`);
      await res.arrayBuffer();
      worstMs = Math.max(worstMs, performance.now() - started);
      polls++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { worstMs, polls };
    },
  };
}

function anthropicError(answer: RawAnswer): { type: string; message: string } {
  const parsed = JSON.parse(answer.body) as {
    type: string;
    error: { type: string; message: string };
  };
  expect(parsed.type).toBe('error');
  return parsed.error;
}

describe('relay under hostile input (end to end)', () => {
  let h: RelayHarness;
  let secret: string;
  let headers: Record<string, string>;

  beforeAll(async () => {
    h = await startRelayHarness({
      RELAY_MAX_INFLIGHT_BODY_BYTES: String(BODY_BUDGET),
      RELAY_MAX_BODY_BYTES: String(32 * 1024 * 1024),
    });
    await h.createAccount({
      name: 'patterns',
      credentials: { apiKey: 'cred-patterns' },
      models: ['claude-*-*-*-*-*-*-*-*-4-6', MODEL],
    });
    secret = (await h.createKey({ name: 'hostile' })).secret;
    headers = {
      'x-api-key': secret,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    };
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(() => h.upstream.reset());

  it('should refuse a 10 MB body of nested arrays before parsing it, with the loop free', async () => {
    const liveness = pollLiveness(h.url);
    const nested = Buffer.alloc(10 * 1024 * 1024, '[');
    const prefix = Buffer.from(`{"model":"${MODEL}","max_tokens":1,"messages":`);
    const answer = await post(
      h.url,
      '/v1/messages',
      { ...headers, 'content-length': prefix.length + nested.length },
      [prefix, nested],
    );
    const { worstMs, polls } = await liveness.stop();
    process.stderr.write(
      `[nesting] /health/live worst ${worstMs.toFixed(0)} ms over ${polls} polls\n`,
    );
    expect(answer.status).toBe(400);
    expect(anthropicError(answer)).toEqual({
      type: 'invalid_request_error',
      message: 'request body nests arrays or objects deeper than 128 levels',
    });
    expect(h.upstream.requestCount).toBe(0);
    expect(worstMs).toBeLessThan(LIVENESS_BOUND_MS);
  });

  it('should refuse a 64 KB model name and serve crafted names against wildcard patterns, with the loop free', async () => {
    const liveness = pollLiveness(h.url);
    const huge = await post(h.url, '/v1/messages', headers, [
      JSON.stringify({ model: 'claude-'.repeat((64 * 1024) / 7), max_tokens: 1, messages: [] }),
    ]);
    expect(huge.status).toBe(400);
    expect(anthropicError(huge).message).toBe('model: longer than 256 characters');
    // As long as a name may be, shaped to make a backtracking matcher of the account's
    // multi-wildcard pattern try every split.
    const crafted = `claude-${'-'.repeat(240)}x`;
    const client = new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0 });
    await expect(
      client.messages.create({
        model: crafted,
        max_tokens: 1,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({ status: 503 });
    // Session ids far past any real one are ignored for stickiness, not matched.
    const reply = await client.messages.create({
      model: MODEL,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'hi' }],
      metadata: { user_id: `user_x_account_y_session_${'a'.repeat(1024 * 1024)}` },
    });
    expect(reply.type).toBe('message');
    const { worstMs, polls } = await liveness.stop();
    process.stderr.write(
      `[model names] /health/live worst ${worstMs.toFixed(0)} ms over ${polls} polls\n`,
    );
    expect(worstMs).toBeLessThan(LIVENESS_BOUND_MS);
  });

  it('should keep the heap bounded after many distinct long model names', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    // Long enough that a memo keeping each name whole grows by ~120 MB over the run.
    const names = (i: number): string => `claude-distinct-${i}-${'z'.repeat(60 * 1024)}`;
    const run = async (from: number, count: number): Promise<number[]> => {
      const statuses: number[] = [];
      for (let i = from; i < from + count; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, (_, j) =>
            fetch(`${h.url}/v1/messages`, {
              method: 'POST',
              headers,
              body: JSON.stringify({ model: names(i + j), max_tokens: 1, messages: [] }),
            }).then(async (res) => {
              await res.arrayBuffer();
              return res.status;
            }),
          ),
        );
        statuses.push(...batch);
      }
      return statuses;
    };
    await run(0, 100);
    gc();
    const before = process.memoryUsage().heapUsed;
    const statuses = await run(100, 2000);
    gc();
    const after = process.memoryUsage().heapUsed;
    const growthMb = (after - before) / 1024 / 1024;
    process.stderr.write(
      `[model names] heap ${(before / 1048576).toFixed(0)} -> ${(after / 1048576).toFixed(0)} MB ` +
        `after 2000 distinct 60 KB names (statuses ${[...new Set(statuses)].join(',')})\n`,
    );
    expect(growthMb).toBeLessThan(32);
  }, 120_000);

  it('should hold a burst of large bodies under the in-flight body budget', async () => {
    const relay = h.server.app.get(RelayService);
    relay.inbound.resetPeak();
    const rssBefore = process.memoryUsage().rss;
    const big = Buffer.alloc(31 * 1024 * 1024, 'a');
    const bodyOf = (): Buffer[] => [
      Buffer.from(`{"model":"${MODEL}","messages":[{"role":"user","content":"`),
      big,
      Buffer.from('"}]}'),
    ];
    const length = bodyOf().reduce((n, b) => n + b.length, 0);
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        post(
          h.url,
          '/v1/messages/count_tokens',
          { ...headers, 'content-length': length },
          bodyOf(),
        ),
      ),
    );
    const rssAfter = process.memoryUsage().rss;
    const statuses = answers.map((a) => a.status).sort();
    process.stderr.write(
      `[body budget] statuses ${statuses.join(',')}; peak in-flight body bytes ` +
        `${relay.inbound.peakBodyBytes} of ${BODY_BUDGET}; rss ${(rssBefore / 1048576).toFixed(0)} -> ${(rssAfter / 1048576).toFixed(0)} MB\n`,
    );
    expect(relay.inbound.peakBodyBytes).toBeLessThanOrEqual(BODY_BUDGET);
    expect(relay.inbound.inFlightBodyBytes).toBe(0);
    // Two fit at once; the others are told to come back, in the Anthropic shape.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(2);
    for (const answer of answers.filter((a) => a.status !== 200)) {
      expect(answer.status).toBe(503);
      expect(answer.headers['retry-after']).toBe('1');
      expect(anthropicError(answer).type).toBe('api_error');
    }
  }, 60_000);

  it('should answer a chunked body over the limit with 413 in the dialect shape, not a reset', async () => {
    const chunk = Buffer.alloc(1024 * 1024, 'a');
    const chunks = function* (): Generator<Buffer> {
      yield Buffer.from(`{"model":"${MODEL}","messages":[{"role":"user","content":"`);
      for (let i = 0; i < 40; i++) yield chunk;
      yield Buffer.from('"}]}');
    };
    const answer = await post(h.url, '/v1/messages', headers, chunks());
    expect(answer.status).toBe(413);
    expect(anthropicError(answer)).toEqual({
      type: 'request_too_large',
      message: `request body exceeds ${32 * 1024 * 1024} bytes`,
    });
    expect(h.upstream.requestCount).toBe(0);
  });

  it('should refuse a second request of a concurrency-1 key before reading its body', async () => {
    const key = await h.createKey({ name: 'one-at-a-time', limits: { concurrency: 1 } });
    h.upstream.setDefault({ delayFirstByteMs: 60_000 });
    const client = new Anthropic({ apiKey: key.secret, baseURL: h.url, maxRetries: 0 });
    const cancel = new AbortController();
    const slow = client.messages
      .create(
        { model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'slow' }] },
        { signal: cancel.signal },
      )
      .catch((error: unknown) => error);
    await h.upstream.waitForRequests(1);
    // A body that never ends: only a refusal before reading it can answer.
    const answer = await new Promise<RawAnswer>((resolve, reject) => {
      const req = httpRequest(`${h.url}/v1/messages`, {
        method: 'POST',
        headers: { ...headers, 'x-api-key': key.secret, 'content-length': 10_000_000 },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      });
      req.write('{"model":"');
    });
    expect(answer.status).toBe(429);
    expect(anthropicError(answer).type).toBe('rate_limit_error');
    cancel.abort();
    await slow;
  }, 30_000);

  it('should apply the window and concurrency limits to count_tokens', async () => {
    const windowed = await h.createKey({
      name: 'count-window',
      limits: { windowMinutes: 60, windowRequests: 3 },
    });
    const client = new Anthropic({ apiKey: windowed.secret, baseURL: h.url, maxRetries: 0 });
    const count = () =>
      client.messages.countTokens({
        model: MODEL,
        messages: [{ role: 'user', content: 'count me' }],
      });
    for (let i = 0; i < 3; i++) expect((await count()).input_tokens).toBeGreaterThan(0);
    await expect(count()).rejects.toMatchObject({ status: 429 });

    const single = await h.createKey({ name: 'count-one', limits: { concurrency: 1 } });
    h.upstream.setDefault({ endpoints: ['count_tokens'], delayFirstByteMs: 300 });
    const one = new Anthropic({ apiKey: single.secret, baseURL: h.url, maxRetries: 0 });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        one.messages.countTokens({ model: MODEL, messages: [{ role: 'user', content: 'x' }] }),
      ),
    );
    const passed = results.filter((r) => r.status === 'fulfilled').length;
    expect(passed).toBeGreaterThanOrEqual(1);
    expect(passed).toBeLessThan(10);
    for (const r of results) {
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ status: 429 });
    }
  });

  it('should answer other methods and bad model fields in the Anthropic shape', async () => {
    const get = await fetch(`${h.url}/v1/messages`, { headers: { 'x-api-key': secret } });
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect(await get.json()).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'GET is not supported on /v1/messages; use POST',
      },
    });
    const numeric = await post(h.url, '/v1/messages', headers, [
      JSON.stringify({ model: 42, max_tokens: 1, messages: [] }),
    ]);
    expect(numeric.status).toBe(400);
    expect(anthropicError(numeric).message).toBe('model: must be a string');
  });

  it('should log a client that leaves mid-body as one quiet line, not an error with a stack', async () => {
    const errors = jest.spyOn(appLogger, 'error');
    try {
      await new Promise<void>((resolve) => {
        const req = httpRequest(`${h.url}/v1/messages`, {
          method: 'POST',
          headers: { ...headers, 'content-length': 1000 },
        });
        req.on('error', () => resolve());
        req.on('close', () => resolve());
        req.write('{"model":"', () => setTimeout(() => req.destroy(), 50));
      });
      const relay = h.server.app.get(RelayService);
      // The request's end is observable: its body bytes are given back.
      for (let i = 0; i < 100 && relay.inbound.inFlightBodyBytes > 0; i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(relay.inbound.inFlightBodyBytes).toBe(0);
      expect(errors).not.toHaveBeenCalled();
    } finally {
      errors.mockRestore();
    }
  });
});

describe('relay answers to an overloaded upstream (end to end)', () => {
  let h: RelayHarness;

  beforeAll(async () => {
    h = await startRelayHarness({ ACCOUNT_COOLDOWN_OVERLOADED_MS: '30000' });
    await h.createAccount({ name: 'only', credentials: { apiKey: 'cred-only' } });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('should carry retry-after on the 529 when the only account is overloaded', async () => {
    const { secret } = await h.createKey({ name: 'overloaded' });
    h.upstream.setDefault({ status: 529 });
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': secret, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    expect(res.status).toBe(529);
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });
});
