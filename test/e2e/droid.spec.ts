import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { FakeReply, FakeRequestRecord } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The official SDKs through Switchyard to `droid` accounts on the fake upstream's Factory API
 * (`/api/llm`): Anthropic Messages, OpenAI Responses and Chat Completions each pass through to
 * Factory's endpoint of that format, with the headers Factory requires (checked by the fake).
 */

const KEY_A = 'fk-droid-e2e-main-0123456789';
const KEY_B = 'fk-droid-e2e-spare-0123456789';
const KEY_C = 'fk-droid-e2e-limited-0123456789';
const CLAUDE = 'claude-sonnet-4-6';
const GPT = 'gpt-5-codex';
const GLM = 'glm-4.6';
/** claude-sonnet-4-6: $3 input, $15 output per MTok: 1000 x 3 + 100 x 15 micro-dollars. */
const USAGE = { inputTokens: 1000, outputTokens: 100 };
const COST_MICROS = 4500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function reply(id: string, content: FakeReply['content']): FakeReply {
  return { id, createdAt: 1_767_225_600, idSeed: 5, content, usage: USAGE };
}
const TEXT = [{ type: 'text' as const, text: ['Hello ', 'from ', 'Factory 🏭'] }];
const TOOL_REPLY = [
  { type: 'text' as const, text: 'Let me check.' },
  { type: 'tool_use' as const, id: 'call_d1', name: 'get_weather', input: { city: 'Paris' } },
];

describe('droid accounts (end to end)', () => {
  let h: RelayHarness;
  const accounts: Record<string, string> = {};
  let main: { id: string; secret: string };

  async function droidAccount(name: string, apiKey: string, priority?: number): Promise<string> {
    const { id } = await h.createAccount({
      type: 'droid',
      name,
      baseUrl: `${h.upstream.url}/api/llm`,
      credentials: { apiKey },
      ...(priority === undefined ? {} : { priority }),
    });
    accounts[name] = id;
    return id;
  }

  function anthropic(secret = main.secret): Anthropic {
    return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0, timeout: 20_000 });
  }
  function openai(secret = main.secret): OpenAI {
    return new OpenAI({
      apiKey: secret,
      baseURL: `${h.url}/openai/v1`,
      maxRetries: 0,
      timeout: 20_000,
    });
  }

  function calls(): FakeRequestRecord[] {
    return h.upstream.requests.filter((r) => r.path.startsWith('/api/llm/'));
  }

  async function rows(keyId = main.id): Promise<any[]> {
    await h.flushUsage();
    const res = await h.admin<{ items: any[] }>(
      'GET',
      `/admin/api/usage/requests?pageSize=50&keyId=${keyId}`,
    );
    return res.body.items;
  }

  /** The same body sent straight to the fake's own route of the format. */
  async function direct(path: string, body: unknown, headers: Record<string, string>) {
    const res = await fetch(`${h.upstream.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(200);
    return res.text();
  }

  beforeAll(async () => {
    h = await startRelayHarness();
    // The seeded routes send claude-* and gpt-* to their makers' platforms; this relay serves
    // them (and GLM) from Factory.
    const listed = await h.admin<{ items: { id: string; pattern: string }[] }>(
      'GET',
      '/admin/api/model-routes',
    );
    for (const pattern of ['claude-*', 'gpt-*']) {
      const seeded = listed.body.items.find((r) => r.pattern === pattern)!;
      const res = await h.admin('PATCH', `/admin/api/model-routes/${seeded.id}`, {
        platform: 'droid',
      });
      expect(res.status).toBe(200);
    }
    const glm = await h.admin('POST', '/admin/api/model-routes', {
      pattern: 'glm-*',
      platform: 'droid',
    });
    expect(glm.status).toBe(201);
    await droidAccount('droid-main', KEY_A);
    main = await h.createKey({
      name: 'droid main',
      bindings: { droid: { accountId: accounts['droid-main'] } },
    });
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
    h.upstream.droid.allow(KEY_A, KEY_B, KEY_C);
  });

  describe('Anthropic Messages (@anthropic-ai/sdk)', () => {
    it('should pass a non-stream request through with Factory’s headers, and record usage and cost', async () => {
      h.upstream.setDefault({ reply: reply('msg_droid_1', TEXT) });
      const params = {
        model: CLAUDE,
        max_tokens: 64,
        messages: [{ role: 'user' as const, content: 'hi' }],
        metadata: { user_id: 'user-42' },
      };
      const response = await anthropic().messages.create(params).asResponse();
      const relayed = await response.text();
      expect(JSON.parse(relayed)).toMatchObject({
        id: 'msg_droid_1',
        content: [{ type: 'text', text: 'Hello from Factory 🏭' }],
        usage: { input_tokens: 1000, output_tokens: 100 },
      });
      expect(relayed).toBe(await direct('/v1/messages', params, { 'x-api-key': 'direct' }));

      const [call] = calls();
      expect(call.path).toBe('/api/llm/a/v1/messages');
      expect(call.headers).toMatchObject({
        authorization: `Bearer ${KEY_A}`,
        'x-api-key': 'placeholder',
        'x-api-provider': 'anthropic',
        'x-factory-client': 'cli',
      });
      // The client's own API version is forwarded (Switchyard fills one in only when none is sent).
      expect(call.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(call.headers['user-agent']).toMatch(/^factory-cli\/\d/);
      expect(call.headers['x-session-id']).toMatch(UUID);
      expect(JSON.stringify(call.headers)).not.toContain(main.secret);
      // The client's bytes went as they were: metadata kept, no system prompt added.
      expect(call.json).toEqual(params);

      const [row] = await rows();
      expect(row).toMatchObject({
        accountId: accounts['droid-main'],
        platform: 'droid',
        model: CLAUDE,
        status: 200,
        outcome: 'ok',
        stream: false,
        inputTokens: 1000,
        outputTokens: 100,
        costMicros: COST_MICROS,
      });
    });

    it('should stream byte for byte and keep one session id per conversation', async () => {
      h.upstream.setDefault({ reply: reply('msg_droid_2', TEXT) });
      const params = {
        model: CLAUDE,
        max_tokens: 64,
        stream: true as const,
        messages: [{ role: 'user' as const, content: 'hi' }],
      };
      const client = anthropic();
      const sessionHeaders = { headers: { 'x-claude-code-session-id': 'conversation-7' } };
      const relayed = await (
        await client.messages.create(params, sessionHeaders).asResponse()
      ).text();
      expect(relayed).toBe(await direct('/v1/messages', params, { 'x-api-key': 'direct' }));
      const stream = client.messages.stream(params, sessionHeaders);
      const final = await stream.finalMessage();
      expect(final.content).toEqual([{ type: 'text', text: 'Hello from Factory 🏭' }]);
      const [first, second] = calls();
      expect(first.headers['x-session-id']).toMatch(UUID);
      expect(second.headers['x-session-id']).toBe(first.headers['x-session-id']);
      const logged = await rows();
      expect(logged.filter((r) => r.stream === true && r.outputTokens === 100)).toHaveLength(2);
    });
  });

  describe('OpenAI Responses (openai SDK)', () => {
    it('should pass responses.create through, stream and not, naming azure_openai', async () => {
      h.upstream.setDefault({ reply: reply('resp_droid_1', TEXT) });
      const params = { model: GPT, input: 'hi' };
      const relayed = await (await openai().responses.create(params).asResponse()).text();
      expect(JSON.parse(relayed)).toMatchObject({ id: 'resp_droid_1', status: 'completed' });
      expect(relayed).toBe(await direct('/v1/responses', params, { authorization: 'Bearer d' }));

      const stream = await openai().responses.create({ ...params, stream: true });
      let text = '';
      let completed = false;
      for await (const event of stream) {
        if (event.type === 'response.output_text.delta') text += event.delta;
        if (event.type === 'response.completed') completed = true;
      }
      expect(text).toBe('Hello from Factory 🏭');
      expect(completed).toBe(true);

      const [plain, streamed] = calls();
      expect(plain.path).toBe('/api/llm/o/v1/responses');
      expect(plain.headers['x-api-provider']).toBe('azure_openai');
      expect(plain.headers['x-api-key']).toBeUndefined();
      expect(streamed.headers.authorization).toBe(`Bearer ${KEY_A}`);
      const logged = await rows();
      expect(logged.slice(0, 2).map((r) => [r.stream, r.inputTokens, r.outputTokens])).toEqual([
        [true, 1000, 100],
        [false, 1000, 100],
      ]);
    });
  });

  describe('OpenAI Chat Completions (openai SDK)', () => {
    it('should carry a tool round trip, stream and not, with the model’s host named', async () => {
      const tools = [
        {
          type: 'function' as const,
          function: {
            name: 'get_weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ];
      h.upstream.enqueue({ reply: reply('chatcmpl-d1', TOOL_REPLY) });
      const first = await openai().chat.completions.create({
        model: GLM,
        tools,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      });
      const call = first.choices[0].message.tool_calls?.[0];
      expect(first.choices[0].finish_reason).toBe('tool_calls');
      expect(call).toMatchObject({ id: 'call_d1', function: { name: 'get_weather' } });

      h.upstream.enqueue({ reply: reply('chatcmpl-d2', [{ type: 'text', text: 'Sunny.' }]) });
      const stream = await openai().chat.completions.create({
        model: GLM,
        tools,
        stream: true,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          first.choices[0].message,
          { role: 'tool', tool_call_id: 'call_d1', content: '{"temp":21}' },
        ],
      });
      let text = '';
      let usageChunks = 0;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage != null) usageChunks += 1;
      }
      expect(text).toBe('Sunny.');
      // Switchyard asked for the usage; the client, which did not, gets no usage chunk.
      expect(usageChunks).toBe(0);

      const [plain, streamed] = calls();
      expect(plain.path).toBe('/api/llm/o/v1/chat/completions');
      expect(plain.headers['x-api-provider']).toBe('fireworks');
      expect((streamed.json as any).messages[2]).toEqual({
        role: 'tool',
        tool_call_id: 'call_d1',
        content: '{"temp":21}',
      });
      expect((streamed.json as any).stream_options).toEqual({ include_usage: true });
      const logged = await rows();
      expect(logged[0]).toMatchObject({ stream: true, inputTokens: 1000, outputTokens: 100 });
    });
  });

  describe('the provider,model override', () => {
    it('should send "droid,<model>" to a droid account from a key with no binding', async () => {
      const key = await h.createKey({ name: 'droid override' });
      h.upstream.setDefault({ reply: reply('resp_droid_o', TEXT) });
      const response = await openai(key.secret).responses.create({
        model: 'droid,gpt-5.1-codex-max',
        input: 'hi',
      });
      expect(response.id).toBe('resp_droid_o');
      const [call] = calls();
      expect(call.path).toBe('/api/llm/o/v1/responses');
      expect((call.json as any).model).toBe('gpt-5.1-codex-max');
      expect(call.headers['x-api-provider']).toBe('openai');
    });
  });

  describe('failures', () => {
    it('should fail over to a second droid account on 429, and rate-limit the first', async () => {
      const first = await droidAccount('droid-limited', KEY_C, 1);
      const second = await droidAccount('droid-spare', KEY_B, 2);
      const group = await h.admin<{ id: string }>('POST', '/admin/api/account-groups', {
        name: 'droid-pair',
        platform: 'droid',
        accountIds: [first, second],
      });
      expect(group.status).toBe(201);
      const key = await h.createKey({
        name: 'droid pair',
        bindings: { droid: { groupId: group.body.id } },
      });
      h.upstream.forCredential(KEY_C, { status: 429, retryAfterSeconds: 120 });
      h.upstream.setDefault({ reply: reply('msg_droid_3', TEXT) });

      const message = await anthropic(key.secret).messages.create({
        model: CLAUDE,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'hi' }],
      });
      expect(message.content).toEqual([{ type: 'text', text: 'Hello from Factory 🏭' }]);
      expect(calls().map((r) => r.credential)).toEqual([KEY_C, KEY_B]);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${first}`);
      expect(
        (detail.body.healthStates as any[]).find((s) => s.state === 'rate_limited'),
      ).toBeDefined();
      const [row] = await rows(key.id);
      expect(row).toMatchObject({ accountId: second, outcome: 'ok', attempts: 2 });
    });

    it('should rest an account whose credits ran out (402) for an hour rather than fail its auth', async () => {
      h.upstream.forCredential(KEY_B, { status: 402, errorMessage: 'Insufficient credits' });
      const key = await h.createKey({
        name: 'droid credits',
        bindings: { droid: { accountId: accounts['droid-spare'] } },
      });
      const failure = await anthropic(key.secret)
        .messages.create({
          model: CLAUDE,
          max_tokens: 8,
          messages: [{ role: 'user', content: 'hi' }],
        })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Anthropic.APIError);
      expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(429);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${accounts['droid-spare']}`);
      expect(detail.body.status).not.toBe('auth_failed');
      const limited = (detail.body.healthStates as any[]).find((s) => s.state === 'rate_limited');
      expect(Date.parse(limited.until)).toBeGreaterThan(Date.now() + 50 * 60 * 1000);
    });

    it('should mark an account whose key Factory refuses auth failed (401)', async () => {
      const wrong = await droidAccount('droid-wrong', 'fk-not-a-known-key-000000');
      const key = await h.createKey({
        name: 'droid wrong',
        bindings: { droid: { accountId: wrong } },
      });
      const failure = await openai(key.secret)
        .chat.completions.create({ model: GLM, messages: [{ role: 'user', content: 'hi' }] })
        .catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(OpenAI.APIError);
      expect(calls()).toHaveLength(1);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${wrong}`);
      expect(detail.body.status).toBe('auth_failed');
      expect(JSON.stringify(detail.body)).not.toContain('fk-not-a-known-key');
      expect(JSON.stringify(failure)).not.toContain('fk-not-a-known-key');
    });
  });
});
