import OpenAI from 'openai';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

const MODEL = 'claude-sonnet-4-6';

/** claude-sonnet-4-6 is billed like claude-sonnet-4-5 (see keys-and-usage.spec.ts). */
const USAGE = {
  inputTokens: 120,
  outputTokens: 42,
  cacheCreation5mTokens: 300,
  cacheCreation1hTokens: 200,
  cacheReadTokens: 1000,
};
const BILLED_COST_MICROS = 3615;

function client(h: RelayHarness, secret: string): OpenAI {
  return new OpenAI({
    apiKey: secret,
    baseURL: `${h.url}/openai/v1`,
    maxRetries: 0,
    timeout: 20_000,
  });
}

async function requestLog(h: RelayHarness, query = ''): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>(
    'GET',
    `/admin/api/usage/requests?pageSize=200${query}`,
  );
  return res.body.items;
}

/** The Anthropic request the fake upstream received last. */
function lastUpstreamBody(h: RelayHarness): any {
  const records = h.upstream.requests.filter((r) => r.path === '/v1/messages');
  return records[records.length - 1]?.json;
}

describe('OpenAI Chat Completions to a Claude account (end to end, openai SDK)', () => {
  let h: RelayHarness;
  let secret: string;
  let openai: OpenAI;

  beforeAll(async () => {
    h = await startRelayHarness();
    await h.createAccount({ name: 'claude', credentials: { apiKey: 'cred-claude' } });
    secret = (await h.createKey({ name: 'openai-e2e' })).secret;
    openai = client(h, secret);
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it('should answer a non-stream completion with the text, finish_reason and usage of the upstream', async () => {
    h.upstream.setDefault({
      reply: { content: [{ type: 'text', text: 'Bonjour, monde.' }], usage: USAGE },
    });
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [
        { role: 'system', content: 'Answer in French.' },
        { role: 'user', content: 'Hello world' },
      ],
      max_completion_tokens: 300,
      temperature: 0.2,
      stop: ['END'],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe(MODEL);
    expect(completion.choices[0].message.role).toBe('assistant');
    expect(completion.choices[0].message.content).toBe('Bonjour, monde.');
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.usage).toMatchObject({
      prompt_tokens: 120 + 300 + 200 + 1000,
      completion_tokens: 42,
      total_tokens: 120 + 300 + 200 + 1000 + 42,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
    const sent = lastUpstreamBody(h);
    expect(sent.model).toBe(MODEL);
    expect(sent.max_tokens).toBe(300);
    expect(sent.temperature).toBe(0.2);
    expect(sent.stop_sequences).toEqual(['END']);
    expect(JSON.stringify(sent.system)).toContain('Answer in French.');
    expect(sent.messages).toEqual([{ role: 'user', content: expect.anything() }]);
    expect(JSON.stringify(sent.messages[0].content)).toContain('Hello world');

    const [row] = await requestLog(h);
    expect(row).toMatchObject({
      model: MODEL,
      outcome: 'ok',
      inputTokens: 120,
      outputTokens: 42,
      cacheReadTokens: 1000,
      costMicros: BILLED_COST_MICROS,
    });
  });

  it('should stream deltas and a last chunk with usage and cached tokens when include_usage is set', async () => {
    h.upstream.setDefault({
      reply: {
        content: [{ type: 'text', text: ['Grüße ', 'aus ', 'Zürich 🌍'] }],
        usage: USAGE,
      },
    });
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe('Grüße aus Zürich 🌍');
    expect(finish).toBe('stop');
    expect(usage).toMatchObject({
      prompt_tokens: 1620,
      completion_tokens: 42,
      prompt_tokens_details: { cached_tokens: 1000 },
    });
    expect(lastUpstreamBody(h).stream).toBe(true);
    const [row] = await requestLog(h);
    expect(row).toMatchObject({
      stream: true,
      outcome: 'ok',
      cacheReadTokens: 1000,
      costMicros: BILLED_COST_MICROS,
    });
  });

  it('should carry a tool call round trip: the call, the result sent back, and the answer', async () => {
    const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: {
            type: 'object',
            properties: { city: { type: 'string' } },
            required: ['city'],
          },
        },
      },
    ];
    h.upstream.enqueue(
      {
        reply: {
          content: [
            { type: 'text', text: 'Let me look.' },
            {
              type: 'tool_use',
              id: 'toolu_1',
              name: 'get_weather',
              input: { city: 'Zürich' },
              partialJson: ['{"ci', 'ty": "Zü', 'rich"}'],
            },
          ],
        },
      },
      { reply: { content: [{ type: 'text', text: 'It is sunny in Zürich.' }] } },
    );
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Weather in Zürich?' },
    ];
    // The first turn streams: tool-call arguments arrive as deltas.
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages,
      tools,
      tool_choice: 'auto',
      stream: true,
    });
    const calls: { id: string; name: string; arguments: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        finish = choice.finish_reason ?? finish;
        for (const call of choice.delta.tool_calls ?? []) {
          calls[call.index] ??= { id: '', name: '', arguments: '' };
          if (call.id) calls[call.index].id = call.id;
          if (call.function?.name) calls[call.index].name = call.function.name;
          calls[call.index].arguments += call.function?.arguments ?? '';
        }
      }
    }
    expect(finish).toBe('tool_calls');
    expect(calls).toEqual([
      { id: 'toolu_1', name: 'get_weather', arguments: '{"city": "Zürich"}' },
    ]);
    const first = lastUpstreamBody(h);
    expect(first.tools).toEqual([
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: (tools[0] as OpenAI.Chat.Completions.ChatCompletionFunctionTool).function
          .parameters,
      },
    ]);
    expect(first.tool_choice).toEqual({ type: 'auto' });

    messages.push(
      {
        role: 'assistant',
        content: 'Let me look.',
        tool_calls: [
          {
            id: calls[0].id,
            type: 'function',
            function: { name: calls[0].name, arguments: calls[0].arguments },
          },
        ],
      },
      { role: 'tool', tool_call_id: calls[0].id, content: '{"sky":"sunny"}' },
    );
    const answer = await openai.chat.completions.create({ model: MODEL, messages, tools });
    expect(answer.choices[0].message.content).toBe('It is sunny in Zürich.');
    const second = lastUpstreamBody(h);
    expect(second.messages[1]).toEqual({
      role: 'assistant',
      content: [
        { type: 'text', text: 'Let me look.' },
        { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Zürich' } },
      ],
    });
    expect(JSON.stringify(second.messages[2])).toContain('"tool_use_id":"toolu_1"');
    expect(JSON.stringify(second.messages[2])).toContain('sunny');
  });

  it('should send image inputs, base64 and by URL, as Anthropic image blocks', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex').toString('base64');
    await openai.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is in these?' },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    const content = lastUpstreamBody(h).messages[0].content;
    expect(content).toEqual([
      { type: 'text', text: 'What is in these?' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: png } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('should answer a JSON-schema response_format with JSON content that matches the schema', async () => {
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, temperature: { type: 'number' } },
      required: ['city', 'temperature'],
      additionalProperties: false,
    };
    // The converter forces one tool whose input is the answer; the fake answers with that tool.
    h.upstream.setDefault({ reply: { content: [{ type: 'text', text: 'unused' }] } });
    const probe = openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', schema, strict: true },
      },
    });
    await probe;
    const forced = lastUpstreamBody(h);
    expect(forced.tool_choice?.type).toBe('tool');
    const toolName: string = forced.tool_choice.name;
    expect(forced.tools.find((t: any) => t.name === toolName)?.input_schema).toEqual(schema);

    h.upstream.setDefault({
      reply: {
        content: [{ type: 'tool_use', name: toolName, input: { city: 'Bern', temperature: 21.5 } }],
      },
    });
    const completion = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', schema, strict: true },
      },
    });
    expect(completion.choices[0].finish_reason).toBe('stop');
    expect(completion.choices[0].message.tool_calls ?? []).toEqual([]);
    expect(JSON.parse(completion.choices[0].message.content ?? '')).toEqual({
      city: 'Bern',
      temperature: 21.5,
    });

    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Weather?' }],
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'weather', schema, strict: true },
      },
      stream: true,
    });
    let streamed = '';
    for await (const chunk of stream) streamed += chunk.choices[0]?.delta.content ?? '';
    expect(JSON.parse(streamed)).toEqual({ city: 'Bern', temperature: 21.5 });
  });

  it('should refuse what Claude cannot honour with a 400 in OpenAI shape naming the parameter', async () => {
    const error = await openai.chat.completions
      .create({ model: MODEL, messages: [{ role: 'user', content: 'x' }], n: 2 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    expect(h.upstream.requests.filter((r) => r.path === '/v1/messages')).toHaveLength(0);
  });

  it('should name the models the key may use when the model is unknown', async () => {
    const error = await openai.chat.completions
      .create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    const message = (error as Error).message;
    expect(message).toContain('no-such-model');
    expect(message).toContain('claude-sonnet-4-5');
  });

  it('should apply the key permissions and model list as on the Anthropic API', async () => {
    const noClaude = client(
      h,
      (await h.createKey({ name: 'gemini-only', permissions: ['gemini'] })).secret,
    );
    await expect(
      noClaude.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    const haikuOnly = client(
      h,
      (
        await h.createKey({
          name: 'haiku-only',
          modelPolicy: { mode: 'allow', patterns: ['claude-haiku-*'] },
        })
      ).secret,
    );
    await expect(
      haikuOnly.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(
      haikuOnly.chat.completions.create({
        model: 'claude-haiku-4-5',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).resolves.toMatchObject({ object: 'chat.completion' });
    await expect(client(h, 'sk-wrong').models.list()).rejects.toBeInstanceOf(
      OpenAI.AuthenticationError,
    );
  });

  it('should list the models in OpenAI shape at /openai/v1/models and at /v1/models', async () => {
    const models = [];
    for await (const model of openai.models.list()) models.push(model);
    expect(models.map((m) => m.id)).toContain('claude-sonnet-4-5');
    expect(models[0]).toMatchObject({ object: 'model', owned_by: 'anthropic' });
    const plain = new OpenAI({ apiKey: secret, baseURL: `${h.url}/v1`, maxRetries: 0 });
    const page = await plain.models.list();
    expect(page.data.map((m) => m.id)).toEqual(models.map((m) => m.id));
    // Anthropic clients still get Anthropic's shape there.
    const anthropicShape = await fetch(`${h.url}/v1/models`, {
      headers: { 'x-api-key': secret, 'anthropic-version': '2023-06-01' },
    }).then((r) => r.json() as Promise<any>);
    expect(anthropicShape).toMatchObject({ has_more: false });
    expect(anthropicShape.data[0]).toMatchObject({ type: 'model' });
  });

  it('should list models for a client-restricted key to that client, and refuse other callers', async () => {
    const restricted = (await h.createKey({ name: 'cc-only', allowedClients: ['claude-code'] }))
      .secret;
    const list = (userAgent: string) =>
      fetch(`${h.url}/v1/models`, {
        headers: {
          'x-api-key': restricted,
          'anthropic-version': '2023-06-01',
          'user-agent': userAgent,
        },
      });
    const allowed = await list('claude-cli/2.1.332 (external, cli)');
    expect(allowed.status).toBe(200);
    const body = (await allowed.json()) as { data: { id: string }[] };
    expect(body.data.map((m) => m.id)).toContain('claude-sonnet-4-5');
    const refused = await list('curl/8.5.0');
    expect(refused.status).toBe(403);
  });

  it('should end a stream with an error the SDK throws when the upstream stream breaks off', async () => {
    h.upstream.setDefault({ cutAfterEvents: 4 });
    const stream = await openai.chat.completions.create({
      model: MODEL,
      messages: [{ role: 'user', content: 'Hi' }],
      stream: true,
    });
    const consume = async (): Promise<void> => {
      for await (const chunk of stream) void chunk;
    };
    await expect(consume()).rejects.toThrow();
    const rows = await requestLog(h);
    expect(rows[0].outcome).toBe('truncated');
  });

  it('should serve an alias made through the admin API, and bill the model actually served', async () => {
    const created = await h.admin<{ id: string }>('POST', '/admin/api/model-routes', {
      pattern: 'gpt-4o',
      platform: 'claude',
      targetModel: MODEL,
    });
    expect(created.status).toBe(201);
    try {
      h.upstream.setDefault({ reply: { usage: USAGE } });
      const completion = await openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'Hi' }],
      });
      expect(completion.model).toBe('gpt-4o');
      expect(lastUpstreamBody(h).model).toBe(MODEL);
      const [row] = await requestLog(h);
      expect(row).toMatchObject({ model: MODEL, costMicros: BILLED_COST_MICROS });
    } finally {
      await h.admin('DELETE', `/admin/api/model-routes/${created.body.id}`);
    }
    await expect(
      openai.chat.completions.create({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toBeInstanceOf(OpenAI.APIError);
  });
});
