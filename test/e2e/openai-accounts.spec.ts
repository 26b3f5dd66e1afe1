import OpenAI from 'openai';
import type { FakeReply, FakeRequestRecord, FakeUpstream } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * The `openai` SDK through Switchyard to `openai` and `azure-openai` accounts on the fake
 * upstream. The formats match, so what the client reads must be the bytes a direct call to the
 * upstream with the same request gets; the fake is scripted to answer both calls alike (fixed
 * ids and timestamps, explicit usage). Each account type's URL shape and credentials are checked
 * on what the fake received, and the request log on what the upstream reported.
 */

const MODEL = 'gpt-5';
const DEPLOYMENT = 'prod-gpt5';
/** What the upstream reports; OpenAI counts cached tokens in the prompt, reasoning in the output. */
const USAGE = {
  inputTokens: 6000,
  cacheReadTokens: 4000,
  outputTokens: 2000,
  reasoningTokens: 1500,
};
/** gpt-5: $1.25 input, $0.125 cached input, $10 output per MTok (reasoning billed as output). */
const COST_MICROS = 6000 * 1.25 + 4000 * 0.125 + 2000 * 10;
const CREATED_AT = 1_767_225_600;
/** The model the upstream names in its answers (a dated snapshot, as the API does). */
const SERVED_MODEL = 'gpt-5-2025-08-07';

type Api = 'chat' | 'responses';

/** One account under test: how to create it and what the upstream must see from it. */
interface Target {
  name: string;
  account(upstreamUrl: string): Record<string, unknown>;
  /** Where the relay must send each API (path and query), and where the direct call goes. */
  upstream: Record<Api, { path: string; search: string }>;
  /** The model the upstream body must name. */
  bodyModel: string;
  /** The credential headers a client of the upstream itself would send. */
  directHeaders: Record<string, string>;
  /** Checks the credential headers the relay sent. */
  expectCredentials(record: FakeRequestRecord): void;
}

function expectHeaders(record: FakeRequestRecord, expected: Record<string, string | undefined>) {
  const seen = Object.fromEntries(
    Object.keys(expected).map((name) => [name, record.headers[name]]),
  );
  expect(seen).toEqual(expected);
}

const OPENAI_KEY = 'sk-proj-e2e-openai-key';
const AZURE_KEY = '0123456789abcdef0123456789abcdef';
const ENTRA_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e2e-entra-token.sig';

const OPENAI_PATHS = {
  chat: { path: '/v1/chat/completions', search: '' },
  responses: { path: '/v1/responses', search: '' },
};
const AZURE_DEPLOYMENT_PATHS = {
  chat: {
    path: `/openai/deployments/${DEPLOYMENT}/chat/completions`,
    search: '?api-version=2024-10-21',
  },
  // Responses has one path for every deployment (named in the body), on a preview version.
  responses: { path: '/openai/responses', search: '?api-version=2025-04-01-preview' },
};
const AZURE_V1_PATHS = {
  chat: { path: '/openai/v1/chat/completions', search: '' },
  responses: { path: '/openai/v1/responses', search: '' },
};

function azureTarget(shape: 'deployments' | 'v1', auth: 'api-key' | 'entra'): Target {
  return {
    name: `azure-openai, ${shape} shape, ${auth === 'api-key' ? 'api-key' : 'Entra ID token'}`,
    account: (url) => ({
      type: 'azure-openai',
      baseUrl: url,
      credentials: {
        ...(auth === 'api-key' ? { apiKey: AZURE_KEY } : { entraToken: ENTRA_TOKEN }),
        urlShape: shape,
        deployments: { [MODEL]: DEPLOYMENT },
      },
    }),
    upstream: shape === 'deployments' ? AZURE_DEPLOYMENT_PATHS : AZURE_V1_PATHS,
    bodyModel: DEPLOYMENT,
    directHeaders:
      auth === 'api-key' ? { 'api-key': AZURE_KEY } : { authorization: `Bearer ${ENTRA_TOKEN}` },
    expectCredentials: (record) =>
      expectHeaders(
        record,
        auth === 'api-key'
          ? { 'api-key': AZURE_KEY, authorization: undefined }
          : { 'api-key': undefined, authorization: `Bearer ${ENTRA_TOKEN}` },
      ),
  };
}

const TARGETS: Target[] = [
  {
    name: 'openai, with organization and project',
    account: (url) => ({
      type: 'openai',
      baseUrl: `${url}/v1`,
      credentials: { apiKey: OPENAI_KEY, organization: 'org-e2e', project: 'proj_e2e' },
    }),
    upstream: OPENAI_PATHS,
    bodyModel: MODEL,
    directHeaders: {
      authorization: `Bearer ${OPENAI_KEY}`,
      'openai-organization': 'org-e2e',
      'openai-project': 'proj_e2e',
    },
    expectCredentials: (record) =>
      expectHeaders(record, {
        authorization: `Bearer ${OPENAI_KEY}`,
        'openai-organization': 'org-e2e',
        'openai-project': 'proj_e2e',
      }),
  },
  {
    name: 'openai, key only',
    account: (url) => ({
      type: 'openai',
      baseUrl: `${url}/v1`,
      credentials: { apiKey: OPENAI_KEY },
    }),
    upstream: OPENAI_PATHS,
    bodyModel: MODEL,
    directHeaders: { authorization: `Bearer ${OPENAI_KEY}` },
    expectCredentials: (record) =>
      expectHeaders(record, {
        authorization: `Bearer ${OPENAI_KEY}`,
        'openai-organization': undefined,
        'openai-project': undefined,
      }),
  },
  azureTarget('deployments', 'api-key'),
  azureTarget('deployments', 'entra'),
  azureTarget('v1', 'api-key'),
  azureTarget('v1', 'entra'),
];

/** A reply the fake renders identically for every request it applies to. */
function reply(id: string, content: FakeReply['content']): FakeReply {
  return { id, createdAt: CREATED_AT, idSeed: 7, model: SERVED_MODEL, content, usage: USAGE };
}

const TEXT_REPLY = [{ type: 'text' as const, text: ['Bonjour ', 'de ', 'Zürich 🌍'] }];
const REASONING_REPLY = [
  { type: 'thinking' as const, thinking: ['The user ', 'greets me.'] },
  ...TEXT_REPLY,
];

const WEATHER_TOOL_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' } },
  required: ['city'],
  additionalProperties: false,
};

function generations(upstream: FakeUpstream): FakeRequestRecord[] {
  return upstream.requests.filter((r) => r.method === 'POST');
}

async function bytesOf(response: Promise<Response>): Promise<Buffer> {
  const res = await response;
  expect(res.status).toBe(200);
  return Buffer.from(await res.arrayBuffer());
}

describe('openai SDK through Switchyard to openai and azure-openai accounts (end to end)', () => {
  let h: RelayHarness;
  const keys = new Map<string, { id: string; secret: string }>();

  beforeAll(async () => {
    h = await startRelayHarness();
    for (const target of TARGETS) {
      const account = await h.createAccount({
        name: target.name,
        ...target.account(h.upstream.url),
      });
      // Each key is bound to its account, so every request reaches the account under test.
      const key = await h.createKey({
        name: `key ${target.name}`,
        bindings: { openai: { accountId: account.id } },
      });
      keys.set(target.name, key);
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  /** The request-log rows of a key written since `before` (ids seen earlier), newest first. */
  async function rowsSince(keyId: string, before: Set<string>): Promise<any[]> {
    await h.flushUsage();
    const res = await h.admin<{ items: any[] }>(
      'GET',
      `/admin/api/usage/requests?pageSize=200&keyId=${keyId}`,
    );
    expect(res.status).toBe(200);
    return res.body.items.filter((row) => !before.has(row.id));
  }

  async function rowIds(keyId: string): Promise<Set<string>> {
    return new Set((await rowsSince(keyId, new Set())).map((row) => row.id as string));
  }

  describe.each(TARGETS)('$name', (target) => {
    let openai: OpenAI;
    let keyId: string;

    beforeAll(() => {
      const key = keys.get(target.name)!;
      keyId = key.id;
      openai = new OpenAI({
        apiKey: key.secret,
        baseURL: `${h.url}/openai/v1`,
        maxRetries: 0,
        timeout: 20_000,
      });
    });

    /** The same request sent straight to the upstream, as a client of it would send it. */
    async function direct(api: Api, body: Record<string, unknown>): Promise<Buffer> {
      const { path, search } = target.upstream[api];
      return bytesOf(
        fetch(`${h.upstream.url}${path}${search}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...target.directHeaders },
          body: JSON.stringify({ ...body, model: target.bodyModel }),
        }),
      );
    }

    /** Checks one relayed request: URL, credentials, the client's key gone, the body's model. */
    function expectRelayed(record: FakeRequestRecord, api: Api): any {
      expect({ path: record.path, search: record.search }).toEqual(target.upstream[api]);
      target.expectCredentials(record);
      expect(JSON.stringify(record.headers)).not.toContain(keys.get(target.name)!.secret);
      const body = record.json as any;
      expect(body.model).toBe(target.bodyModel);
      return body;
    }

    /** The one request row since `before`, with the upstream's usage and its cost. */
    async function expectBilled(before: Set<string>, stream: boolean): Promise<void> {
      const rows = await rowsSince(keyId, before);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        platform: 'openai',
        model: MODEL,
        status: 200,
        outcome: 'ok',
        stream,
        inputTokens: USAGE.inputTokens,
        cacheReadTokens: USAGE.cacheReadTokens,
        cacheCreation5mTokens: 0,
        cacheCreation1hTokens: 0,
        outputTokens: USAGE.outputTokens,
        costMicros: COST_MICROS,
        priceKnown: true,
      });
    }

    describe('chat.completions.create', () => {
      const params = {
        model: MODEL,
        messages: [
          { role: 'system' as const, content: 'Answer in French.' },
          { role: 'user' as const, content: 'Hello' },
        ],
        max_completion_tokens: 300,
      };

      it('should pass a non-stream completion through byte for byte and bill its usage', async () => {
        h.upstream.setDefault({ reply: reply('chatcmpl-e2e', TEXT_REPLY) });
        const before = await rowIds(keyId);

        const relayed = await bytesOf(openai.chat.completions.create(params).asResponse());

        const [record] = generations(h.upstream);
        const sent = expectRelayed(record, 'chat');
        expect(sent).toEqual({ ...params, model: target.bodyModel });
        if (target.bodyModel === MODEL) {
          // Nothing to change: the client's bytes reach the upstream as they are.
          expect(record.rawBody.toString()).toBe(JSON.stringify(params));
        }
        await expectBilled(before, false);
        expect(relayed.toString()).toBe((await direct('chat', params)).toString());

        const completion = await openai.chat.completions.create(params);
        expect(completion).toMatchObject({
          id: 'chatcmpl-e2e',
          object: 'chat.completion',
          model: SERVED_MODEL,
          choices: [
            {
              message: { role: 'assistant', content: 'Bonjour de Zürich 🌍' },
              finish_reason: 'stop',
            },
          ],
          usage: {
            prompt_tokens: 10_000,
            completion_tokens: 2000,
            prompt_tokens_details: { cached_tokens: 4000 },
            completion_tokens_details: { reasoning_tokens: 1500 },
          },
        });
      });

      it('should stream without a usage chunk when the client asked for none, yet bill the usage', async () => {
        h.upstream.setDefault({ reply: reply('chatcmpl-e2e', TEXT_REPLY) });
        const streamParams = { ...params, stream: true as const };
        const before = await rowIds(keyId);

        const relayed = await bytesOf(openai.chat.completions.create(streamParams).asResponse());

        // Switchyard asked the upstream for the usage, to bill it...
        const sent = expectRelayed(generations(h.upstream)[0], 'chat');
        expect(sent).toEqual({
          ...streamParams,
          model: target.bodyModel,
          stream_options: { include_usage: true },
        });
        await expectBilled(before, true);
        // ...and the client reads exactly the stream it asked for: no usage chunk, no usage key.
        const plain = await direct('chat', streamParams);
        expect(plain.toString()).not.toContain('"usage"');
        expect(relayed.toString()).toBe(plain.toString());

        const stream = await openai.chat.completions.create(streamParams);
        let text = '';
        let chunks = 0;
        for await (const chunk of stream) {
          chunks++;
          expect(chunk.usage).toBeUndefined();
          expect(chunk.choices).toHaveLength(1);
          text += chunk.choices[0].delta.content ?? '';
        }
        expect(chunks).toBeGreaterThan(2);
        expect(text).toBe('Bonjour de Zürich 🌍');
      });

      it('should pass a stream with include_usage through byte for byte, usage chunk included', async () => {
        h.upstream.setDefault({ reply: reply('chatcmpl-e2e', TEXT_REPLY) });
        const streamParams = {
          ...params,
          stream: true as const,
          stream_options: { include_usage: true },
        };
        const before = await rowIds(keyId);

        const relayed = await bytesOf(openai.chat.completions.create(streamParams).asResponse());

        const [record] = generations(h.upstream);
        expect(expectRelayed(record, 'chat')).toEqual({ ...streamParams, model: target.bodyModel });
        if (target.bodyModel === MODEL) {
          expect(record.rawBody.toString()).toBe(JSON.stringify(streamParams));
        }
        await expectBilled(before, true);
        expect(relayed.toString()).toBe((await direct('chat', streamParams)).toString());

        let usage: OpenAI.CompletionUsage | undefined;
        for await (const chunk of await openai.chat.completions.create(streamParams)) {
          if (chunk.usage) usage = chunk.usage;
        }
        expect(usage).toMatchObject({
          prompt_tokens: 10_000,
          completion_tokens: 2000,
          prompt_tokens_details: { cached_tokens: 4000 },
          completion_tokens_details: { reasoning_tokens: 1500 },
        });
      });

      it('should carry a tool call round trip: the call streamed, the result sent back, the answer', async () => {
        const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
          {
            type: 'function',
            function: {
              name: 'get_weather',
              description: 'Weather for a city',
              parameters: WEATHER_TOOL_PARAMETERS,
            },
          },
        ];
        h.upstream.enqueue(
          {
            reply: reply('chatcmpl-tool-1', [
              { type: 'text', text: 'Let me look.' },
              {
                type: 'tool_use',
                id: 'call_weather_1',
                name: 'get_weather',
                input: { city: 'Zürich' },
                partialJson: ['{"ci', 'ty":"Zü', 'rich"}'],
              },
            ]),
          },
          { reply: reply('chatcmpl-tool-2', [{ type: 'text', text: 'It is 21 °C in Zürich.' }]) },
        );
        const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
          { role: 'user', content: 'Weather in Zürich?' },
        ];
        const before = await rowIds(keyId);

        const stream = await openai.chat.completions.create({
          model: MODEL,
          messages,
          tools,
          stream: true,
        });
        let content = '';
        let finish: string | null = null;
        const calls: { id: string; name: string; arguments: string }[] = [];
        for await (const chunk of stream) {
          expect(chunk.usage).toBeUndefined();
          for (const choice of chunk.choices) {
            content += choice.delta.content ?? '';
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
          { id: 'call_weather_1', name: 'get_weather', arguments: '{"city":"Zürich"}' },
        ]);

        const followUp: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
          ...messages,
          {
            role: 'assistant',
            content,
            tool_calls: calls.map((call) => ({
              id: call.id,
              type: 'function' as const,
              function: { name: call.name, arguments: call.arguments },
            })),
          },
          { role: 'tool', tool_call_id: 'call_weather_1', content: '{"celsius":21}' },
        ];
        const answer = await openai.chat.completions.create({
          model: MODEL,
          messages: followUp,
          tools,
        });
        expect(answer.choices[0].message.content).toBe('It is 21 °C in Zürich.');
        expect(answer.choices[0].finish_reason).toBe('stop');

        const [first, second] = generations(h.upstream);
        expect(expectRelayed(first, 'chat').tools).toEqual(tools);
        expect(expectRelayed(second, 'chat')).toEqual({
          model: target.bodyModel,
          messages: followUp,
          tools,
        });
        const rows = await rowsSince(keyId, before);
        expect(rows.map((row) => [row.outcome, row.outputTokens])).toEqual([
          ['ok', USAGE.outputTokens],
          ['ok', USAGE.outputTokens],
        ]);
      });
    });

    describe('responses.create', () => {
      const params = {
        model: MODEL,
        instructions: 'Answer in French.',
        input: 'Hello',
        reasoning: { effort: 'low' as const, summary: 'auto' as const },
        max_output_tokens: 300,
      };

      it('should pass a non-stream response through byte for byte and bill its usage', async () => {
        h.upstream.setDefault({ reply: reply('resp_e2e', REASONING_REPLY) });
        const before = await rowIds(keyId);

        const relayed = await bytesOf(openai.responses.create(params).asResponse());

        const [record] = generations(h.upstream);
        expect(expectRelayed(record, 'responses')).toEqual({ ...params, model: target.bodyModel });
        if (target.bodyModel === MODEL) {
          expect(record.rawBody.toString()).toBe(JSON.stringify(params));
        }
        await expectBilled(before, false);
        expect(relayed.toString()).toBe((await direct('responses', params)).toString());

        const response = await openai.responses.create(params);
        expect(response).toMatchObject({
          id: 'resp_e2e',
          status: 'completed',
          model: SERVED_MODEL,
          usage: {
            input_tokens: 10_000,
            input_tokens_details: { cached_tokens: 4000 },
            output_tokens: 2000,
            output_tokens_details: { reasoning_tokens: 1500 },
          },
        });
        expect(response.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
        expect(response.output_text).toBe('Bonjour de Zürich 🌍');
      });

      it('should pass an event stream through byte for byte and bill the usage of response.completed', async () => {
        h.upstream.setDefault({ reply: reply('resp_e2e', REASONING_REPLY) });
        const streamParams = { ...params, stream: true as const };
        const before = await rowIds(keyId);

        const relayed = await bytesOf(openai.responses.create(streamParams).asResponse());

        const [record] = generations(h.upstream);
        expect(expectRelayed(record, 'responses')).toEqual({
          ...streamParams,
          model: target.bodyModel,
        });
        if (target.bodyModel === MODEL) {
          expect(record.rawBody.toString()).toBe(JSON.stringify(streamParams));
        }
        await expectBilled(before, true);
        expect(relayed.toString()).toBe((await direct('responses', streamParams)).toString());

        let text = '';
        let completed: OpenAI.Responses.Response | undefined;
        for await (const event of await openai.responses.create(streamParams)) {
          if (event.type === 'response.output_text.delta') text += event.delta;
          if (event.type === 'response.completed') completed = event.response;
        }
        expect(text).toBe('Bonjour de Zürich 🌍');
        expect(completed?.usage).toMatchObject({
          input_tokens: 10_000,
          input_tokens_details: { cached_tokens: 4000 },
          output_tokens: 2000,
          output_tokens_details: { reasoning_tokens: 1500 },
        });
      });

      it('should carry a tool call round trip: the function_call streamed, its output sent back, the answer', async () => {
        const tools: OpenAI.Responses.Tool[] = [
          {
            type: 'function',
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: WEATHER_TOOL_PARAMETERS,
            strict: true,
          },
        ];
        h.upstream.enqueue(
          {
            reply: reply('resp_tool_1', [
              {
                type: 'tool_use',
                id: 'call_weather_1',
                name: 'get_weather',
                input: { city: 'Zürich' },
                partialJson: ['{"ci', 'ty":"Zü', 'rich"}'],
              },
            ]),
          },
          { reply: reply('resp_tool_2', [{ type: 'text', text: 'It is 21 °C in Zürich.' }]) },
        );
        const before = await rowIds(keyId);

        let completed: OpenAI.Responses.Response | undefined;
        let argumentDeltas = '';
        for await (const event of await openai.responses.create({
          model: MODEL,
          input: 'Weather in Zürich?',
          tools,
          stream: true,
        })) {
          if (event.type === 'response.function_call_arguments.delta')
            argumentDeltas += event.delta;
          if (event.type === 'response.completed') completed = event.response;
        }
        const calls = (completed?.output ?? []).filter(
          (item): item is OpenAI.Responses.ResponseFunctionToolCall =>
            item.type === 'function_call',
        );
        expect(calls).toHaveLength(1);
        expect(calls[0]).toMatchObject({
          call_id: 'call_weather_1',
          name: 'get_weather',
          arguments: '{"city":"Zürich"}',
        });
        expect(argumentDeltas).toBe('{"city":"Zürich"}');

        const input: OpenAI.Responses.ResponseInputItem[] = [
          { role: 'user', content: 'Weather in Zürich?' },
          calls[0],
          { type: 'function_call_output', call_id: 'call_weather_1', output: '{"celsius":21}' },
        ];
        const answer = await openai.responses.create({ model: MODEL, input, tools });
        expect(answer.output_text).toBe('It is 21 °C in Zürich.');

        const [first, second] = generations(h.upstream);
        expect(expectRelayed(first, 'responses').tools).toEqual(tools);
        expect(expectRelayed(second, 'responses')).toEqual({
          model: target.bodyModel,
          input: JSON.parse(JSON.stringify(input)),
          tools,
        });
        const rows = await rowsSince(keyId, before);
        expect(rows.map((row) => [row.outcome, row.outputTokens])).toEqual([
          ['ok', USAGE.outputTokens],
          ['ok', USAGE.outputTokens],
        ]);
      });
    });
  });
});
