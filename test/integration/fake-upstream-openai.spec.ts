import OpenAI, { AzureOpenAI } from 'openai';

import {
  CODEX_CLIENT_ID,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  FakeOpenAIAuth,
  decodeJwtPayload,
  s256,
} from '../fake-upstream/fake-openai-auth';
import {
  CODEX_STORE_REQUIRED,
  CODEX_STREAM_REQUIRED,
  FAKE_OPENAI_MODELS,
  formatOpenAIDuration,
} from '../fake-upstream/fake-openai';
import {
  DEFAULT_FAKE_REPLY_TEXT,
  FakeGate,
  FakeUpstream,
  fakeInputTokensFor,
  type FakeScenario,
} from '../fake-upstream/fake-upstream';

const MODEL = 'gpt-5';
const MESSAGES = [{ role: 'user' as const, content: 'Say hello' }];
const API_VERSION = '2025-04-01-preview';

/** Runs the call and returns what it threw, failing the test when it did not throw. */
async function errorOf(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

const WEATHER_ARGS = { city: 'Paris', units: 'metric', days: [1, 2, 3] };

/** Reasoning, a sentence and a function call, with usage numbers that show every field. */
const TOOL_REPLY: FakeScenario = {
  reply: {
    content: [
      { type: 'thinking', thinking: 'The user wants weather.', signature: 'enc-reasoning-1' },
      { type: 'text', text: ['Let me ', 'check.'] },
      { type: 'tool_use', id: 'call_weather_1', name: 'get_weather', input: WEATHER_ARGS },
    ],
    usage: { inputTokens: 100, cacheReadTokens: 40, outputTokens: 30, reasoningTokens: 12 },
  },
};

describe('FakeUpstream (OpenAI, Azure OpenAI and Codex routes)', () => {
  let upstream: FakeUpstream;

  const openai = (
    apiKey = 'sk-test-a',
    extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {},
  ) => new OpenAI({ apiKey, baseURL: `${upstream.url}/v1`, maxRetries: 0, ...extra });

  const chat = (client = openai()) =>
    client.chat.completions.create({ model: MODEL, messages: MESSAGES });

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
  });

  afterEach(() => upstream.reset());

  afterAll(async () => {
    await upstream.close();
  });

  describe('Chat Completions', () => {
    it('should answer the default text with usage and OpenAI headers when no scenario is set', async () => {
      const client = openai('sk-test-a', {
        organization: 'org-fake',
        project: 'proj_fake',
      });
      const { data, response } = await chat(client).withResponse();

      const [record] = upstream.requests;
      expect(data).toMatchObject({
        object: 'chat.completion',
        model: MODEL,
        choices: [
          {
            index: 0,
            finish_reason: 'stop',
            message: { role: 'assistant', content: DEFAULT_FAKE_REPLY_TEXT },
          },
        ],
        usage: {
          prompt_tokens: fakeInputTokensFor(record.rawBody),
          completion_tokens: Math.ceil(DEFAULT_FAKE_REPLY_TEXT.length / 4),
          prompt_tokens_details: { cached_tokens: 0 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      });
      expect(data.choices[0].message.tool_calls).toBeUndefined();
      expect(response.headers.get('x-request-id')).toMatch(/^req_fake_/);
      expect(response.headers.get('x-ratelimit-limit-requests')).toBe('5000');
      expect(response.headers.get('x-ratelimit-reset-tokens')).toBe('30ms');
      expect(response.headers.get('openai-organization')).toBe('org-fake');
      expect(record).toMatchObject({
        method: 'POST',
        path: '/v1/chat/completions',
        surface: 'openai',
        credential: 'sk-test-a',
        status: 200,
        json: { model: MODEL },
      });
      expect(record.headers['openai-organization']).toBe('org-fake');
      expect(record.headers['openai-project']).toBe('proj_fake');
    });

    it('should stream chunks and a final usage chunk when include_usage is set', async () => {
      upstream.setDefault({
        reply: {
          content: [{ type: 'text', text: ['Hel', 'lo', ' there'] }],
          usage: { inputTokens: 11, cacheReadTokens: 5, outputTokens: 7, reasoningTokens: 3 },
        },
      });
      const stream = await openai().chat.completions.create({
        model: MODEL,
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
      const deltas: string[] = [];
      const finishReasons: unknown[] = [];
      const usages: unknown[] = [];
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta.content) deltas.push(choice.delta.content);
        if (choice?.finish_reason) finishReasons.push(choice.finish_reason);
        usages.push(chunk.usage);
      }

      expect(deltas).toEqual(['Hel', 'lo', ' there']);
      expect(finishReasons).toEqual(['stop']);
      // Every chunk but the last says usage: null; the last one, with no choices, has it.
      expect(usages.slice(0, -1).every((usage) => usage === null)).toBe(true);
      expect(usages.at(-1)).toEqual({
        prompt_tokens: 16,
        completion_tokens: 7,
        total_tokens: 23,
        prompt_tokens_details: { cached_tokens: 5, audio_tokens: 0 },
        completion_tokens_details: {
          reasoning_tokens: 3,
          audio_tokens: 0,
          accepted_prediction_tokens: 0,
          rejected_prediction_tokens: 0,
        },
      });
    });

    it('should write data lines only and end with [DONE] when read raw', async () => {
      const response = await fetch(`${upstream.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer sk-raw' },
        body: JSON.stringify({ model: MODEL, messages: MESSAGES, stream: true }),
      });
      const text = await response.text();

      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(text).not.toContain('event:');
      expect(text).not.toContain('"usage"');
      expect(text.startsWith('data: {"id":"chatcmpl-fake')).toBe(true);
      expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    });

    it('should return function calls in a stream and without one when the reply has tool_use', async () => {
      upstream.enqueue(TOOL_REPLY, TOOL_REPLY);
      const runner = openai().chat.completions.stream({ model: MODEL, messages: MESSAGES });
      const argumentDeltas: string[] = [];
      runner.on('chunk', (chunk) => {
        const call = chunk.choices[0]?.delta.tool_calls?.[0];
        if (call?.function?.arguments) argumentDeltas.push(call.function.arguments);
      });
      const streamed = await runner.finalChatCompletion();
      const plain = await chat();

      expect(argumentDeltas.length).toBeGreaterThan(2);
      expect(argumentDeltas.join('')).toBe(JSON.stringify(WEATHER_ARGS));
      for (const completion of [streamed, plain]) {
        const [choice] = completion.choices;
        expect(choice.finish_reason).toBe('tool_calls');
        expect(choice.message.content).toBe('Let me check.');
        expect(choice.message.tool_calls).toEqual([
          {
            id: 'call_weather_1',
            type: 'function',
            function: { name: 'get_weather', arguments: JSON.stringify(WEATHER_ARGS) },
          },
        ]);
      }
      expect(plain.usage).toMatchObject({
        prompt_tokens: 140,
        completion_tokens: 30,
        prompt_tokens_details: { cached_tokens: 40 },
        completion_tokens_details: { reasoning_tokens: 12 },
      });
    });

    it('should send an OpenAI error with rate-limit headers when the scenario answers 429', async () => {
      upstream.enqueue({
        status: 429,
        retryAfterSeconds: 2,
        rateLimit: { remainingRequests: 0, resetRequests: 360_000, resetTokens: '20ms' },
      });
      const error = await errorOf(() => chat());

      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>;
      expect(rateLimited.error).toEqual({
        message: expect.stringContaining('Rate limit reached'),
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      });
      expect(rateLimited.headers.get('retry-after')).toBe('2');
      expect(rateLimited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
      expect(rateLimited.headers.get('x-ratelimit-reset-requests')).toBe('6m0s');
      expect(rateLimited.headers.get('x-ratelimit-reset-tokens')).toBe('20ms');
      expect(rateLimited.headers.get('x-ratelimit-limit-tokens')).toBe('2000000');
    });

    it.each([
      [401, OpenAI.AuthenticationError, 'invalid_request_error', 'invalid_api_key'],
      [400, OpenAI.BadRequestError, 'invalid_request_error', null],
      [500, OpenAI.InternalServerError, 'server_error', null],
      [503, OpenAI.InternalServerError, 'server_error', null],
    ])(
      'should answer an OpenAI-shaped %i when the scenario has that status',
      async (status, errorClass, type, code) => {
        upstream.enqueue({ status });
        const error = await errorOf(() => chat());

        expect(error).toBeInstanceOf(errorClass);
        expect(error).toMatchObject({ status, type, code });
      },
    );

    it('should use the scenario error code and type when they are given', async () => {
      upstream.enqueue({
        status: 429,
        errorType: 'insufficient_quota',
        errorCode: 'insufficient_quota',
      });
      const error = await errorOf(() => chat());

      expect(error).toMatchObject({
        status: 429,
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      });
    });

    it('should refuse a request without a key before any scenario is consumed', async () => {
      upstream.enqueue({ status: 529 });
      const response = await fetch(`${upstream.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
      });

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        error: { type: 'invalid_request_error', message: expect.stringContaining('API key') },
      });
      await expect(chat()).rejects.toMatchObject({ status: 529 });
    });

    it('should cut the stream so the SDK fails when cutAfterEvents is set', async () => {
      upstream.enqueue({ cutAfterEvents: 2 });
      const stream = await openai().chat.completions.create({
        model: MODEL,
        messages: MESSAGES,
        stream: true,
      });
      const seen: string[] = [];
      const error = await errorOf(async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      });

      // The status line arrived, so the SDK passes on fetch's body error (another realm's TypeError).
      expect(error).toHaveProperty('message', 'terminated');
      expect(seen).toHaveLength(2);
      expect(upstream.requests[0]).toMatchObject({ status: 200, aborted: false });
    });

    it('should raise an APIError mid-stream when streamError is set', async () => {
      upstream.enqueue({ streamError: { afterEvents: 3, message: 'boom' } });
      const stream = await openai().chat.completions.create({
        model: MODEL,
        messages: MESSAGES,
        stream: true,
      });
      const error = await errorOf(async () => {
        for await (const chunk of stream) void chunk;
      });

      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(error).toMatchObject({ error: { type: 'server_error', message: 'boom' } });
    });

    it('should hold the first byte at a gate and go on when it opens', async () => {
      const gate = new FakeGate();
      upstream.enqueue({ holdFirstByte: gate });
      const pending = chat();
      await upstream.waitForHeld(gate, 1);

      expect(upstream.requests[0].status).toBeUndefined();
      gate.open();
      await expect(pending).resolves.toMatchObject({ object: 'chat.completion' });
    });

    it('should observe the client abort when the first byte is delayed past the timeout', async () => {
      upstream.enqueue({ delayFirstByteMs: 60_000 });
      const error = await errorOf(() => chat(openai('sk-test-a', { timeout: 200 })));
      const aborted = await upstream.waitForAbort(15_000);

      // The SDK's timeout error subclasses APIConnectionError; under jest it can surface as the
      // base class, since the abort it sees comes from another realm.
      expect(error).toBeInstanceOf(OpenAI.APIConnectionError);
      expect(aborted.aborted).toBe(true);
      expect(aborted.status).toBeUndefined();
      expect(aborted.path).toBe('/v1/chat/completions');
    });

    it('should leave a scenario for the Anthropic route alone when its endpoints say messages', async () => {
      upstream.enqueue({ endpoints: ['messages'], status: 529 }, { status: 503 });

      await expect(chat()).rejects.toMatchObject({ status: 503 });
      await expect(chat()).resolves.toMatchObject({ object: 'chat.completion' });
      expect(upstream.requests.map((record) => record.status)).toEqual([503, 200]);
    });

    it('should route scenarios by credential when several keys are scripted', async () => {
      upstream.forCredential('sk-bad', { status: 401 });

      await expect(chat(openai('sk-good'))).resolves.toMatchObject({ object: 'chat.completion' });
      await expect(chat(openai('sk-bad'))).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    });
  });

  describe('Responses', () => {
    it('should return reasoning, message and function_call items without streaming', async () => {
      upstream.enqueue(TOOL_REPLY);
      const response = await openai().responses.create({
        model: MODEL,
        input: 'Weather in Paris?',
        include: ['reasoning.encrypted_content'],
      });

      expect(response).toMatchObject({
        object: 'response',
        status: 'completed',
        model: MODEL,
        output: [
          {
            type: 'reasoning',
            summary: [{ type: 'summary_text', text: 'The user wants weather.' }],
            encrypted_content: 'enc-reasoning-1',
          },
          {
            type: 'message',
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: 'Let me check.', annotations: [] }],
          },
          {
            type: 'function_call',
            call_id: 'call_weather_1',
            name: 'get_weather',
            arguments: JSON.stringify(WEATHER_ARGS),
            status: 'completed',
          },
        ],
        usage: {
          input_tokens: 140,
          input_tokens_details: { cached_tokens: 40 },
          output_tokens: 30,
          output_tokens_details: { reasoning_tokens: 12 },
          total_tokens: 170,
        },
      });
      expect(response.output_text).toBe('Let me check.');
      expect(upstream.requests[0]).toMatchObject({ path: '/v1/responses', surface: 'openai' });
    });

    it('should stream the Responses events in order with a sequence number on each', async () => {
      upstream.enqueue(TOOL_REPLY);
      const stream = openai().responses.stream({ model: MODEL, input: 'Weather in Paris?' });
      const types: string[] = [];
      const sequence: number[] = [];
      for await (const event of stream) {
        types.push(event.type);
        sequence.push(event.sequence_number);
      }
      const final = await stream.finalResponse();

      expect(sequence).toEqual(types.map((_, index) => index));
      const compact = types.filter((type, index) => type !== types[index - 1]);
      expect(compact).toEqual([
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.reasoning_summary_part.added',
        'response.reasoning_summary_text.delta',
        'response.reasoning_summary_text.done',
        'response.reasoning_summary_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ]);
      expect(final.output_text).toBe('Let me check.');
      expect(final.usage?.output_tokens_details.reasoning_tokens).toBe(12);
      // Without `include: ['reasoning.encrypted_content']` the reasoning item has none.
      expect(final.output[0]).not.toHaveProperty('encrypted_content');
    });

    it('should end with response.incomplete when the reply stopped at max tokens', async () => {
      upstream.enqueue({ reply: { stopReason: 'max_tokens' } });
      const response = await openai().responses.create({ model: MODEL, input: 'hi' });

      expect(response.status).toBe('incomplete');
      expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    });

    it('should raise an APIError from an error event when streamError is set', async () => {
      upstream.enqueue({ streamError: { afterEvents: 4, type: 'server_error', message: 'oops' } });
      const stream = openai().responses.stream({ model: MODEL, input: 'hi' });
      const error = await errorOf(async () => {
        for await (const event of stream) void event;
      });

      expect(error).toBeInstanceOf(OpenAI.APIError);
      expect(String(error)).toContain('oops');
    });
  });

  describe('models', () => {
    it('should list and retrieve OpenAI models and answer 404 for an unknown one', async () => {
      const client = openai();
      const list = await client.models.list();
      const one = await client.models.retrieve('gpt-5-codex');
      const missing = await errorOf(() => client.models.retrieve('gpt-nope'));

      expect(list.data.map((model) => model.id)).toEqual(FAKE_OPENAI_MODELS.map((m) => m.id));
      expect(one).toMatchObject({ id: 'gpt-5-codex', object: 'model', owned_by: 'system' });
      expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
      expect(upstream.requests.map((record) => record.surface)).toEqual([
        'openai',
        'openai',
        'openai',
      ]);
    });
  });

  describe('Azure OpenAI', () => {
    // The test setup loads .env.example, whose OPENAI_BASE_URL the SDK would read as a baseURL,
    // which AzureOpenAI refuses next to an endpoint.
    let savedBaseUrl: string | undefined;
    beforeAll(() => {
      savedBaseUrl = process.env.OPENAI_BASE_URL;
      delete process.env.OPENAI_BASE_URL;
    });
    afterAll(() => {
      if (savedBaseUrl !== undefined) process.env.OPENAI_BASE_URL = savedBaseUrl;
    });

    const azure = (extra: Partial<ConstructorParameters<typeof AzureOpenAI>[0]> = {}) =>
      new AzureOpenAI({
        endpoint: upstream.url,
        apiVersion: API_VERSION,
        deployment: 'prod-gpt5',
        apiKey: 'azure-key-1',
        maxRetries: 0,
        ...extra,
      });

    it('should answer the deployment route and record the deployment and the api-key', async () => {
      const completion = await azure().chat.completions.create({
        model: 'gpt-5',
        messages: MESSAGES,
      });
      const streamed = await azure()
        .chat.completions.stream({ model: 'gpt-5', messages: MESSAGES })
        .finalChatCompletion();

      expect(completion.choices[0].message.content).toBe(DEFAULT_FAKE_REPLY_TEXT);
      expect(streamed.choices[0].message.content).toBe(DEFAULT_FAKE_REPLY_TEXT);
      expect(upstream.requests[0]).toMatchObject({
        path: '/openai/deployments/prod-gpt5/chat/completions',
        search: `?api-version=${API_VERSION}`,
        surface: 'azure',
        deployment: 'prod-gpt5',
        credential: 'azure-key-1',
      });
    });

    it('should take an Entra ID bearer token as the credential when one is used', async () => {
      const client = new AzureOpenAI({
        endpoint: upstream.url,
        apiVersion: API_VERSION,
        deployment: 'prod-gpt5',
        azureADTokenProvider: () => Promise.resolve('entra-token-1'),
        maxRetries: 0,
      });
      await client.chat.completions.create({ model: 'gpt-5', messages: MESSAGES });

      expect(upstream.requests[0].credential).toBe('entra-token-1');
      expect(upstream.requests[0].headers['api-key']).toBeUndefined();
    });

    it('should answer Responses on the SDK route and on the v1 routes', async () => {
      const viaSdk = await azure().responses.create({ model: 'prod-gpt5', input: 'hi' });
      const v1 = new OpenAI({
        apiKey: 'azure-key-1',
        baseURL: `${upstream.url}/openai/v1`,
        maxRetries: 0,
      });
      const viaV1 = await v1.responses.create({ model: 'prod-gpt5', input: 'hi' });
      const chatV1 = await v1.chat.completions.create({ model: 'prod-gpt5', messages: MESSAGES });

      expect(viaSdk.output_text).toBe(DEFAULT_FAKE_REPLY_TEXT);
      expect(viaV1.output_text).toBe(DEFAULT_FAKE_REPLY_TEXT);
      expect(chatV1.model).toBe('prod-gpt5');
      expect(upstream.requests.map((record) => [record.path, record.surface])).toEqual([
        ['/openai/responses', 'azure'],
        ['/openai/v1/responses', 'azure'],
        ['/openai/v1/chat/completions', 'azure'],
      ]);
    });

    it('should answer 404 Resource not found when the deployment route has no api-version', async () => {
      const response = await fetch(`${upstream.url}/openai/deployments/d1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'api-key': 'azure-key-1' },
        body: JSON.stringify({ messages: MESSAGES }),
      });

      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({
        error: { code: '404', message: 'Resource not found' },
      });
    });

    it('should answer errors in the Azure shape with its rate-limit headers when scripted', async () => {
      upstream.enqueue({ status: 429, retryAfterSeconds: 1, rateLimit: { remainingTokens: 0 } });
      const error = await errorOf(() =>
        azure().chat.completions.create({ model: 'gpt-5', messages: MESSAGES }),
      );

      expect(error).toBeInstanceOf(OpenAI.RateLimitError);
      const rateLimited = error as InstanceType<typeof OpenAI.RateLimitError>;
      expect(rateLimited.error).toEqual({
        code: '429',
        message: expect.stringContaining('exceeded token rate limit'),
      });
      expect(rateLimited.headers.get('x-ratelimit-remaining-tokens')).toBe('0');
      expect(rateLimited.headers.get('retry-after')).toBe('1');
      expect(rateLimited.headers.get('apim-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    });
  });

  describe('Codex backend', () => {
    const CODEX_BODY = {
      model: 'gpt-5-codex',
      instructions: 'You are Codex.',
      input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }] }],
      stream: true,
      store: false,
      include: ['reasoning.encrypted_content'],
    };

    /** What the Codex CLI sends (codex-rs: originator, session_id, OpenAI-Beta, version). */
    const codexHeaders = (token = 'chatgpt-access-1', accountId = 'acct-1') => ({
      'content-type': 'application/json',
      accept: 'text/event-stream',
      authorization: `Bearer ${token}`,
      'chatgpt-account-id': accountId,
      originator: 'codex_cli_rs',
      session_id: 'sess-123',
      'OpenAI-Beta': 'responses=experimental',
      version: '0.46.0',
    });

    const codex = (body: unknown = CODEX_BODY, headers: Record<string, string> = codexHeaders()) =>
      fetch(`${upstream.url}/backend-api/codex/responses`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
      });

    it('should stream Responses events with the usage-window headers and record the Codex headers', async () => {
      upstream.enqueue({
        codexUsage: { primaryUsedPercent: 42.5, secondaryUsedPercent: 7, planType: 'pro' },
        reply: {
          content: [
            { type: 'thinking', thinking: 'hm' },
            { type: 'text', text: 'Hi!' },
          ],
        },
      });
      const before = Math.floor(Date.now() / 1000);
      const response = await codex();
      const text = await response.text();

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream');
      expect(response.headers.get('x-codex-primary-used-percent')).toBe('42.5');
      expect(response.headers.get('x-codex-primary-window-minutes')).toBe('300');
      expect(response.headers.get('x-codex-primary-reset-after-seconds')).toBe('9000');
      expect(Number(response.headers.get('x-codex-primary-reset-at'))).toBeGreaterThanOrEqual(
        before + 9000,
      );
      expect(response.headers.get('x-codex-secondary-used-percent')).toBe('7');
      expect(response.headers.get('x-codex-secondary-window-minutes')).toBe('10080');
      expect(response.headers.get('x-codex-secondary-reset-after-seconds')).toBe('302400');
      expect(response.headers.get('x-codex-plan-type')).toBe('pro');
      expect(text).toContain('event: response.reasoning_summary_text.delta');
      expect(text).toMatch(/"encrypted_content":"[^"]+"/);
      expect(text.trimEnd().split('\n\n').at(-1)).toMatch(/^event: response.completed\n/);
      expect(upstream.requests[0]).toMatchObject({
        surface: 'codex',
        credential: 'chatgpt-access-1',
      });
      expect(upstream.requests[0].headers).toMatchObject({
        'chatgpt-account-id': 'acct-1',
        originator: 'codex_cli_rs',
        session_id: 'sess-123',
        'openai-beta': 'responses=experimental',
        version: '0.46.0',
      });
    });

    it.each([
      ['stream is false', { ...CODEX_BODY, stream: false }, CODEX_STREAM_REQUIRED],
      ['store is left out', { ...CODEX_BODY, store: undefined }, CODEX_STORE_REQUIRED],
    ])('should answer 400 with a detail when %s', async (_, body, detail) => {
      upstream.enqueue({ status: 529 });
      const response = await codex(body);

      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ detail });
      // The refusal consumed nothing.
      expect((await codex()).status).toBe(529);
    });

    it('should answer 400 when the chatgpt-account-id header is missing', async () => {
      const { 'chatgpt-account-id': _, ...headers } = codexHeaders();
      const response = await codex(CODEX_BODY, headers);

      expect(response.status).toBe(400);
    });

    it('should answer the usage-limit 429 with the exhausted window at 100 percent', async () => {
      upstream.enqueue({ codexUsageLimit: { resetsInSeconds: 1800, planType: 'plus' } });
      const before = Math.floor(Date.now() / 1000);
      const response = await codex();
      const body = (await response.json()) as { error: Record<string, unknown> };

      expect(response.status).toBe(429);
      expect(body.error).toMatchObject({
        type: 'usage_limit_reached',
        plan_type: 'plus',
        resets_in_seconds: 1800,
      });
      expect(body.error.resets_at).toBeGreaterThanOrEqual(before + 1800);
      expect(response.headers.get('x-codex-primary-used-percent')).toBe('100');
      expect(response.headers.get('x-codex-primary-reset-after-seconds')).toBe('1800');
      expect(response.headers.get('x-codex-secondary-used-percent')).toBe('31');
    });

    it('should put the weekly window at 100 percent when the secondary limit ran out', async () => {
      upstream.enqueue({ codexUsageLimit: { window: 'secondary', resetsInSeconds: 86_400 } });
      const response = await codex();

      expect(response.headers.get('x-codex-secondary-used-percent')).toBe('100');
      expect(response.headers.get('x-codex-secondary-reset-after-seconds')).toBe('86400');
      expect(response.headers.get('x-codex-primary-used-percent')).toBe('12');
    });

    describe('with the OAuth fake as token authority', () => {
      let auth: FakeOpenAIAuth;

      beforeAll(async () => {
        auth = await FakeOpenAIAuth.start({ account: { accountId: 'acct-7' } });
      });

      afterEach(() => auth.reset());

      afterAll(async () => {
        await auth.close();
      });

      it('should accept a live token, refuse it once expired, and accept the refreshed one', async () => {
        upstream.useCodexAuth(auth);
        const tokens = auth.issueTokens();

        expect((await codex(CODEX_BODY, codexHeaders(tokens.access_token, 'acct-7'))).status).toBe(
          200,
        );
        expect((await codex(CODEX_BODY, codexHeaders('forged', 'acct-7'))).status).toBe(401);
        expect(
          (await codex(CODEX_BODY, codexHeaders(tokens.access_token, 'acct-other'))).status,
        ).toBe(403);

        auth.expireAccessTokens();
        const expired = await codex(CODEX_BODY, codexHeaders(tokens.access_token, 'acct-7'));
        expect(expired.status).toBe(401);
        expect(await expired.json()).toMatchObject({ error: { code: 'token_expired' } });

        const refreshed = await refresh(auth, tokens.refresh_token);
        const again = await codex(CODEX_BODY, codexHeaders(refreshed.access_token, 'acct-7'));
        expect(again.status).toBe(200);
      });
    });
  });
});

/** The Codex CLI's refresh: JSON `{client_id, grant_type, refresh_token}`. */
async function refresh(
  auth: FakeOpenAIAuth,
  refreshToken: string,
): Promise<{ access_token: string; refresh_token: string; id_token: string; expires_in: number }> {
  const response = await postRefresh(auth, refreshToken);
  if (response.status !== 200) throw new Error(`refresh answered ${response.status}`);
  return (await response.json()) as {
    access_token: string;
    refresh_token: string;
    id_token: string;
    expires_in: number;
  };
}

function postRefresh(auth: FakeOpenAIAuth, refreshToken: string): Promise<Response> {
  return fetch(`${auth.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: CODEX_CLIENT_ID,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    }),
  });
}

describe(FakeOpenAIAuth.name, () => {
  let auth: FakeOpenAIAuth;
  const REDIRECT_URI = 'http://localhost:1455/auth/callback';
  const VERIFIER = 'a'.repeat(43) + '-verifier_0123456789';

  /** The authorize request Codex's login server builds (codex-rs/login/src/server.rs). */
  const authorizeUrl = (overrides: Record<string, string> = {}) => {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: CODEX_CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      scope: 'openid profile email offline_access',
      code_challenge: s256(VERIFIER),
      code_challenge_method: 'S256',
      id_token_add_organizations: 'true',
      codex_cli_simplified_flow: 'true',
      state: 'state-xyz',
      originator: 'codex_cli_rs',
      ...overrides,
    });
    return `${auth.url}/oauth/authorize?${query.toString()}`;
  };

  const authorize = async (overrides: Record<string, string> = {}) => {
    const response = await fetch(authorizeUrl(overrides), { redirect: 'manual' });
    return { response, location: new URL(response.headers.get('location') ?? 'http://none') };
  };

  /** Codex's code exchange: form-encoded (exchange_code_for_tokens). */
  const exchange = (code: string, verifier = VERIFIER) =>
    fetch(`${auth.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: CODEX_CLIENT_ID,
        code_verifier: verifier,
      }).toString(),
    });

  beforeAll(async () => {
    auth = await FakeOpenAIAuth.start({
      account: { accountId: 'acct-123', email: 'dev@example.com', planType: 'pro' },
    });
  });

  afterEach(() => auth.reset());

  afterAll(async () => {
    await auth.close();
  });

  it('should redirect with a code and the state and record the PKCE challenge', async () => {
    const { response, location } = await authorize();

    expect(response.status).toBe(302);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get('state')).toBe('state-xyz');
    expect(location.searchParams.get('code')).toMatch(/^ac_fake_/);
    expect(auth.authorizations[0]).toMatchObject({
      codeChallenge: s256(VERIFIER),
      codeChallengeMethod: 'S256',
      redirectUri: REDIRECT_URI,
      state: 'state-xyz',
      code: location.searchParams.get('code'),
    });
    expect(auth.authorizations[0].query.originator).toBe('codex_cli_rs');
    expect(auth.counts.authorize).toBe(1);
  });

  it('should exchange the code for tokens whose id_token carries the ChatGPT claims', async () => {
    const { location } = await authorize();
    const response = await exchange(location.searchParams.get('code')!);
    const tokens = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(tokens).toMatchObject({
      token_type: 'Bearer',
      expires_in: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
      refresh_token: expect.stringMatching(/^rt_fake_/),
    });
    const claims = decodeJwtPayload(tokens.id_token as string);
    expect(claims).toMatchObject({
      email: 'dev@example.com',
      'https://api.openai.com/auth': {
        chatgpt_account_id: 'acct-123',
        chatgpt_plan_type: 'pro',
      },
    });
    const access = decodeJwtPayload(tokens.access_token as string);
    expect(access.exp).toBe((access.iat as number) + DEFAULT_ACCESS_TOKEN_TTL_SECONDS);
    expect(auth.checkAccessToken(tokens.access_token as string)).toEqual({
      valid: true,
      accountId: 'acct-123',
    });
    expect(auth.requests.at(-1)).toMatchObject({ encoding: 'form', status: 200 });
    expect(auth.counts).toMatchObject({ authorize: 1, authorizationCode: 1, token: 1 });
  });

  it('should refuse a wrong code_verifier and a reused code with invalid_grant', async () => {
    const { location } = await authorize();
    const code = location.searchParams.get('code')!;

    const wrong = await exchange(code, 'not-the-verifier');
    const right = await exchange(code);
    const reused = await exchange(code);

    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toMatchObject({ error: 'invalid_grant' });
    expect(right.status).toBe(200);
    expect(reused.status).toBe(400);
  });

  it('should refuse an authorize request without S256 PKCE', async () => {
    const { response } = await authorize({ code_challenge_method: 'plain' });

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it('should redirect with the error when the next authorization is denied', async () => {
    auth.denyNextAuthorization();
    const { location } = await authorize();

    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('code')).toBeNull();
    expect(location.searchParams.get('state')).toBe('state-xyz');
  });

  it('should rotate the refresh token and answer refresh_token_reused for the old one', async () => {
    const first = auth.issueTokens();
    const second = await refresh(auth, first.refresh_token);
    const reuse = await postRefresh(auth, first.refresh_token);

    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.access_token).not.toBe(first.access_token);
    expect(reuse.status).toBe(401);
    expect(await reuse.json()).toMatchObject({ error: { code: 'refresh_token_reused' } });
    expect(auth.requests.at(-1)).toMatchObject({ encoding: 'json' });
    expect(auth.counts.refresh).toBe(2);
  });

  it.each([
    ['invalid_grant', 400, { error: 'invalid_grant' }],
    ['expired', 401, { error: { code: 'refresh_token_expired' } }],
    ['invalidated', 401, { error: { code: 'refresh_token_invalidated' } }],
  ] as const)('should refuse a refresh token as %s when told to', async (reason, status, body) => {
    const tokens = auth.issueTokens();
    auth.refuseRefreshToken(tokens.refresh_token, reason);
    const response = await postRefresh(auth, tokens.refresh_token);

    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject(body);
  });

  it('should refuse every refresh when told to with *', async () => {
    const tokens = auth.issueTokens();
    auth.refuseRefreshToken('*');

    expect((await postRefresh(auth, tokens.refresh_token)).status).toBe(400);
  });

  it('should fail the next token requests with the given status, then recover', async () => {
    const tokens = auth.issueTokens();
    auth.failTokenRequests(503, 1);

    expect((await postRefresh(auth, tokens.refresh_token)).status).toBe(503);
    expect((await postRefresh(auth, tokens.refresh_token)).status).toBe(200);
  });

  it('should issue short-lived access tokens when the TTL is lowered', async () => {
    auth.setAccessTokenTtl(0);
    const tokens = auth.issueTokens();
    auth.setAccessTokenTtl(DEFAULT_ACCESS_TOKEN_TTL_SECONDS);

    expect(tokens.expires_in).toBe(0);
    expect(auth.checkAccessToken(tokens.access_token)).toEqual({ valid: false, reason: 'expired' });
    expect(auth.checkAccessToken('never-issued')).toEqual({ valid: false, reason: 'unknown' });
  });
});

describe(formatOpenAIDuration.name, () => {
  it.each([
    [20, '20ms'],
    [999, '999ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
  ])('should format %i ms as %s', (ms, text) => {
    expect(formatOpenAIDuration(ms)).toBe(text);
  });
});
