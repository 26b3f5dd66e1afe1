import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
import { FakeOpenAIAuth, type FakeTokenSet } from '../fake-upstream/fake-openai-auth';
import type { FakeScenario } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * `codex-oauth` accounts (ChatGPT subscriptions) end to end: the official openai client through
 * Switchyard to the Codex backend played by the fake upstream, whose access tokens the fake
 * ChatGPT auth server issues, checks and refreshes.
 */

const MODEL = 'gpt-5-codex';
const CHATGPT_ACCOUNT = 'acct_codex_e2e';
const INSTRUCTIONS = 'You are a coding agent.';

/** What the upstream reports; gpt-5-codex costs $1.25 / $0.125 (cached) / $10 per MTok. */
const USAGE = { inputTokens: 200, cacheReadTokens: 800, outputTokens: 120, reasoningTokens: 80 };
const COST_MICROS = 200 * 1.25 + 800 * 0.125 + 120 * 10;

const REPLY: FakeScenario = {
  reply: {
    content: [
      { type: 'thinking', thinking: ['Weighing ', 'the options.'] },
      { type: 'text', text: ['Use ', 'a map.'] },
    ],
    usage: USAGE,
  },
};

/**
 * A recording hop between the relay and the fake upstream: forwards each request as it is and
 * keeps the response bytes the relay received, to compare with what the client got.
 */
interface Recorder {
  url: string;
  responses: Buffer[];
  close(): Promise<void>;
}

async function startRecorder(target: string): Promise<Recorder> {
  const responses: Buffer[] = [];
  const server: Server = createServer((req, res) => {
    const forwarded = httpRequest(
      `${target}${req.url ?? '/'}`,
      { method: req.method, headers: req.headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        const chunks: Buffer[] = [];
        upstream.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          res.write(chunk);
        });
        upstream.on('end', () => {
          responses.push(Buffer.concat(chunks));
          res.end();
        });
      },
    );
    forwarded.on('error', () => res.destroy());
    req.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    responses,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('codex-oauth accounts through the relay (end to end, openai SDK)', () => {
  let h: RelayHarness;
  let auth: FakeOpenAIAuth;
  let recorder: Recorder;

  beforeAll(async () => {
    auth = await FakeOpenAIAuth.start({ account: { accountId: CHATGPT_ACCOUNT, planType: 'pro' } });
    h = await startRelayHarness({ CODEX_OAUTH_TOKEN_URL: `${auth.url}/oauth/token` });
    recorder = await startRecorder(h.upstream.url);
  });

  afterAll(async () => {
    await h?.close();
    await recorder?.close();
    await auth?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
    h.upstream.useCodexAuth(auth);
    recorder.responses.length = 0;
    auth.reset();
  });

  /** A codex-oauth account made from freshly issued tokens, as an auth.json import makes it. */
  async function codexAccount(
    name: string,
    extra: Record<string, unknown> = {},
  ): Promise<{ id: string; tokens: FakeTokenSet }> {
    const tokens = auth.issueTokens();
    const account = await h.createAccount({
      name,
      type: 'codex-oauth',
      baseUrl: `${recorder.url}/backend-api/codex`,
      credentials: {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        idToken: tokens.id_token,
      },
      ...extra,
    });
    return { id: account.id, tokens };
  }

  /** A client whose key is bound to one account (or group), so tests do not share accounts. */
  async function clientFor(binding: { accountId: string } | { groupId: string }): Promise<{
    openai: OpenAI;
    keyId: string;
    secret: string;
  }> {
    const key = await h.createKey({ name: `codex-${Date.now()}`, bindings: { openai: binding } });
    const openai = new OpenAI({
      apiKey: key.secret,
      baseURL: `${h.url}/openai/v1`,
      maxRetries: 0,
      timeout: 20_000,
    });
    return { openai, keyId: key.id, secret: key.secret };
  }

  function codexRequests() {
    return h.upstream.requests.filter((r) => r.path === '/backend-api/codex/responses');
  }

  async function requestLog(keyId: string): Promise<any[]> {
    await h.flushUsage();
    const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
    return res.body.items.filter((row) => row.apiKeyId === keyId);
  }

  function parseSse(text: string): any[] {
    return text
      .split('\n\n')
      .map((block) => block.split('\n').find((line) => line.startsWith('data: ')))
      .filter((line): line is string => line !== undefined)
      .map((line) => JSON.parse(line.slice(6)));
  }

  describe('responses.create', () => {
    it('should stream the upstream bytes unchanged, with the headers the Codex backend requires, and record usage and cost', async () => {
      const account = await codexAccount('codex-stream');
      const { openai, keyId, secret } = await clientFor({ accountId: account.id });
      h.upstream.setDefault(REPLY);

      const response = await openai.responses
        .create({
          model: MODEL,
          instructions: INSTRUCTIONS,
          input: 'Which structure?',
          stream: true,
          store: false,
          include: ['reasoning.encrypted_content'],
        })
        .asResponse();
      const bytes = Buffer.from(await response.arrayBuffer());

      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(recorder.responses).toHaveLength(1);
      expect(bytes.equals(recorder.responses[0])).toBe(true);
      const events = parseSse(bytes.toString('utf8'));
      expect(events.at(-1)).toMatchObject({
        type: 'response.completed',
        response: {
          usage: {
            input_tokens: 1000,
            input_tokens_details: { cached_tokens: 800 },
            output_tokens: 120,
            output_tokens_details: { reasoning_tokens: 80 },
          },
        },
      });

      const [sent] = codexRequests();
      expect(sent.headers).toMatchObject({
        authorization: `Bearer ${account.tokens.access_token}`,
        'chatgpt-account-id': CHATGPT_ACCOUNT,
        originator: 'codex_cli_rs',
        'openai-beta': 'responses=experimental',
        accept: 'text/event-stream',
        'content-type': 'application/json',
        'session-id': expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(JSON.stringify(sent.headers)).not.toContain(secret);
      expect(sent.json).toMatchObject({ model: MODEL, stream: true, store: false });

      const [row] = await requestLog(keyId);
      expect(row).toMatchObject({
        accountId: account.id,
        platform: 'openai',
        model: MODEL,
        status: 200,
        outcome: 'ok',
        stream: true,
        inputTokens: 200,
        cacheReadTokens: 800,
        // Reasoning tokens are part of the output and billed as output.
        outputTokens: 120,
        priceKnown: true,
        costMicros: COST_MICROS,
      });
    });

    it('should answer a non-stream request from the stream the backend sends, with the same usage', async () => {
      const account = await codexAccount('codex-non-stream');
      const { openai, keyId } = await clientFor({ accountId: account.id });
      h.upstream.setDefault(REPLY);

      const reply = await openai.responses.create({
        model: MODEL,
        instructions: INSTRUCTIONS,
        input: 'Which structure?',
      });

      expect(reply.object).toBe('response');
      expect(reply.status).toBe('completed');
      expect(reply.output_text).toBe('Use a map.');
      expect(reply.output.map((item) => item.type)).toEqual(['reasoning', 'message']);
      expect(reply.usage).toMatchObject({
        input_tokens: 1000,
        input_tokens_details: { cached_tokens: 800 },
        output_tokens: 120,
        output_tokens_details: { reasoning_tokens: 80 },
      });
      // The backend only streams and stores nothing: the relay asked for that on the client's behalf.
      expect(codexRequests()[0].json).toMatchObject({ stream: true, store: false });
      const [row] = await requestLog(keyId);
      expect(row).toMatchObject({
        stream: false,
        inputTokens: 200,
        cacheReadTokens: 800,
        outputTokens: 120,
        costMicros: COST_MICROS,
      });
    });

    it('should carry a function call to the client and its output back to the backend', async () => {
      const account = await codexAccount('codex-tools-responses');
      const { openai } = await clientFor({ accountId: account.id });
      h.upstream.enqueue(
        {
          reply: {
            content: [{ type: 'tool_use', id: 'call_ls_1', name: 'shell', input: { cmd: 'ls' } }],
          },
        },
        { reply: { content: [{ type: 'text', text: 'Two files.' }] } },
      );
      const tools: OpenAI.Responses.Tool[] = [
        {
          type: 'function',
          name: 'shell',
          description: 'Runs a command.',
          strict: false,
          parameters: { type: 'object', properties: { cmd: { type: 'string' } } },
        },
      ];

      const stream = await openai.responses.create({
        model: MODEL,
        instructions: INSTRUCTIONS,
        input: 'List the files.',
        tools,
        stream: true,
        store: false,
      });
      const items: OpenAI.Responses.ResponseOutputItem[] = [];
      for await (const event of stream) {
        if (event.type === 'response.output_item.done') items.push(event.item);
      }
      const call = items.find((item) => item.type === 'function_call');
      expect(call).toMatchObject({ call_id: 'call_ls_1', name: 'shell' });
      if (call?.type !== 'function_call') throw new Error('no function call');
      expect(JSON.parse(call.arguments)).toEqual({ cmd: 'ls' });

      const second = await openai.responses.create({
        model: MODEL,
        instructions: INSTRUCTIONS,
        input: [
          { role: 'user', content: 'List the files.' },
          {
            type: 'function_call',
            call_id: call.call_id,
            name: call.name,
            arguments: call.arguments,
          },
          { type: 'function_call_output', call_id: call.call_id, output: 'a.ts\nb.ts' },
        ],
        tools,
        store: false,
      });
      expect(second.output_text).toBe('Two files.');
      const input = codexRequests()[1].json as { input: any[] };
      expect(input.input.slice(1)).toEqual([
        expect.objectContaining({ type: 'function_call', call_id: 'call_ls_1', name: 'shell' }),
        { type: 'function_call_output', call_id: 'call_ls_1', output: 'a.ts\nb.ts' },
      ]);
    });
  });

  describe('chat.completions.create', () => {
    it('should convert a non-stream completion to the Responses backend and back, usage included', async () => {
      const account = await codexAccount('codex-chat');
      const { openai, keyId } = await clientFor({ accountId: account.id });
      h.upstream.setDefault(REPLY);

      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: INSTRUCTIONS },
          { role: 'user', content: 'Which structure?' },
        ],
      });

      expect(completion.object).toBe('chat.completion');
      expect(completion.choices[0].message.content).toBe('Use a map.');
      expect(completion.choices[0].finish_reason).toBe('stop');
      expect(completion.usage).toMatchObject({
        prompt_tokens: 1000,
        completion_tokens: 120,
        prompt_tokens_details: { cached_tokens: 800 },
        completion_tokens_details: { reasoning_tokens: 80 },
      });
      const [sent] = codexRequests();
      expect(sent.json).toMatchObject({
        model: MODEL,
        instructions: INSTRUCTIONS,
        stream: true,
        store: false,
      });
      expect(sent.headers).toMatchObject({
        authorization: `Bearer ${account.tokens.access_token}`,
        'chatgpt-account-id': CHATGPT_ACCOUNT,
      });
      const [row] = await requestLog(keyId);
      expect(row).toMatchObject({
        stream: false,
        inputTokens: 200,
        cacheReadTokens: 800,
        outputTokens: 120,
        costMicros: COST_MICROS,
      });
    });

    it('should answer a chat without a system message, sending default instructions the backend requires', async () => {
      const account = await codexAccount('codex-chat-bare');
      const { openai } = await clientFor({ accountId: account.id });
      h.upstream.setDefault(REPLY);

      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'Which structure?' }],
      });

      expect(completion.choices[0].message.content).toBe('Use a map.');
      const [sent] = codexRequests();
      expect(sent.json).toMatchObject({ instructions: 'You are a helpful assistant.' });
    });

    it('should stream a completion and carry a tool call round trip through the converter', async () => {
      const account = await codexAccount('codex-chat-tools');
      const { openai, keyId } = await clientFor({ accountId: account.id });
      h.upstream.enqueue(
        {
          reply: {
            content: [
              { type: 'tool_use', id: 'call_weather_1', name: 'weather', input: { city: 'Oslo' } },
            ],
            usage: USAGE,
          },
        },
        { reply: { content: [{ type: 'text', text: ['It is ', 'sunny.'] }] } },
      );
      const tools: OpenAI.Chat.ChatCompletionTool[] = [
        {
          type: 'function',
          function: {
            name: 'weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
          },
        },
      ];
      const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
        { role: 'system', content: INSTRUCTIONS },
        { role: 'user', content: 'Weather in Oslo?' },
      ];

      const stream = await openai.chat.completions.create({
        model: MODEL,
        messages,
        tools,
        stream: true,
        stream_options: { include_usage: true },
      });
      let name = '';
      let args = '';
      let id = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      for await (const chunk of stream) {
        for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
          id ||= call.id ?? '';
          name += call.function?.name ?? '';
          args += call.function?.arguments ?? '';
        }
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      expect({ id, name, args: JSON.parse(args), finish }).toEqual({
        id: 'call_weather_1',
        name: 'weather',
        args: { city: 'Oslo' },
        finish: 'tool_calls',
      });
      expect(usage).toMatchObject({
        prompt_tokens: 1000,
        completion_tokens: 120,
        prompt_tokens_details: { cached_tokens: 800 },
        completion_tokens_details: { reasoning_tokens: 80 },
      });

      const answer = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          ...messages,
          {
            role: 'assistant',
            content: null,
            tool_calls: [{ id, type: 'function', function: { name, arguments: args } }],
          },
          { role: 'tool', tool_call_id: id, content: '21°C, clear' },
        ],
        tools,
      });
      expect(answer.choices[0].message.content).toBe('It is sunny.');
      const input = (codexRequests()[1].json as { input: any[] }).input;
      expect(input).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'function_call', call_id: id, name: 'weather' }),
          expect.objectContaining({
            type: 'function_call_output',
            call_id: id,
            output: '21°C, clear',
          }),
        ]),
      );
      const rows = await requestLog(keyId);
      expect(rows.find((row) => row.stream === true)).toMatchObject({
        inputTokens: 200,
        cacheReadTokens: 800,
        outputTokens: 120,
        costMicros: COST_MICROS,
      });
    });
  });

  describe('credentials', () => {
    it('should refresh an access token about to expire in the refresh job, then use the new one', async () => {
      auth.setAccessTokenTtl(120);
      const account = await codexAccount('codex-expiring');
      auth.setAccessTokenTtl(864_000);
      const { openai } = await clientFor({ accountId: account.id });

      await h.server.app.get(CredentialRefreshService).refreshExpiring();

      expect(auth.counts.refresh).toBe(1);
      const refresh = auth.requests.find((r) => r.params?.grant_type === 'refresh_token');
      expect(refresh?.params?.refresh_token).toBe(account.tokens.refresh_token);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
      expect(detail.body.status).toBe('active');
      expect(Date.parse(detail.body.credentials.expiresAt)).toBeGreaterThan(
        Date.now() + 86_400_000,
      );

      const reply = await openai.responses.create({
        model: MODEL,
        instructions: INSTRUCTIONS,
        input: 'hi',
      });
      expect(reply.status).toBe('completed');
      const used = codexRequests()[0].credential;
      expect(used).not.toBe(account.tokens.access_token);
      expect(auth.checkAccessToken(used!)).toEqual({ valid: true, accountId: CHATGPT_ACCOUNT });
      expect(JSON.stringify(detail.body)).not.toContain(used!);
    });

    it('should refresh once on a 401 and retry the request with the new token', async () => {
      const account = await codexAccount('codex-401-once');
      const { openai } = await clientFor({ accountId: account.id });
      h.upstream.forCredential(account.tokens.access_token, [{ status: 401 }]);

      const completion = await openai.chat.completions.create({
        model: MODEL,
        messages: [
          { role: 'system', content: INSTRUCTIONS },
          { role: 'user', content: 'hi' },
        ],
      });

      expect(completion.choices[0].message.content).toEqual(expect.any(String));
      expect(auth.counts.refresh).toBe(1);
      const used = codexRequests().map((r) => r.credential);
      expect(used).toHaveLength(2);
      expect(used[0]).toBe(account.tokens.access_token);
      expect(used[1]).not.toBe(account.tokens.access_token);
      expect(codexRequests()[1].headers['chatgpt-account-id']).toBe(CHATGPT_ACCOUNT);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
      expect(detail.body.status).toBe('active');
    });

    it('should mark the account auth_failed when the 401 survives the refresh, and answer a clean OpenAI error', async () => {
      const account = await codexAccount('codex-401-twice');
      const { openai } = await clientFor({ accountId: account.id });
      h.upstream.setDefault({ status: 401 });

      const failure = await openai.responses
        .create({ model: MODEL, instructions: INSTRUCTIONS, input: 'hi' })
        .then(
          () => null,
          (error: unknown) => error,
        );

      expect(failure).toBeInstanceOf(OpenAI.APIError);
      const error = failure as InstanceType<typeof OpenAI.APIError>;
      // The key's only account is out of service: the relay's own error, not the upstream's 401.
      expect(error.status).toBe(503);
      expect(error.error).toMatchObject({
        message: expect.any(String),
        type: 'server_error',
        code: 'no_account_available',
      });
      expect(auth.counts.refresh).toBe(1);
      expect(codexRequests()).toHaveLength(2);
      const printed = JSON.stringify(error.error) + String(error.message);
      const fresh = codexRequests()[1].credential!;
      for (const secret of [
        account.tokens.access_token,
        account.tokens.refresh_token,
        account.tokens.id_token,
        fresh,
      ]) {
        expect(printed).not.toContain(secret);
      }
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
      expect(detail.body.status).toBe('auth_failed');
      expect(detail.body.routable).toBe(false);
    });
  });

  describe('usage limits', () => {
    it('should fail over on a usage-limit error and show the first account rate-limited until the reset, with its windows', async () => {
      const first = await codexAccount('codex-limited', { priority: 1 });
      const second = await codexAccount('codex-spare', { priority: 2 });
      const group = await h.admin<{ id: string }>('POST', '/admin/api/account-groups', {
        name: 'codex-pair',
        platform: 'openai',
        accountIds: [first.id, second.id],
      });
      expect(group.status).toBe(201);
      const { openai } = await clientFor({ groupId: group.body.id });
      const resetsInSeconds = 7200;
      h.upstream.forCredential(first.tokens.access_token, {
        codexUsageLimit: { resetsInSeconds, window: 'primary' },
        codexUsage: { secondaryUsedPercent: 47 },
      });
      const before = Date.now();

      const reply = await openai.responses.create({
        model: MODEL,
        instructions: INSTRUCTIONS,
        input: 'hi',
      });

      expect(reply.status).toBe('completed');
      expect(codexRequests().map((r) => r.credential)).toEqual([
        first.tokens.access_token,
        second.tokens.access_token,
      ]);
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${first.id}`);
      expect(detail.body.routable).toBe(false);
      const limited = (detail.body.healthStates as any[]).find((s) => s.state === 'rate_limited');
      expect(limited).toMatchObject({ scope: 'account' });
      const until = Date.parse(limited.until);
      expect(until).toBeGreaterThanOrEqual(
        Math.floor(before / 1000) * 1000 + resetsInSeconds * 1000,
      );
      expect(until).toBeLessThanOrEqual(Date.now() + resetsInSeconds * 1000 + 1000);
      // The windows the 429 reported: the 5-hour one used up, the weekly one as it stands.
      expect(detail.body.usageWindows).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ name: '5h', usedPercent: 100, windowMinutes: 300 }),
          expect.objectContaining({ name: 'weekly', usedPercent: 47, windowMinutes: 10_080 }),
        ]),
      );
      const spare = await h.admin<any>('GET', `/admin/api/accounts/${second.id}`);
      expect(spare.body.routable).toBe(true);
      expect(spare.body.usageWindows).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: '5h', usedPercent: 12 })]),
      );

      // The next request goes straight to the spare account.
      await openai.responses.create({ model: MODEL, instructions: INSTRUCTIONS, input: 'again' });
      expect(codexRequests().at(-1)!.credential).toBe(second.tokens.access_token);
      expect(codexRequests()).toHaveLength(3);
    });
  });
});
