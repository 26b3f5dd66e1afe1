import Anthropic from '@anthropic-ai/sdk';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import {
  DEFAULT_FAKE_REPLY_TEXT,
  DISABLED_ORGANIZATION_MESSAGE,
  FAKE_MODELS,
  FakeUpstream,
  fakeInputTokensFor,
  type FakeScenario,
} from '../fake-upstream/fake-upstream';

const MODEL = 'claude-sonnet-4-6';
const PROMPT = [{ role: 'user' as const, content: 'Say hello' }];

/** Runs the call and returns what it threw, failing the test when it did not throw. */
async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe(FakeUpstream.name, () => {
  let upstream: FakeUpstream;

  const client = (
    apiKey = 'key-a',
    extra: Partial<ConstructorParameters<typeof Anthropic>[0]> = {},
  ) => new Anthropic({ apiKey, baseURL: upstream.url, maxRetries: 0, ...extra });

  const create = (anthropic = client()) =>
    anthropic.messages.create({ model: MODEL, max_tokens: 64, messages: PROMPT });

  const stream = (anthropic = client()) =>
    anthropic.messages.stream({ model: MODEL, max_tokens: 64, messages: PROMPT });

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
  });

  afterEach(() => upstream.reset());

  afterAll(async () => {
    await upstream.close();
  });

  it('should answer with deterministic text and usage when no scenario is set', async () => {
    const { data: message, response } = await create().withResponse();

    const [record] = upstream.requests;
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: DEFAULT_FAKE_REPLY_TEXT }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: fakeInputTokensFor(record.rawBody),
        output_tokens: Math.ceil(DEFAULT_FAKE_REPLY_TEXT.length / 4),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      },
    });
    expect(response.headers.get('request-id')).toMatch(/^req_fake_/);
    expect(response.headers.get('anthropic-organization-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(record).toMatchObject({
      method: 'POST',
      path: '/v1/messages',
      credential: 'key-a',
      aborted: false,
      status: 200,
      json: { model: MODEL, max_tokens: 64 },
    });
  });

  it('should stream text deltas, a ping and usage when the request streams', async () => {
    upstream.setDefault({
      reply: {
        content: [{ type: 'text', text: ['Hel', 'lo', ' there'] }],
        usage: {
          inputTokens: 11,
          outputTokens: 7,
          cacheCreation5mTokens: 3,
          cacheCreation1hTokens: 4,
          cacheReadTokens: 5,
        },
      },
    });
    const messageStream = stream();
    const types: string[] = [];
    const deltas: string[] = [];
    for await (const event of messageStream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') {
        deltas.push(event.delta.text);
      }
    }
    const message = await messageStream.finalMessage();

    expect(types).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(deltas).toEqual(['Hel', 'lo', ' there']);
    expect(message.content).toMatchObject([{ type: 'text', text: 'Hello there' }]);
    expect(message.usage).toMatchObject({
      input_tokens: 11,
      output_tokens: 7,
      cache_creation_input_tokens: 7,
      cache_read_input_tokens: 5,
      cache_creation: { ephemeral_5m_input_tokens: 3, ephemeral_1h_input_tokens: 4 },
    });
  });

  it('should send SSE headers and a ping event when read raw', async () => {
    const response = await fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'raw' },
      body: JSON.stringify({ model: MODEL, max_tokens: 8, messages: PROMPT, stream: true }),
    });
    const text = await response.text();

    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(text).toContain('event: ping\ndata: {"type":"ping"}\n\n');
    expect(text.startsWith('event: message_start\n')).toBe(true);
    expect(text.endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(text.match(/event: content_block_delta/g)?.length).toBeGreaterThan(1);
  });

  it('should stream tool input as input_json_delta chunks when the reply has tool_use', async () => {
    const input = { city: 'Paris', units: 'metric', days: [1, 2, 3] };
    upstream.enqueue({
      reply: {
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool_use', name: 'weather', input },
        ],
      },
    });
    const messageStream = stream();
    const partials: string[] = [];
    messageStream.on('inputJson', (partial) => partials.push(partial));
    const message = await messageStream.finalMessage();

    expect(partials.length).toBeGreaterThan(2);
    expect(partials.join('')).toBe(JSON.stringify(input));
    expect(message.stop_reason).toBe('tool_use');
    expect(message.content[1]).toMatchObject({ type: 'tool_use', name: 'weather', input });
  });

  it('should stream thinking and its signature when the reply has a thinking block', async () => {
    upstream.enqueue({
      reply: {
        content: [
          { type: 'thinking', thinking: 'Let me think about it.', signature: 'sig-123' },
          { type: 'text', text: 'Done.' },
        ],
      },
    });
    const messageStream = stream();
    const deltaTypes: string[] = [];
    messageStream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') deltaTypes.push(event.delta.type);
    });
    const message = await messageStream.finalMessage();

    expect(deltaTypes).toContain('thinking_delta');
    expect(deltaTypes.indexOf('signature_delta')).toBeLessThan(deltaTypes.indexOf('text_delta'));
    expect(message.content).toMatchObject([
      { type: 'thinking', thinking: 'Let me think about it.', signature: 'sig-123' },
      { type: 'text', text: 'Done.' },
    ]);
  });

  it('should return the same content and usage without streaming when the scenario is reused', async () => {
    const scenario: FakeScenario = {
      reply: {
        content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } }],
        usage: { inputTokens: 9, outputTokens: 4, cacheReadTokens: 2 },
        stopReason: 'tool_use',
      },
    };
    upstream.enqueue(scenario, scenario);
    const streamed = await stream().finalMessage();
    const plain = await create();

    expect(plain.content).toEqual([
      { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: { q: 'x' } },
    ]);
    expect(plain.usage).toEqual(streamed.usage);
    expect(plain.stop_reason).toBe(streamed.stop_reason);
  });

  it('should produce a long stream of N deltas when events and eventDelayMs are set', async () => {
    upstream.enqueue({ events: 20, eventDelayMs: 5 });
    const started = Date.now();
    const messageStream = stream();
    let deltas = 0;
    messageStream.on('text', () => deltas++);
    const message = await messageStream.finalMessage();

    expect(deltas).toBe(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 * 5);
    expect(message.content).toMatchObject([
      { type: 'text', text: expect.stringMatching(/^w1 w2 /) },
    ]);
  });

  it('should raise the SDK overloaded error when the scenario answers 529', async () => {
    upstream.enqueue({ status: 529 });
    const error = await errorOf(() => create());

    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({
      status: 529,
      error: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    });
  });

  it('should send rate-limit headers when the scenario answers 429', async () => {
    const resetAt = new Date('2030-01-01T00:00:00Z');
    upstream.enqueue({
      status: 429,
      retryAfterSeconds: 17,
      unifiedResetEpochSeconds: 1_900_000_000,
      requestsResetAt: resetAt,
      headers: { 'anthropic-ratelimit-unified-status': 'rejected' },
    });
    const error = await errorOf(() => create());

    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    const { headers } = error as InstanceType<typeof Anthropic.RateLimitError>;
    expect(headers.get('retry-after')).toBe('17');
    expect(headers.get('anthropic-ratelimit-unified-reset')).toBe('1900000000');
    expect(headers.get('anthropic-ratelimit-requests-reset')).toBe(resetAt.toISOString());
    expect(headers.get('anthropic-ratelimit-unified-status')).toBe('rejected');
    expect((error as InstanceType<typeof Anthropic.APIError>).type).toBe('rate_limit_error');
  });

  it.each([
    [400, Anthropic.BadRequestError, 'invalid_request_error'],
    [401, Anthropic.AuthenticationError, 'authentication_error'],
    [403, Anthropic.PermissionDeniedError, 'permission_error'],
    [500, Anthropic.InternalServerError, 'api_error'],
    [502, Anthropic.InternalServerError, 'api_error'],
    [503, Anthropic.InternalServerError, 'api_error'],
  ])(
    'should answer an Anthropic-shaped %i when the scenario has that status',
    async (status, errorClass, type) => {
      upstream.enqueue({ status });
      const error = await errorOf(() => create());

      expect(error).toBeInstanceOf(errorClass);
      expect(error).toMatchObject({ status, type });
    },
  );

  it('should say the organization is disabled when the scenario answers 403', async () => {
    upstream.enqueue({ status: 403 });
    const error = await errorOf(() => create());

    expect((error as InstanceType<typeof Anthropic.APIError>).apiMessage).toBe(
      DISABLED_ORGANIZATION_MESSAGE,
    );
  });

  it('should fail the SDK stream without counting an abort when cutAfterEvents is set', async () => {
    upstream.enqueue({ cutAfterEvents: 3 });
    const messageStream = stream();
    const seen: string[] = [];
    messageStream.on('streamEvent', (event) => seen.push(event.type));
    const error = await errorOf(() => messageStream.finalMessage());

    expect(error).toBeInstanceOf(Error);
    expect(seen).toEqual(['message_start', 'content_block_start']);
    expect(upstream.requests[0].aborted).toBe(false);
    expect(upstream.abortedCount).toBe(0);
  });

  it('should cut a non-stream body midway when cutAfterEvents is set', async () => {
    upstream.enqueue({ cutAfterEvents: 0 });
    const error = await errorOf(() => create());

    // The status line arrived, so the SDK passes on fetch's body error (another realm's TypeError).
    expect(error).toHaveProperty('message', 'terminated');
    expect(upstream.requests[0]).toMatchObject({ status: 200, aborted: false });
  });

  it('should surface an SSE error event when streamError is set', async () => {
    upstream.enqueue({ streamError: { afterEvents: 4 } });
    const error = await errorOf(() => stream().finalMessage());

    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(String(error)).toContain('overloaded_error');
  });

  it('should drop the connection without a response when destroyImmediately is set', async () => {
    upstream.enqueue({ destroyImmediately: true });
    const error = await errorOf(() => create());

    expect(error).toBeInstanceOf(Anthropic.APIConnectionError);
    expect(upstream.requests[0].status).toBeUndefined();
  });

  it('should delay the first byte and observe the client abort when the client times out', async () => {
    upstream.enqueue({ delayFirstByteMs: 60_000 });
    const error = await errorOf(() => create(client('key-a', { timeout: 200 })));
    const aborted = await upstream.waitForAbort(15_000);

    expect(error).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    expect(aborted).toBe(upstream.requests[0]);
    expect(aborted.aborted).toBe(true);
    // The delayed reply never started: the client left during the delay, not after it.
    expect(aborted.status).toBeUndefined();
    expect(upstream.inFlight).toBe(0);
  });

  it('should observe the abort when the client aborts a slow stream', async () => {
    upstream.enqueue({ events: 500, eventDelayMs: 20 });
    const messageStream = stream();
    await errorOf(async () => {
      for await (const event of messageStream) {
        if (event.type === 'content_block_delta') messageStream.abort();
      }
    });
    const aborted = await upstream.waitForAbort(15_000);

    expect(aborted.aborted).toBe(true);
    expect(upstream.abortedCount).toBe(1);
  });

  it('should route scenarios by credential when several accounts are scripted', async () => {
    upstream.forCredential('key-b', { status: 529 });
    upstream.forCredential('oauth-token', [{ status: 401 }, { status: 429 }]);

    await expect(create(client('key-a'))).resolves.toMatchObject({ type: 'message' });
    await expect(create(client('key-b'))).rejects.toMatchObject({ status: 529 });
    await expect(create(client('key-b'))).rejects.toMatchObject({ status: 529 });
    const oauth = new Anthropic({ authToken: 'oauth-token', baseURL: upstream.url, maxRetries: 0 });
    await expect(create(oauth)).rejects.toMatchObject({ status: 401 });
    await expect(create(oauth)).rejects.toMatchObject({ status: 429 });
    await expect(create(oauth)).resolves.toMatchObject({ type: 'message' });
    expect(upstream.requests.map((record) => record.credential)).toEqual([
      'key-a',
      'key-b',
      'key-b',
      'oauth-token',
      'oauth-token',
      'oauth-token',
    ]);
  });

  it('should give each credential its own organization id when accounts differ', async () => {
    const first = await create(client('key-a')).withResponse();
    const second = await create(client('key-b')).withResponse();
    const again = await create(client('key-a')).withResponse();

    const org = (result: { response: Response }) =>
      result.response.headers.get('anthropic-organization-id');
    expect(org(first)).toBe(org(again));
    expect(org(first)).not.toBe(org(second));
  });

  it('should consume queued scenarios in order before the default when both are set', async () => {
    upstream.setDefault({ status: 503 }).enqueue({ status: 529 }, {});

    await expect(create()).rejects.toMatchObject({ status: 529 });
    await expect(create()).resolves.toMatchObject({ type: 'message' });
    await expect(create()).rejects.toMatchObject({ status: 503 });
    await expect(create()).rejects.toMatchObject({ status: 503 });
  });

  it('should leave queued message scenarios alone when count_tokens and models are called', async () => {
    upstream.enqueue({ status: 529 });
    const anthropic = client();

    const counted = await anthropic.messages.countTokens({ model: MODEL, messages: PROMPT });
    const models = await anthropic.models.list();

    expect(counted.input_tokens).toBe(fakeInputTokensFor(upstream.requests[0].rawBody));
    expect(models.data.map((model) => model.id)).toEqual(FAKE_MODELS.map((model) => model.id));
    expect(models.data[0]).toMatchObject({
      type: 'model',
      display_name: FAKE_MODELS[0].displayName,
    });
    await expect(create(anthropic)).rejects.toMatchObject({ status: 529 });
  });

  it('should apply a scenario to count_tokens and models when its endpoints say so', async () => {
    upstream.forCredential('disabled', {
      status: 403,
      endpoints: ['messages', 'count_tokens', 'models'],
    });
    const anthropic = client('disabled');

    await expect(anthropic.models.list()).rejects.toMatchObject({ status: 403 });
    await expect(
      anthropic.messages.countTokens({ model: MODEL, messages: PROMPT }),
    ).rejects.toMatchObject({ status: 403 });
  });

  it('should track in-flight requests and their high-water mark when requests overlap', async () => {
    upstream.setDefault({ delayFirstByteMs: 150 });
    const anthropic = client();
    const pending = Array.from({ length: 5 }, () => create(anthropic));
    await upstream.waitForRequests(5, 15_000);

    expect(upstream.inFlight).toBe(5);
    await Promise.all(pending);
    expect(upstream.maxInFlight).toBe(5);
    expect(upstream.inFlight).toBe(0);
  });

  it('should answer 404 with an Anthropic error when the path is unknown', async () => {
    const response = await fetch(`${upstream.url}/v1/nope`);

    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({
      type: 'error',
      error: { type: 'not_found_error' },
    });
  });

  it('should time out waitForAbort when nothing aborts', async () => {
    await expect(upstream.waitForAbort(50)).rejects.toThrow(/timed out/);
  });

  it('should clear scripting and records when reset is called', async () => {
    upstream.setDefault({ status: 500 }).forCredential('key-a', { status: 529 });
    await errorOf(() => create());
    upstream.reset();

    expect(upstream.requests).toHaveLength(0);
    expect(upstream.requestCount).toBe(0);
    await expect(create()).resolves.toMatchObject({ type: 'message' });
  });

  describe('with record: false', () => {
    let unrecorded: FakeUpstream;

    beforeAll(async () => {
      unrecorded = await FakeUpstream.start({ record: false });
    });

    afterAll(async () => {
      await unrecorded.close();
    });

    it('should keep no records but still count when record is false', async () => {
      const anthropic = new Anthropic({ apiKey: 'k', baseURL: unrecorded.url, maxRetries: 0 });
      await anthropic.messages.create({ model: MODEL, max_tokens: 8, messages: PROMPT });

      expect(unrecorded.requests).toHaveLength(0);
      expect(unrecorded.requestCount).toBe(1);
    });
  });
});

describe('bench-server.js', () => {
  let child: ChildProcess;
  let baseUrl: string;

  beforeAll(async () => {
    child = spawn(
      process.execPath,
      [join(__dirname, '..', 'fake-upstream', 'bench-server.js'), '0'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: child.stdout! });
    const port = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('bench-server did not start')), 5000);
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(/^listening (\d+)$/.exec(line)?.[1] ?? '');
      });
    });
    baseUrl = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });

  it('should answer non-stream and stream requests when driven by the SDK', async () => {
    const anthropic = new Anthropic({ apiKey: 'bench', baseURL: baseUrl, maxRetries: 0 });
    const plain = await anthropic.messages.create({
      model: MODEL,
      max_tokens: 8,
      messages: PROMPT,
    });
    const streamed = await anthropic.messages
      .stream({ model: MODEL, max_tokens: 8, messages: PROMPT })
      .finalMessage();

    expect(plain.model).toBe(MODEL);
    expect(streamed.content).toEqual(plain.content);
    expect(streamed.usage.output_tokens).toBe(plain.usage.output_tokens);
  });

  it('should stream slowly when the x-fake-events headers ask for it', async () => {
    const anthropic = new Anthropic({
      apiKey: 'bench',
      baseURL: baseUrl,
      maxRetries: 0,
      defaultHeaders: { 'x-fake-events': '10', 'x-fake-event-delay-ms': '10' },
    });
    const started = Date.now();
    const messageStream = anthropic.messages.stream({
      model: MODEL,
      max_tokens: 8,
      messages: PROMPT,
    });
    let deltas = 0;
    messageStream.on('text', () => deltas++);
    await messageStream.finalMessage();

    expect(deltas).toBe(10);
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});
