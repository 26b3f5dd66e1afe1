import { ApiError, GoogleGenAI, type Content } from '@google/genai';
import { GEMINI_FAULT_KEYS } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

const MODEL = 'gemini-2.5-flash';
const ACCOUNT_KEY = 'AIzaFakeGeminiAccountKey-0001';

/**
 * gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output (thoughts included) per MTok:
 * 1000 x 0.30 + 400 x 0.03 + (60 + 40) x 2.50 = 300 + 12 + 250 micro-dollars.
 */
const USAGE = { inputTokens: 1000, cacheReadTokens: 400, outputTokens: 60, reasoningTokens: 40 };
const BILLED_COST_MICROS = 562;

function genai(h: RelayHarness, secret: string, prefix = '/gemini'): GoogleGenAI {
  return new GoogleGenAI({
    apiKey: secret,
    httpOptions: { baseUrl: `${h.url}${prefix}`, timeout: 20_000 },
  });
}

async function requestLog(h: RelayHarness): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
  return res.body.items;
}

/** The Gemini generation requests the fake upstream received. */
function upstreamCalls(h: RelayHarness) {
  return h.upstream.requests.filter((r) => r.surface === 'gemini' && r.method === 'POST');
}

/** The parsed Google error of an SDK failure. */
function googleError(error: unknown): { status: number; body: any } {
  expect(error).toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  return { status: apiError.status, body: JSON.parse(apiError.message) };
}

describe('Gemini API through Switchyard to gemini-api accounts (end to end, @google/genai)', () => {
  let h: RelayHarness;
  let secret: string;
  let accountId: string;

  beforeAll(async () => {
    h = await startRelayHarness();
    accountId = (
      await h.createAccount({
        type: 'gemini-api',
        name: 'gemini-main',
        credentials: { apiKey: ACCOUNT_KEY },
      })
    ).id;
    secret = (await h.createKey({ name: 'gemini-e2e' })).secret;
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it('should answer generateContent with the upstream text and usage, and record the same usage and cost', async () => {
    h.upstream.setDefault({
      reply: {
        content: [
          { type: 'thinking', thinking: 'The user greets me.' },
          { type: 'text', text: 'Bonjour, monde.' },
        ],
        usage: USAGE,
      },
    });
    const response = await genai(h, secret).models.generateContent({
      model: MODEL,
      contents: 'Hello world',
      config: { systemInstruction: 'Answer in French.', maxOutputTokens: 300, temperature: 0.2 },
    });
    expect(response.text).toBe('Bonjour, monde.');
    expect(response.candidates?.[0].finishReason).toBe('STOP');
    expect(response.usageMetadata).toMatchObject({
      promptTokenCount: 1400,
      cachedContentTokenCount: 400,
      candidatesTokenCount: 60,
      thoughtsTokenCount: 40,
    });

    const [call] = upstreamCalls(h);
    expect(call.path).toBe(`/v1beta/models/${MODEL}:generateContent`);
    expect(call.search).toBe('');
    // The account's key upstream, never the caller's Switchyard key.
    expect(call.headers['x-goog-api-key']).toBe(ACCOUNT_KEY);
    expect(JSON.stringify(call.headers)).not.toContain(secret);
    expect(call.json).toMatchObject({
      contents: [{ role: 'user', parts: [{ text: 'Hello world' }] }],
      systemInstruction: { parts: [{ text: 'Answer in French.' }] },
      generationConfig: { maxOutputTokens: 300, temperature: 0.2 },
    });

    const [row] = await requestLog(h);
    expect(row).toMatchObject({
      model: MODEL,
      accountId,
      outcome: 'ok',
      stream: false,
      inputTokens: 1000,
      cacheReadTokens: 400,
      outputTokens: 100,
      costMicros: BILLED_COST_MICROS,
    });
  });

  it('should send the client request bytes upstream unchanged', async () => {
    const body = Buffer.from(
      '{ "contents": [ {"role":"user","parts":[{"text":"Grüße 🌍"}]} ],\n  "generationConfig":{"candidateCount":1} }',
    );
    const res = await fetch(`${h.url}/gemini/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body,
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(upstreamCalls(h)[0].rawBody.equals(body)).toBe(true);
  });

  it('should stream with generateContentStream and record the totals of the last chunk', async () => {
    h.upstream.setDefault({
      reply: { content: [{ type: 'text', text: ['Grüße ', 'aus ', 'Zürich 🌍'] }], usage: USAGE },
    });
    const stream = await genai(h, secret).models.generateContentStream({
      model: MODEL,
      contents: 'Hi',
    });
    let text = '';
    let last: any;
    for await (const chunk of stream) {
      text += chunk.text ?? '';
      last = chunk;
    }
    expect(text).toBe('Grüße aus Zürich 🌍');
    expect(last.candidates[0].finishReason).toBe('STOP');
    expect(last.usageMetadata).toMatchObject({ promptTokenCount: 1400, thoughtsTokenCount: 40 });
    const [call] = upstreamCalls(h);
    expect(call.path).toBe(`/v1beta/models/${MODEL}:streamGenerateContent`);
    expect(call.search).toBe('?alt=sse');

    const [row] = await requestLog(h);
    expect(row).toMatchObject({
      model: MODEL,
      outcome: 'ok',
      stream: true,
      inputTokens: 1000,
      cacheReadTokens: 400,
      outputTokens: 100,
      costMicros: BILLED_COST_MICROS,
    });
  });

  it.each([
    ['an alt=sse stream', '?alt=sse', 'text/event-stream'],
    ['a JSON-array stream (no alt)', '', 'application/json'],
  ])(
    'should pass %s through byte for byte, as a direct call to the upstream answers it',
    async (_name, query, contentType) => {
      h.upstream.setDefault({
        reply: {
          id: 'resp-fixed',
          content: [{ type: 'text', text: 'one two three' }],
          usage: USAGE,
        },
      });
      const body = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'count' }] }] });
      const viaRelay = await fetch(
        `${h.url}/gemini/v1beta/models/${MODEL}:streamGenerateContent${query === '' ? '?key=' : `${query}&key=`}${secret}`,
        { method: 'POST', headers: { 'content-type': 'application/json' }, body },
      );
      const relayed = Buffer.from(await viaRelay.arrayBuffer());
      const direct = await fetch(
        `${h.upstream.url}/v1beta/models/${MODEL}:streamGenerateContent${query}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-goog-api-key': ACCOUNT_KEY },
          body,
        },
      );
      const expected = Buffer.from(await direct.arrayBuffer());
      expect(viaRelay.status).toBe(200);
      expect(viaRelay.headers.get('content-type')).toContain(contentType);
      expect(relayed.toString('utf8')).toBe(expected.toString('utf8'));
      expect(relayed.equals(expected)).toBe(true);
      // The caller's key stays with Switchyard: the query upstream keeps only alt.
      expect(upstreamCalls(h)[0].search).toBe(query);

      const [row] = await requestLog(h);
      expect(row).toMatchObject({ outcome: 'ok', stream: true, outputTokens: 100 });
    },
  );

  it('should carry a function call and its response through a round trip', async () => {
    h.upstream.enqueue(
      {
        reply: {
          content: [{ type: 'tool_use', name: 'get_weather', input: { city: 'Zürich' } }],
        },
      },
      { reply: { content: [{ type: 'text', text: 'It is sunny in Zürich.' }] } },
    );
    const ai = genai(h, secret);
    const tools = [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'The weather in a city',
            parametersJsonSchema: {
              type: 'object',
              properties: { city: { type: 'string' } },
              required: ['city'],
            },
          },
        ],
      },
    ];
    const contents: Content[] = [{ role: 'user', parts: [{ text: 'Weather in Zürich?' }] }];
    const first = await ai.models.generateContent({ model: MODEL, contents, config: { tools } });
    expect(first.functionCalls).toEqual([
      expect.objectContaining({ name: 'get_weather', args: { city: 'Zürich' } }),
    ]);
    contents.push(first.candidates![0].content!, {
      role: 'user',
      parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny, 21 °C' } } }],
    });
    const second = await ai.models.generateContent({ model: MODEL, contents, config: { tools } });
    expect(second.text).toBe('It is sunny in Zürich.');

    const calls = upstreamCalls(h);
    expect(calls).toHaveLength(2);
    expect((calls[0].json as any).tools[0].functionDeclarations[0].name).toBe('get_weather');
    expect((calls[1].json as any).contents).toEqual([
      { role: 'user', parts: [{ text: 'Weather in Zürich?' }] },
      {
        role: 'model',
        parts: [{ functionCall: { name: 'get_weather', args: { city: 'Zürich' } } }],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'get_weather', response: { output: 'sunny, 21 °C' } } },
        ],
      },
    ]);
  });

  it('should count tokens and list the models the pool serves, in Gemini shapes', async () => {
    const ai = genai(h, secret);
    const counted = await ai.models.countTokens({ model: MODEL, contents: 'How many tokens?' });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(upstreamCalls(h)[0].path).toBe(`/v1beta/models/${MODEL}:countTokens`);

    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    expect(names).toEqual(expect.arrayContaining(['models/gemini-2.5-pro', `models/${MODEL}`]));
    const one = await ai.models.get({ model: MODEL });
    expect(one.name).toBe(`models/${MODEL}`);
    const missing = await ai.models.get({ model: 'gemini-0-none' }).catch((e: unknown) => e);
    expect(googleError(missing)).toMatchObject({
      status: 404,
      body: { error: { code: 404, status: 'NOT_FOUND' } },
    });
  });

  it('should serve the same API under /gemini/v1, /v1beta and /v1, with the key as a bearer token', async () => {
    // @google/genai calls v1 unless told otherwise; the tests above went to /gemini/v1.
    for (const apiVersion of ['v1beta', 'v1']) {
      const answer = await new GoogleGenAI({
        apiKey: secret,
        httpOptions: { baseUrl: h.url, apiVersion, timeout: 20_000 },
      }).models.generateContent({ model: MODEL, contents: apiVersion });
      expect(answer.text).toContain('fake upstream');
    }
    const res = await fetch(`${h.url}/gemini/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'v1beta' }] }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as any).candidates[0].content.parts[0].text).toContain('fake');
    // Every version reaches the account's v1beta.
    expect(upstreamCalls(h).map((c) => c.path)).toEqual(
      Array(3).fill(`/v1beta/models/${MODEL}:generateContent`),
    );
    const list = await fetch(`${h.url}/v1beta/models`, { headers: { 'x-goog-api-key': secret } });
    expect(((await list.json()) as any).models.map((m: any) => m.name)).toContain(
      `models/${MODEL}`,
    );
  });

  it("should refuse a bad key, a forbidden model and a forbidden platform in Google's error shape", async () => {
    const bad = await genai(h, 'sk-sy-not-a-key')
      .models.generateContent({ model: MODEL, contents: 'x' })
      .catch((e: unknown) => e);
    expect(googleError(bad)).toMatchObject({
      status: 401,
      body: { error: { code: 401, status: 'UNAUTHENTICATED', message: expect.any(String) } },
    });

    const proOnly = await h.createKey({
      name: 'gemini-pro-only',
      modelPolicy: { mode: 'allow', patterns: ['gemini-2.5-pro'] },
    });
    const forbidden = await genai(h, proOnly.secret)
      .models.generateContent({ model: MODEL, contents: 'x' })
      .catch((e: unknown) => e);
    expect(googleError(forbidden)).toMatchObject({
      status: 403,
      body: { error: { code: 403, status: 'PERMISSION_DENIED' } },
    });

    const claudeOnly = await h.createKey({ name: 'claude-only', permissions: ['claude'] });
    const platform = await genai(h, claudeOnly.secret)
      .models.generateContent({ model: MODEL, contents: 'x' })
      .catch((e: unknown) => e);
    expect(googleError(platform).body.error).toMatchObject({
      status: 'PERMISSION_DENIED',
      message: expect.stringContaining('gemini'),
    });
    const list = await fetch(`${h.url}/gemini/v1beta/models`, {
      headers: { 'x-goog-api-key': claudeOnly.secret },
    });
    expect(list.status).toBe(403);
    expect(upstreamCalls(h)).toHaveLength(0);
  });

  it('should answer a bad request body with 400 INVALID_ARGUMENT before any upstream call', async () => {
    const res = await fetch(`${h.url}/gemini/v1beta/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': secret, 'content-type': 'application/json' },
      body: '{"contents": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      error: { code: 400, status: 'INVALID_ARGUMENT' },
    });
    expect(upstreamCalls(h)).toHaveLength(0);
  });
});

describe('Gemini failover between gemini-api accounts (end to end, @google/genai)', () => {
  let h: RelayHarness;
  let secret: string;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    h = await startRelayHarness();
    ids.limited = (
      await h.createAccount({
        type: 'gemini-api',
        name: 'gemini-limited',
        priority: 1,
        credentials: { apiKey: `${GEMINI_FAULT_KEYS.rateLimited}-key` },
      })
    ).id;
    ids.spare = (
      await h.createAccount({
        type: 'gemini-api',
        name: 'gemini-spare',
        priority: 2,
        credentials: { apiKey: 'AIzaFakeGeminiSpareKey-0002' },
      })
    ).id;
    secret = (await h.createKey({ name: 'gemini-failover' })).secret;
  });

  afterAll(async () => {
    await h?.close();
  });

  it('should fail over on RESOURCE_EXHAUSTED and show the first account rate-limited until the retry delay', async () => {
    const before = Date.now();
    const response = await genai(h, secret).models.generateContent({
      model: MODEL,
      contents: 'fail over',
    });
    expect(response.text).toContain('fake upstream');
    const keys = h.upstream.requests.filter((r) => r.surface === 'gemini').map((r) => r.credential);
    expect(keys).toEqual([`${GEMINI_FAULT_KEYS.rateLimited}-key`, 'AIzaFakeGeminiSpareKey-0002']);

    const detail = await h.admin<any>('GET', `/admin/api/accounts/${ids.limited}`);
    // A per-model quota (the QuotaFailure names the model): only the flash family is limited.
    const state = detail.body.healthStates.find((s: any) => s.state === 'rate_limited');
    expect(state).toMatchObject({ scope: 'flash' });
    const until = Date.parse(state.until);
    expect(until).toBeGreaterThanOrEqual(before + 30_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 31_000);

    const [row] = await (async () => {
      await h.flushUsage();
      return (await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests')).body.items;
    })();
    expect(row).toMatchObject({ accountId: ids.spare, attempts: 2, outcome: 'ok' });
  });

  it('should answer 429 RESOURCE_EXHAUSTED with a RetryInfo when every account is rate-limited', async () => {
    h.upstream.forCredential('AIzaFakeGeminiSpareKey-0002', {
      status: 429,
      retryAfterSeconds: 20,
      geminiQuota: { period: 'minute' },
    });
    const error = await genai(h, secret)
      .models.generateContent({ model: MODEL, contents: 'all limited' })
      .catch((e: unknown) => e);
    const { status, body } = googleError(error);
    expect(status).toBe(429);
    expect(body.error.status).toBe('RESOURCE_EXHAUSTED');
    const retry = body.error.details.find((d: any) => d['@type'].endsWith('google.rpc.RetryInfo'));
    const seconds = Number(String(retry.retryDelay).replace(/s$/, ''));
    expect(seconds).toBeGreaterThan(10);
    expect(seconds).toBeLessThanOrEqual(31);
  });
});
