import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fakeInputTokensFor, type FakeScenario } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

const MODEL = 'gemini-2.5-flash';
const ACCOUNT_KEY = 'AIzaFakeGeminiConversionKey-0001';

/**
 * gemini-2.5-flash: $0.30 input, $0.03 cached, $2.50 output (thoughts included) per MTok:
 * 1000 x 0.30 + 400 x 0.03 + (60 + 40) x 2.50 = 300 + 12 + 250 micro-dollars.
 */
const USAGE = { inputTokens: 1000, cacheReadTokens: 400, outputTokens: 60, reasoningTokens: 40 };
const BILLED_COST_MICROS = 562;

/** A 1x1 transparent PNG. */
const PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';

const WEATHER_SCHEMA = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

function openAIClient(h: RelayHarness, secret: string): OpenAI {
  return new OpenAI({
    apiKey: secret,
    baseURL: `${h.url}/openai/v1`,
    maxRetries: 0,
    timeout: 20_000,
  });
}

function anthropicClient(h: RelayHarness, secret: string): Anthropic {
  return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0, timeout: 20_000 });
}

async function requestLog(h: RelayHarness): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
  return res.body.items;
}

/** The Gemini requests the fake upstream received, in order. */
function upstreamCalls(h: RelayHarness) {
  return h.upstream.requests.filter((r) => r.surface === 'gemini' && r.method === 'POST');
}

describe('OpenAI and Anthropic clients on a gemini-api account (end to end, official SDKs)', () => {
  let h: RelayHarness;
  let secret: string;
  let accountId: string;
  let openai: OpenAI;
  let anthropic: Anthropic;

  beforeAll(async () => {
    h = await startRelayHarness();
    accountId = (
      await h.createAccount({
        type: 'gemini-api',
        name: 'gemini-only',
        credentials: { apiKey: ACCOUNT_KEY },
      })
    ).id;
    secret = (await h.createKey({ name: 'gemini-conversions' })).secret;
    openai = openAIClient(h, secret);
    anthropic = anthropicClient(h, secret);
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  /** The upstream request: the model's method in the path, the account's key, no Switchyard key. */
  function expectUpstreamCall(index: number, method: string, search: string): any {
    const call = upstreamCalls(h)[index];
    expect(call.path).toBe(`/v1beta/models/${MODEL}:${method}`);
    expect(call.search).toBe(search);
    expect(call.headers['x-goog-api-key']).toBe(ACCOUNT_KEY);
    expect(call.headers.authorization).toBeUndefined();
    expect(call.headers['x-api-key']).toBeUndefined();
    expect(JSON.stringify(call.headers)).not.toContain(secret);
    expect(call.search).not.toContain(secret);
    return call.json;
  }

  async function expectBilled(stream: boolean): Promise<void> {
    const [row] = await requestLog(h);
    expect(row).toMatchObject({
      model: MODEL,
      accountId,
      outcome: 'ok',
      stream,
      inputTokens: 1000,
      cacheReadTokens: 400,
      outputTokens: 100,
      costMicros: BILLED_COST_MICROS,
    });
  }

  describe('openai SDK, /openai/v1/chat/completions', () => {
    it('should answer a non-stream completion and record the usage and cost Gemini reported', async () => {
      h.upstream.setDefault({
        reply: {
          content: [
            { type: 'thinking', thinking: 'The user greets me.' },
            { type: 'text', text: 'Bonjour, monde.' },
          ],
          usage: USAGE,
        },
      });
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: 'Answer in French.' },
          { role: 'user', content: 'Hello world' },
        ],
        max_completion_tokens: 300,
        temperature: 0.2,
      });
      expect(completion).toMatchObject({ object: 'chat.completion', model: MODEL });
      expect(completion.choices[0].message).toMatchObject({
        role: 'assistant',
        content: 'Bonjour, monde.',
        reasoning_content: 'The user greets me.',
      });
      expect(completion.choices[0].finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: 1400,
        completion_tokens: 100,
        total_tokens: 1500,
        prompt_tokens_details: { cached_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 40 },
      });

      expect(expectUpstreamCall(0, 'generateContent', '')).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hello world' }] }],
        systemInstruction: { parts: [{ text: 'Answer in French.' }] },
        generationConfig: { maxOutputTokens: 300, temperature: 0.2 },
      });
      await expectBilled(false);
    });

    it('should stream a completion with include_usage and record the totals of the last chunk', async () => {
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: ['Grüße ', 'aus ', 'Zürich 🌍'] }], usage: USAGE },
      });
      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
        stream_options: { include_usage: true },
      });
      let text = '';
      const finishes: string[] = [];
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        expect(chunk.object).toBe('chat.completion.chunk');
        expect(chunk.model).toBe(MODEL);
        for (const choice of chunk.choices) {
          text += choice.delta.content ?? '';
          if (choice.finish_reason !== null) finishes.push(choice.finish_reason);
        }
        if (chunk.usage) usage = chunk.usage;
      }
      expect(text).toBe('Grüße aus Zürich 🌍');
      expect(finishes).toEqual(['stop']);
      expect(usage).toMatchObject({
        prompt_tokens: 1400,
        completion_tokens: 100,
        prompt_tokens_details: { cached_tokens: 400 },
        completion_tokens_details: { reasoning_tokens: 40 },
      });
      expectUpstreamCall(0, 'streamGenerateContent', '?alt=sse');
      await expectBilled(true);
    });

    it.each([false, true])(
      'should carry a tool call and its result through a round trip (first answer streamed: %s), thought signature included',
      async (streamed) => {
        h.upstream.enqueue(
          {
            reply: {
              content: [
                {
                  type: 'tool_use',
                  name: 'get_weather',
                  input: { city: 'Zürich' },
                  signature: 'c2lnLWNhbGwtMQ==',
                },
              ],
            },
          },
          { reply: { content: [{ type: 'text', text: 'It is sunny in Zürich.' }] } },
        );
        const tools: OpenAI.ChatCompletionTool[] = [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'The weather in a city',
              parameters: WEATHER_SCHEMA,
            },
          },
        ];
        const messages: OpenAI.ChatCompletionMessageParam[] = [
          { role: 'user', content: 'Weather in Zürich?' },
        ];

        let assistant: any;
        if (streamed) {
          const stream = await openai.chat.completions.create({
            model: MODEL,
            messages,
            tools,
            stream: true,
          });
          const calls: any[] = [];
          let finish: string | null = null;
          for await (const chunk of stream) {
            const choice = chunk.choices[0];
            if (choice === undefined) continue;
            for (const delta of (choice.delta.tool_calls ?? []) as any[]) {
              const call = (calls[delta.index] ??= {
                type: 'function',
                function: { name: '', arguments: '' },
              });
              if (delta.id) call.id = delta.id;
              if (delta.extra_content) call.extra_content = delta.extra_content;
              call.function.name += delta.function?.name ?? '';
              call.function.arguments += delta.function?.arguments ?? '';
            }
            finish = choice.finish_reason ?? finish;
          }
          expect(finish).toBe('tool_calls');
          assistant = { role: 'assistant', content: null, tool_calls: calls };
        } else {
          const first = await openai.chat.completions.create({ model: MODEL, messages, tools });
          expect(first.choices[0].finish_reason).toBe('tool_calls');
          assistant = first.choices[0].message;
        }
        const [call] = assistant.tool_calls;
        expect(call.function.name).toBe('get_weather');
        expect(JSON.parse(call.function.arguments)).toEqual({ city: 'Zürich' });
        expect(call.extra_content).toEqual({
          google: { thought_signature: 'c2lnLWNhbGwtMQ==' },
        });

        messages.push(assistant, {
          role: 'tool',
          tool_call_id: call.id,
          content: '{"forecast":"sunny","celsius":21}',
        });
        const second = await openai.chat.completions.create({ model: MODEL, messages, tools });
        expect(second.choices[0].message.content).toBe('It is sunny in Zürich.');
        expect(second.choices[0].finish_reason).toBe('stop');

        const firstBody = expectUpstreamCall(
          0,
          streamed ? 'streamGenerateContent' : 'generateContent',
          streamed ? '?alt=sse' : '',
        );
        expect(firstBody.tools).toEqual([
          {
            functionDeclarations: [
              {
                name: 'get_weather',
                description: 'The weather in a city',
                parametersJsonSchema: WEATHER_SCHEMA,
              },
            ],
          },
        ]);
        expect(expectUpstreamCall(1, 'generateContent', '').contents).toEqual([
          { role: 'user', parts: [{ text: 'Weather in Zürich?' }] },
          {
            role: 'model',
            parts: [
              {
                functionCall: { name: 'get_weather', args: { city: 'Zürich' } },
                thoughtSignature: 'c2lnLWNhbGwtMQ==',
              },
            ],
          },
          {
            role: 'user',
            parts: [
              {
                functionResponse: {
                  name: 'get_weather',
                  response: { forecast: 'sunny', celsius: 21 },
                },
              },
            ],
          },
        ]);
      },
    );

    it('should list the Gemini models and serve them under /v1/chat/completions too', async () => {
      const ids: string[] = [];
      for await (const model of openai.models.list()) ids.push(model.id);
      expect(ids).toEqual(expect.arrayContaining([MODEL, 'gemini-2.5-pro']));

      const bare = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
      const completion = await bare.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(completion.choices[0].message.content).toContain('fake upstream');
      expectUpstreamCall(0, 'generateContent', '');
    });

    it('should send an image data URL as inlineData', async () => {
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: 'A transparent pixel.' }] },
      });
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
            ],
          },
        ],
      });
      expect(completion.choices[0].message.content).toBe('A transparent pixel.');
      expect(expectUpstreamCall(0, 'generateContent', '').contents).toEqual([
        {
          role: 'user',
          parts: [
            { text: 'What is this?' },
            { inlineData: { mimeType: 'image/png', data: PNG_BASE64 } },
          ],
        },
      ]);
    });

    it('should ask for JSON with the schema of a json_schema response_format', async () => {
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: ['{"city":', '"Zürich"}'] }] },
      });
      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Name a Swiss city.' }],
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'city', strict: true, schema: WEATHER_SCHEMA },
        },
      });
      expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({ city: 'Zürich' });
      expect(expectUpstreamCall(0, 'generateContent', '').generationConfig).toEqual({
        responseMimeType: 'application/json',
        responseJsonSchema: WEATHER_SCHEMA,
      });
    });
  });

  describe('@anthropic-ai/sdk, /v1/messages', () => {
    it('should answer messages.create and record the usage and cost Gemini reported', async () => {
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: 'Bonjour, monde.' }], usage: USAGE },
      });
      const message = await anthropic.messages.create({
        model: MODEL,
        max_tokens: 300,
        system: 'Answer in French.',
        messages: [{ role: 'user', content: 'Hello world' }],
        stop_sequences: ['END'],
        // Automatic prompt caching: Gemini caches implicitly, so there is nothing to ask for.
        cache_control: { type: 'ephemeral' },
      });
      expect(message).toMatchObject({
        type: 'message',
        role: 'assistant',
        model: MODEL,
        content: [{ type: 'text', text: 'Bonjour, monde.' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1000, cache_read_input_tokens: 400, output_tokens: 100 },
      });
      expect(expectUpstreamCall(0, 'generateContent', '')).toEqual({
        contents: [{ role: 'user', parts: [{ text: 'Hello world' }] }],
        systemInstruction: { parts: [{ text: 'Answer in French.' }] },
        generationConfig: { maxOutputTokens: 300, stopSequences: ['END'] },
      });
      await expectBilled(false);
    });

    it('should stream with messages.stream and record the totals of the last chunk', async () => {
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: ['Grüße ', 'aus ', 'Zürich 🌍'] }], usage: USAGE },
      });
      const stream = anthropic.messages.stream({
        model: MODEL,
        max_tokens: 300,
        messages: [{ role: 'user', content: 'Hi' }],
      });
      const deltas: string[] = [];
      stream.on('text', (delta) => deltas.push(delta));
      const message = await stream.finalMessage();
      expect(deltas.join('')).toBe('Grüße aus Zürich 🌍');
      expect(message).toMatchObject({
        model: MODEL,
        content: [{ type: 'text', text: 'Grüße aus Zürich 🌍' }],
        stop_reason: 'end_turn',
        usage: { input_tokens: 1000, cache_read_input_tokens: 400, output_tokens: 100 },
      });
      expectUpstreamCall(0, 'streamGenerateContent', '?alt=sse');
      await expectBilled(true);
    });

    it.each([false, true])(
      'should carry a tool_use and its tool_result through a round trip (first answer streamed: %s)',
      async (streamed) => {
        h.upstream.enqueue(
          {
            reply: {
              content: [
                { type: 'text', text: 'Let me look.' },
                {
                  type: 'tool_use',
                  name: 'get_weather',
                  input: { city: 'Zürich' },
                  signature: 'c2lnLWNhbGwtYQ==',
                },
              ],
            },
          },
          { reply: { content: [{ type: 'text', text: 'It is sunny in Zürich.' }] } },
        );
        const tools: Anthropic.Tool[] = [
          {
            name: 'get_weather',
            description: 'The weather in a city',
            input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema,
          },
        ];
        const messages: Anthropic.MessageParam[] = [
          { role: 'user', content: 'Weather in Zürich?' },
        ];
        const request = { model: MODEL, max_tokens: 1024, messages, tools };
        const first = streamed
          ? await anthropic.messages.stream(request).finalMessage()
          : await anthropic.messages.create(request);
        expect(first.stop_reason).toBe('tool_use');
        expect(first.content).toEqual([
          { type: 'text', text: 'Let me look.' },
          // The function call's signature, in a block of its own right before it.
          { type: 'thinking', thinking: '', signature: 'c2lnLWNhbGwtYQ==' },
          {
            type: 'tool_use',
            id: expect.stringMatching(/^toolu_/),
            name: 'get_weather',
            input: { city: 'Zürich' },
          },
        ]);
        const toolUse = first.content[2] as Anthropic.ToolUseBlock;

        messages.push(
          { role: 'assistant', content: first.content },
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'sunny, 21 °C' }],
          },
        );
        const second = await anthropic.messages.create(request);
        expect(second.content).toEqual([{ type: 'text', text: 'It is sunny in Zürich.' }]);

        expect(expectUpstreamCall(1, 'generateContent', '').contents).toEqual([
          { role: 'user', parts: [{ text: 'Weather in Zürich?' }] },
          {
            role: 'model',
            parts: [
              { text: 'Let me look.' },
              {
                functionCall: { name: 'get_weather', args: { city: 'Zürich' } },
                thoughtSignature: 'c2lnLWNhbGwtYQ==',
              },
            ],
          },
          {
            role: 'user',
            parts: [
              {
                functionResponse: { name: 'get_weather', response: { content: 'sunny, 21 °C' } },
              },
            ],
          },
        ]);
      },
    );

    it('should stream thinking with its signature and give the signature back on the next turn', async () => {
      h.upstream.enqueue(
        {
          reply: {
            content: [
              {
                type: 'thinking',
                thinking: ['Six ', 'times ', 'seven.'],
                signature: 'c2lnLXRob3VnaHQtMQ==',
              },
              { type: 'text', text: '42' },
            ],
            usage: USAGE,
          },
        },
        { reply: { content: [{ type: 'text', text: 'Still 42.' }] } },
      );
      const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Six times seven?' }];
      const request = {
        model: MODEL,
        max_tokens: 4096,
        thinking: { type: 'enabled' as const, budget_tokens: 2048 },
        messages,
      };
      const stream = anthropic.messages.stream(request);
      const thinking: string[] = [];
      stream.on('thinking', (delta) => thinking.push(delta));
      const first = await stream.finalMessage();
      expect(thinking.join('')).toBe('Six times seven.');
      expect(first.content).toEqual([
        { type: 'thinking', thinking: 'Six times seven.', signature: 'c2lnLXRob3VnaHQtMQ==' },
        { type: 'text', text: '42' },
      ]);
      expect(first.usage).toMatchObject({ output_tokens: 100 });
      expect(expectUpstreamCall(0, 'streamGenerateContent', '?alt=sse').generationConfig).toEqual({
        maxOutputTokens: 4096,
        thinkingConfig: { thinkingBudget: 2048, includeThoughts: true },
      });

      messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: 'Sure?' },
      );
      const second = await anthropic.messages.create(request);
      expect(second.content).toEqual([{ type: 'text', text: 'Still 42.' }]);
      expect(expectUpstreamCall(1, 'generateContent', '').contents).toEqual([
        { role: 'user', parts: [{ text: 'Six times seven?' }] },
        {
          role: 'model',
          parts: [
            { text: 'Six times seven.', thought: true, thoughtSignature: 'c2lnLXRob3VnaHQtMQ==' },
            { text: '42' },
          ],
        },
        { role: 'user', parts: [{ text: 'Sure?' }] },
      ]);
    });

    it('should count tokens with Gemini countTokens, system prompt and tools included', async () => {
      const counted = await anthropic.messages.countTokens({
        model: MODEL,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'How many tokens?' }],
        tools: [
          {
            name: 'get_weather',
            input_schema: WEATHER_SCHEMA as Anthropic.Tool.InputSchema,
          },
        ],
      });
      const body = expectUpstreamCall(0, 'countTokens', '');
      expect(body).toEqual({
        generateContentRequest: {
          model: `models/${MODEL}`,
          contents: [{ role: 'user', parts: [{ text: 'How many tokens?' }] }],
          systemInstruction: { parts: [{ text: 'Be brief.' }] },
          tools: [
            {
              functionDeclarations: [{ name: 'get_weather', parametersJsonSchema: WEATHER_SCHEMA }],
            },
          ],
        },
      });
      expect(counted).toEqual({
        input_tokens: fakeInputTokensFor(upstreamCalls(h)[0].rawBody),
      });
    });
  });

  describe('a request shaped like Claude Code', () => {
    it('should serve count_tokens and a streamed turn with Claude Code headers, query and body', async () => {
      h.upstream.setDefault({
        reply: {
          content: [
            { type: 'thinking', thinking: 'List the files.', signature: 'c2lnLWNj' },
            { type: 'tool_use', name: 'Bash', input: { command: 'ls' } },
          ],
          usage: USAGE,
        },
      });
      const headers = {
        'content-type': 'application/json',
        'x-api-key': secret,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
        'user-agent': 'claude-cli/2.0.14 (external, cli)',
        'x-app': 'cli',
        'x-stainless-lang': 'js',
        'anthropic-dangerous-direct-browser-access': 'true',
      };
      const tools = [
        {
          name: 'Bash',
          description: 'Run a shell command',
          input_schema: {
            $schema: 'http://json-schema.org/draft-07/schema#',
            type: 'object',
            properties: { command: { type: 'string' } },
            required: ['command'],
            additionalProperties: false,
          },
        },
      ];
      const messages = [
        {
          role: 'user',
          content: [
            { type: 'text', text: '<system-reminder>cwd: /repo</system-reminder>' },
            { type: 'text', text: 'list the files', cache_control: { type: 'ephemeral' } },
          ],
        },
      ];
      const count = await fetch(`${h.url}/v1/messages/count_tokens?beta=true`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ model: MODEL, messages, tools }),
      });
      expect(count.status).toBe(200);
      expect(((await count.json()) as any).input_tokens).toBeGreaterThan(0);

      const res = await fetch(`${h.url}/v1/messages?beta=true`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: MODEL,
          max_tokens: 32000,
          stream: true,
          metadata: {
            user_id:
              'user_8f0e2b1a9c_account_3b6f1c2d-aaaa-bbbb-cccc-111122223333_session_9a8b7c6d-1111-2222-3333-444455556666',
          },
          thinking: { type: 'enabled', budget_tokens: 31999 },
          system: [
            { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
            { type: 'text', text: 'Be concise.', cache_control: { type: 'ephemeral' } },
          ],
          messages,
          tools,
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const events = (await res.text())
        .split('\n')
        .filter((line) => line.startsWith('event: '))
        .map((line) => line.slice('event: '.length));
      expect(events[0]).toBe('message_start');
      expect(events.at(-1)).toBe('message_stop');
      expect(events).not.toContain('error');

      const [counted, streamed] = upstreamCalls(h);
      expect(counted.path).toBe(`/v1beta/models/${MODEL}:countTokens`);
      // Anthropic's query and headers stay with Switchyard.
      expect(streamed.search).toBe('?alt=sse');
      expect(streamed.headers['anthropic-beta']).toBeUndefined();
      expect(streamed.headers['anthropic-version']).toBeUndefined();
      expect(streamed.headers['x-goog-api-key']).toBe(ACCOUNT_KEY);
      expect(streamed.json).toMatchObject({
        systemInstruction: {
          parts: [
            { text: "You are Claude Code, Anthropic's official CLI for Claude." },
            { text: 'Be concise.' },
          ],
        },
        tools: [
          {
            functionDeclarations: [
              {
                name: 'Bash',
                parametersJsonSchema: {
                  type: 'object',
                  properties: { command: { type: 'string' } },
                  required: ['command'],
                  additionalProperties: false,
                },
              },
            ],
          },
        ],
        generationConfig: {
          maxOutputTokens: 32000,
          thinkingConfig: { thinkingBudget: 31999, includeThoughts: true },
        },
      });
      await expectBilled(true);
    });
  });

  describe('upstream errors', () => {
    it("should end a stream Gemini breaks off with each client's stream error, keeping the usage seen", async () => {
      h.upstream.setDefault({
        endpoints: ['gemini_stream'],
        reply: { content: [{ type: 'text', text: ['one ', 'two ', 'three'] }] },
        streamError: { afterEvents: 1, message: 'Internal error encountered.' },
      });
      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'count' }],
        stream: true,
      });
      let text = '';
      const openAIError = await (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      })().catch((e: unknown) => e);
      expect(text).toBe('one ');
      expect(openAIError).toBeInstanceOf(OpenAI.APIError);
      expect((openAIError as Error).message).toContain('Internal error encountered.');

      const anthropicError = await anthropic.messages
        .stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'count' }] })
        .finalMessage()
        .catch((e: unknown) => e);
      expect(anthropicError).toBeInstanceOf(Anthropic.APIError);
      expect((anthropicError as Error).message).toContain('Internal error encountered.');

      // The newest rows first: these two requests.
      const rows = (await requestLog(h)).slice(0, 2);
      for (const row of rows) {
        expect(row).toMatchObject({ model: MODEL, stream: true });
        expect(row).toMatchObject({ outcome: 'error', errorCode: 'UPSTREAM_STREAM_ERROR' });
        // The prompt count of the chunk that arrived before the error.
        expect(row.inputTokens).toBeGreaterThan(0);
      }
    });

    it("should answer Gemini's RESOURCE_EXHAUSTED on the only account with a 429 in each client's shape", async () => {
      const quota: FakeScenario = {
        status: 429,
        retryAfterSeconds: 20,
        geminiQuota: { period: 'minute' },
      };
      h.upstream.enqueue(quota);
      const openAIError = await openai.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(openAIError).toBeInstanceOf(OpenAI.RateLimitError);
      const rateLimited = openAIError as InstanceType<typeof OpenAI.RateLimitError>;
      expect(rateLimited.status).toBe(429);
      expect(rateLimited.code).toBe('rate_limit_exceeded');
      expect(rateLimited.error).toMatchObject({ type: 'requests', message: expect.any(String) });
      // Gemini's key stays upstream's: nothing of the account reaches the client.
      expect(JSON.stringify(rateLimited.error)).not.toContain(ACCOUNT_KEY);
      const retryAfter = Number(rateLimited.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(10);
      expect(retryAfter).toBeLessThanOrEqual(21);
      expect(upstreamCalls(h)).toHaveLength(1);

      // The account is now rate-limited for the flash family: clear it for the next client.
      const reset = await h.admin('POST', `/admin/api/accounts/${accountId}/reset-health`);
      expect(reset.status).toBeLessThan(300);
      h.upstream.enqueue(quota);
      const anthropicError = await anthropic.messages
        .create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(anthropicError).toBeInstanceOf(Anthropic.RateLimitError);
      const limited = anthropicError as InstanceType<typeof Anthropic.RateLimitError>;
      expect(limited.status).toBe(429);
      expect(limited.error).toMatchObject({
        type: 'error',
        error: { type: 'rate_limit_error', message: expect.any(String) },
      });
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(10);
      await h.admin('POST', `/admin/api/accounts/${accountId}/reset-health`);
    });

    it("should pass Gemini's INVALID_ARGUMENT about the request on in each client's shape", async () => {
      const message =
        '* GenerateContentRequest.generation_config.max_output_tokens: must be at most 65536.';
      h.upstream.enqueue(
        { status: 400, errorMessage: message },
        { status: 400, errorMessage: message },
      );

      const openAIError = await openai.chat.completions
        .create({ model: MODEL, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(openAIError).toBeInstanceOf(OpenAI.BadRequestError);
      const bad = openAIError as InstanceType<typeof OpenAI.BadRequestError>;
      expect(bad.status).toBe(400);
      expect(bad.error).toMatchObject({ type: 'invalid_request_error' });
      expect((bad.error as any).message).toContain(message);

      const anthropicError = await anthropic.messages
        .create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hi' }] })
        .catch((e: unknown) => e);
      expect(anthropicError).toBeInstanceOf(Anthropic.BadRequestError);
      const refused = anthropicError as InstanceType<typeof Anthropic.BadRequestError>;
      expect(refused.status).toBe(400);
      expect(refused.error).toMatchObject({
        type: 'error',
        error: { type: 'invalid_request_error', message: expect.stringContaining(message) },
      });

      const rows = await requestLog(h);
      expect(rows.slice(0, 2).map((r) => r.status)).toEqual([400, 400]);
      // A request Gemini refused is the client's fault: the account stays healthy.
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${accountId}`);
      expect(detail.body.healthStates ?? []).toEqual([]);
    });
  });
});
