import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import type { FakeReply, FakeRequestRecord } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * Anthropic SDK clients (as Claude Code is) and OpenAI SDK clients through Switchyard to
 * `openai-compatible` accounts on the fake upstream's generic OpenAI-compatible server
 * (`/compat/{profile}/v1`). Anthropic requests are converted to Chat Completions and back, fitted
 * to each account's quirks; OpenAI Chat Completions requests pass through.
 */

/** The model the Anthropic clients ask for, routed to the openai platform. */
const MODEL = 'compat-chat';
const KEY = 'sk-compat-e2e-key-0123456789';
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const USAGE = { inputTokens: 300, cacheReadTokens: 100, outputTokens: 40, reasoningTokens: 10 };

function reply(content: FakeReply['content']): FakeReply {
  return { id: 'chatcmpl-compat', createdAt: 1_767_225_600, idSeed: 3, content, usage: USAGE };
}

const TEXT = [{ type: 'text' as const, text: ['Bonjour ', 'de ', 'Zürich 🌍'] }];

describe('openai-compatible accounts (end to end)', () => {
  let h: RelayHarness;
  /** Keys bound to one account each, by account name. */
  const keys = new Map<string, { id: string; secret: string; accountId: string }>();

  async function addAccount(
    name: string,
    profile: string,
    credentials: Record<string, unknown>,
  ): Promise<void> {
    const account = await h.createAccount({
      name,
      type: 'openai-compatible',
      baseUrl: `${h.upstream.url}/compat/${profile}/v1`,
      credentials,
    });
    const key = await h.createKey({
      name: `key ${name}`,
      bindings: { openai: { accountId: account.id } },
    });
    keys.set(name, { ...key, accountId: account.id });
  }

  function anthropic(name: string): Anthropic {
    return new Anthropic({
      apiKey: keys.get(name)!.secret,
      baseURL: h.url,
      maxRetries: 0,
      timeout: 20_000,
    });
  }

  function generations(): FakeRequestRecord[] {
    return h.upstream.requests.filter((r) => r.method === 'POST');
  }

  async function rows(name: string): Promise<any[]> {
    await h.flushUsage();
    const res = await h.admin<{ items: any[] }>(
      'GET',
      `/admin/api/usage/requests?pageSize=50&keyId=${keys.get(name)!.id}`,
    );
    expect(res.status).toBe(200);
    return res.body.items;
  }

  beforeAll(async () => {
    h = await startRelayHarness();
    const route = await h.admin('POST', '/admin/api/model-routes', {
      pattern: 'compat-*',
      platform: 'openai',
    });
    expect(route.status).toBe(201);
    await addAccount('deepseek', 'deepseek', {
      apiKey: KEY,
      extraHeaders: { 'X-Title': 'Switchyard e2e' },
      extraBody: { provider_hint: 'fast' },
      quirks: { maxOutputTokens: 1000, reasoning: 'thinking' },
    });
    await addAccount('limited', 'limited', {
      quirks: { streamOptions: false, images: false, reasoning: 'none' },
    });
    await addAccount('wrong-key', 'deepseek', { apiKey: 'sk-not-the-right-one-0000' });
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
    h.upstream.compatProfile('deepseek', { key: KEY });
    h.upstream.compatProfile('limited', {
      refuseStreamOptions: true,
      refuseImages: true,
      usageOnFinishChunk: true,
    });
  });

  describe('Anthropic messages.create', () => {
    it('should convert the request, answer the fake’s text and record the usage', async () => {
      h.upstream.setDefault({ reply: reply(TEXT) });
      const message = await anthropic('deepseek').messages.create({
        model: MODEL,
        max_tokens: 64_000,
        system: 'Answer in French.',
        messages: [{ role: 'user', content: 'Hello' }],
        stop_sequences: ['STOP'],
        metadata: { user_id: 'user-42' },
      });
      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: 'Bonjour de Zürich 🌍' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 300, cache_read_input_tokens: 100, output_tokens: 40 },
      });

      const [record] = generations();
      expect(record.path).toBe('/compat/deepseek/v1/chat/completions');
      expect(record.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(record.headers['x-title']).toBe('Switchyard e2e');
      expect(JSON.stringify(record.headers)).not.toContain(keys.get('deepseek')!.secret);
      expect(record.json).toEqual({
        model: MODEL,
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hello' },
        ],
        // 64,000 asked, lowered to the account's maxOutputTokens.
        max_tokens: 1000,
        stop: ['STOP'],
        user: 'user-42',
        provider_hint: 'fast',
      });

      const [row] = await rows('deepseek');
      expect(row).toMatchObject({
        accountId: keys.get('deepseek')!.accountId,
        platform: 'openai',
        model: MODEL,
        status: 200,
        outcome: 'ok',
        stream: false,
        inputTokens: 300,
        cacheReadTokens: 100,
        outputTokens: 40,
      });
    });

    it('should carry a tool_use round trip', async () => {
      h.upstream.enqueue({
        reply: reply([
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } },
        ]),
      });
      const client = anthropic('deepseek');
      const tools = [
        {
          name: 'get_weather',
          description: 'Weather of a city',
          input_schema: {
            type: 'object' as const,
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      ];
      const first = await client.messages.create({
        model: MODEL,
        max_tokens: 500,
        tools,
        messages: [{ role: 'user', content: 'Weather in Paris?' }],
      });
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([
        { type: 'text', text: 'Let me check.' },
        { type: 'tool_use', id: 'call_w1', name: 'get_weather', input: { city: 'Paris' } },
      ]);
      expect((generations()[0].json as any).tools).toEqual([
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather of a city',
            parameters: tools[0].input_schema,
          },
        },
      ]);

      h.upstream.enqueue({ reply: reply([{ type: 'text', text: 'Sunny, 21°C.' }]) });
      const second = await client.messages.create({
        model: MODEL,
        max_tokens: 500,
        tools,
        messages: [
          { role: 'user', content: 'Weather in Paris?' },
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'call_w1', content: '21°C, sunny' }],
          },
        ],
      });
      expect(second.content).toEqual([{ type: 'text', text: 'Sunny, 21°C.' }]);
      expect((generations()[1].json as any).messages.slice(1)).toEqual([
        {
          role: 'assistant',
          content: 'Let me check.',
          tool_calls: [
            {
              id: 'call_w1',
              type: 'function',
              function: { name: 'get_weather', arguments: '{"city":"Paris"}' },
            },
          ],
        },
        { role: 'tool', tool_call_id: 'call_w1', content: '21°C, sunny' },
      ]);
    });

    it('should send an image as a data URL, and refuse it for a server that reads none', async () => {
      h.upstream.setDefault({ reply: reply(TEXT) });
      const content = [
        {
          type: 'image' as const,
          source: { type: 'base64' as const, media_type: 'image/png' as const, data: PNG },
        },
        { type: 'text' as const, text: 'What is this?' },
      ];
      await anthropic('deepseek').messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: [{ role: 'user', content }],
      });
      expect((generations()[0].json as any).messages[0].content[0]).toEqual({
        type: 'image_url',
        image_url: { url: `data:image/png;base64,${PNG}` },
      });

      const refused = anthropic('limited').messages.create({
        model: MODEL,
        max_tokens: 100,
        messages: [{ role: 'user', content }],
      });
      await expect(refused).rejects.toMatchObject({
        status: 400,
        error: { type: 'error', error: { type: 'invalid_request_error' } },
      });
      await expect(refused).rejects.toThrow("this model's server does not read images");
      expect(generations()).toHaveLength(1);
    });
  });

  describe('Anthropic messages.stream', () => {
    it('should turn reasoning_content into a thinking block and bill the stream', async () => {
      h.upstream.setDefault({
        reply: reply([{ type: 'thinking', thinking: ['The user ', 'greets me.'] }, ...TEXT]),
      });
      const stream = anthropic('deepseek').messages.stream({
        model: MODEL,
        max_tokens: 2000,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'Hello' }],
      });
      const message = await stream.finalMessage();
      expect(message.content).toEqual([
        {
          type: 'thinking',
          thinking: 'The user greets me.',
          signature: 'switchyard.openai-compatible.reasoning.v1',
        },
        { type: 'text', text: 'Bonjour de Zürich 🌍' },
      ]);
      expect(message.stop_reason).toBe('end_turn');
      expect(message.usage).toMatchObject({ output_tokens: 40 });

      const sent = generations()[0].json as any;
      // The account's reasoning style, and the stream's usage asked for.
      expect(sent.thinking).toEqual({ type: 'enabled', budget_tokens: 1024 });
      expect(sent.stream).toBe(true);
      expect(sent.stream_options).toEqual({ include_usage: true });

      // The thinking block given back in the next turn is not sent upstream.
      await anthropic('deepseek').messages.create({
        model: MODEL,
        max_tokens: 800,
        messages: [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: message.content },
          { role: 'user', content: 'And?' },
        ],
      });
      expect((generations()[1].json as any).messages).toEqual([
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Bonjour de Zürich 🌍' },
        { role: 'user', content: 'And?' },
      ]);

      const [, streamed] = await rows('deepseek');
      expect(streamed).toMatchObject({
        stream: true,
        outcome: 'ok',
        inputTokens: 300,
        outputTokens: 40,
      });
    });

    it('should stream from a server without stream_options and read the usage it sends anyway', async () => {
      h.upstream.setDefault({
        reply: reply([{ type: 'tool_use', id: 'call_s', name: 'list', input: { dir: '/tmp' } }]),
      });
      const stream = anthropic('limited').messages.stream({
        model: MODEL,
        max_tokens: 300,
        tools: [{ name: 'list', input_schema: { type: 'object', properties: {} } }],
        messages: [{ role: 'user', content: 'ls' }],
      });
      const message = await stream.finalMessage();
      expect(message.content).toEqual([
        { type: 'tool_use', id: 'call_s', name: 'list', input: { dir: '/tmp' } },
      ]);
      expect(message.stop_reason).toBe('tool_use');
      const sent = generations()[0].json as any;
      expect(sent.stream_options).toBeUndefined();
      expect(generations()[0].headers.authorization).toBeUndefined();
      const [row] = await rows('limited');
      expect(row).toMatchObject({
        stream: true,
        outcome: 'ok',
        inputTokens: 300,
        outputTokens: 40,
      });
    });
  });

  describe('health', () => {
    it('should mark an account whose key the server refuses as auth failed', async () => {
      const refused = anthropic('wrong-key').messages.create({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'hi' }],
      });
      await expect(refused).rejects.toMatchObject({ status: 503 });
      const account = await h.admin<any>(
        'GET',
        `/admin/api/accounts/${keys.get('wrong-key')!.accountId}`,
      );
      expect(account.body.status).toBe('auth_failed');
    });
  });

  describe('OpenAI chat.completions', () => {
    it('should pass a non-stream completion through byte for byte', async () => {
      h.upstream.setDefault({ reply: reply(TEXT) });
      const openai = new OpenAI({
        apiKey: keys.get('deepseek')!.secret,
        baseURL: `${h.url}/openai/v1`,
        maxRetries: 0,
      });
      const params = { model: MODEL, messages: [{ role: 'user' as const, content: 'Hello' }] };
      const res = await openai.chat.completions.create(params).asResponse();
      const relayed = await res.text();
      // Only the account's extra body field is added on the way.
      expect(generations()[0].json).toEqual({ ...params, provider_hint: 'fast' });
      const direct = await fetch(`${h.upstream.url}/compat/deepseek/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify(params),
      });
      expect(relayed).toBe(await direct.text());
    });
  });
});
