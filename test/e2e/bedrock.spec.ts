import Anthropic from '@anthropic-ai/sdk';
import type { FakeReply } from '../fake-upstream/fake-upstream';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

const MODEL = 'claude-sonnet-4-6';
const BEDROCK_ID = 'us.anthropic.claude-sonnet-4-6';
const REGION = 'us-east-1';

const MAIN = {
  accessKeyId: 'AKIAFAKEBEDROCKMAIN01',
  secretAccessKey: 'main/secret+Key0000000000000000000000000',
};
const SPARE = {
  accessKeyId: 'AKIAFAKEBEDROCKSPARE1',
  secretAccessKey: 'spare/secret+Key000000000000000000000000',
};
const TEMPORARY = {
  accessKeyId: 'ASIAFAKEBEDROCKTEMP01',
  secretAccessKey: 'temp/secret+Key0000000000000000000000000',
  sessionToken: 'FwoGZXIvYXdzEFakeSessionToken0000000000000000',
};
const API_KEY = 'ABSKQmVkcm9ja0FQSUtleS1mYWtlLTAwMDAwMDAwMDAwMDA';

/** Sonnet 4.6: $3 input, $15 output per MTok: 1000 x 3 + 100 x 15 micro-dollars. */
const USAGE = { inputTokens: 1000, outputTokens: 100 };
const COST_MICROS = 4500;

const TOOL = {
  name: 'get_weather',
  description: 'Weather of a city',
  input_schema: {
    type: 'object' as const,
    properties: { city: { type: 'string' } },
    required: ['city'],
  },
};

const REPLY: FakeReply = {
  id: 'msg_bdrk_fixed',
  content: [
    { type: 'text', text: 'Let me look that up.' },
    { type: 'tool_use', id: 'toolu_bdrk_fixed', name: 'get_weather', input: { city: 'Zürich' } },
  ],
  usage: USAGE,
};

/** The Message the fake renders for REPLY (what the SDK must end up with, stream or not). */
const EXPECTED_MESSAGE = {
  id: 'msg_bdrk_fixed',
  type: 'message',
  role: 'assistant',
  model: MODEL,
  content: [
    { type: 'text', text: 'Let me look that up.' },
    { type: 'tool_use', id: 'toolu_bdrk_fixed', name: 'get_weather', input: { city: 'Zürich' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: {
    input_tokens: 1000,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: 100,
    service_tier: 'standard',
  },
};

function client(h: RelayHarness, secret: string): Anthropic {
  return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0, timeout: 20_000 });
}

async function requestLog(h: RelayHarness): Promise<any[]> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=200');
  return res.body.items;
}

function bedrockCalls(h: RelayHarness) {
  return h.upstream.requests.filter((r) => r.surface === 'bedrock');
}

describe('Anthropic clients through Switchyard to bedrock accounts (end to end, @anthropic-ai/sdk)', () => {
  let h: RelayHarness;
  const accounts: Record<string, string> = {};

  async function bedrockAccount(
    name: string,
    credentials: Record<string, unknown>,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const { id } = await h.createAccount({
      type: 'bedrock',
      name,
      credentials: { region: REGION, ...credentials },
      ...extra,
    });
    accounts[name] = id;
    return id;
  }

  /** A Switchyard key that only ever uses one account (or one group). */
  async function keyFor(binding: { accountId: string } | { groupId: string }): Promise<string> {
    const key = await h.createKey({
      name: `bedrock-${Date.now()}-${Math.random()}`,
      bindings: { claude: binding },
    });
    return key.secret;
  }

  beforeAll(async () => {
    h = await startRelayHarness();
    await bedrockAccount('bedrock-main', MAIN);
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
    h.upstream.bedrock
      .allowAccessKey(MAIN.accessKeyId, MAIN.secretAccessKey)
      .allowAccessKey(SPARE.accessKeyId, SPARE.secretAccessKey)
      .allowAccessKey(TEMPORARY.accessKeyId, TEMPORARY.secretAccessKey, TEMPORARY.sessionToken)
      .allowApiKey(API_KEY);
  });

  afterEach(async () => {
    for (const id of Object.values(accounts)) {
      await h.admin('POST', `/admin/api/accounts/${id}/reset-health`);
    }
  });

  it('should invoke the mapped model with a SigV4-signed Bedrock body and return the message as the fake sent it, tool use included', async () => {
    const secret = await keyFor({ accountId: accounts['bedrock-main'] });
    h.upstream.setDefault({ reply: REPLY });

    const message = await client(h, secret).messages.create(
      {
        model: MODEL,
        max_tokens: 512,
        system: 'Be brief.',
        tools: [TOOL],
        messages: [{ role: 'user', content: 'Weather in Zürich?' }],
      },
      { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14,claude-code-20250219' } },
    );

    expect(message).toEqual(EXPECTED_MESSAGE);
    const [call] = bedrockCalls(h);
    expect(call.path).toBe(`/model/${encodeURIComponent(BEDROCK_ID)}/invoke`);
    expect(call.search).toBe('');
    expect(String(call.headers.authorization)).toMatch(
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${MAIN.accessKeyId}/\\d{8}/${REGION}/bedrock/aws4_request, SignedHeaders=`,
      ),
    );
    expect(h.upstream.bedrock.verifiedSignatures).toBe(1);
    expect(call.json).toEqual({
      anthropic_version: 'bedrock-2023-05-31',
      anthropic_beta: ['interleaved-thinking-2025-05-14'],
      max_tokens: 512,
      system: 'Be brief.',
      tools: [TOOL],
      messages: [{ role: 'user', content: 'Weather in Zürich?' }],
    });
    // The caller's Switchyard key never travels upstream.
    expect(JSON.stringify(call.headers)).not.toContain(secret);

    const row = (await requestLog(h)).find((r) => r.accountId === accounts['bedrock-main']);
    expect(row).toMatchObject({
      model: MODEL,
      outcome: 'ok',
      stream: false,
      inputTokens: 1000,
      outputTokens: 100,
      costMicros: COST_MICROS,
    });
  });

  it('should stream the AWS event stream as Anthropic SSE: the SDK final message equals the fake reply, and usage is recorded', async () => {
    const secret = await keyFor({ accountId: accounts['bedrock-main'] });
    h.upstream.setDefault({ reply: REPLY });

    const stream = client(h, secret).messages.stream({
      model: MODEL,
      max_tokens: 512,
      tools: [TOOL],
      messages: [{ role: 'user', content: 'Weather in Zürich?' }],
    });
    const events: string[] = [];
    stream.on('streamEvent', (event) => events.push(event.type));
    const final = await stream.finalMessage();

    // The SDK adds its own fields (parsed_output) to what it accumulated.
    expect(final).toMatchObject(EXPECTED_MESSAGE);
    expect(final.content).toEqual(EXPECTED_MESSAGE.content);
    expect(final.usage).toEqual(EXPECTED_MESSAGE.usage);
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events).toContain('content_block_delta');
    const [call] = bedrockCalls(h);
    expect(call.path).toBe(`/model/${encodeURIComponent(BEDROCK_ID)}/invoke-with-response-stream`);
    expect(call.headers.accept).toBe('application/vnd.amazon.eventstream');
    expect(call.json).not.toHaveProperty('stream');

    const row = (await requestLog(h)).find((r) => r.stream === true);
    expect(row).toMatchObject({
      accountId: accounts['bedrock-main'],
      model: MODEL,
      outcome: 'ok',
      inputTokens: 1000,
      outputTokens: 100,
      costMicros: COST_MICROS,
    });
  });

  it('should send the client byte for byte the SSE Anthropic itself sends for the same reply', async () => {
    const secret = await keyFor({ accountId: accounts['bedrock-main'] });
    h.upstream.setDefault({ reply: REPLY });
    const body = JSON.stringify({
      model: MODEL,
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const viaBedrock = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': secret,
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
      },
      body,
    });
    expect(viaBedrock.status).toBe(200);
    expect(viaBedrock.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const relayed = await viaBedrock.text();
    // The fake's own Anthropic Messages route renders the same scripted reply.
    const direct = await fetch(`${h.upstream.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': 'direct', 'content-type': 'application/json' },
      body,
    });
    expect(relayed).toBe(await direct.text());
  });

  it('should turn a mid-stream Bedrock exception into an Anthropic error event', async () => {
    const secret = await keyFor({ accountId: accounts['bedrock-main'] });
    h.upstream.setDefault({
      reply: REPLY,
      streamError: { afterEvents: 3, type: 'throttlingException', message: 'Slow down.' },
    });
    const stream = client(h, secret).messages.stream({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    const failure = await stream.finalMessage().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.APIError);
    expect(String((failure as Error).message)).toContain('rate_limit_error');
    expect(String((failure as Error).message)).toContain('Slow down.');
    const row = (await requestLog(h)).find((r) => r.stream === true);
    expect(row).toMatchObject({ outcome: 'error', errorCode: 'UPSTREAM_STREAM_ERROR' });
  });

  it('should pass a ValidationException to the client as an Anthropic invalid_request_error', async () => {
    const secret = await keyFor({ accountId: accounts['bedrock-main'] });
    h.upstream.setDefault({
      status: 400,
      errorMessage: 'messages: text content blocks must be non-empty',
    });
    const failure = await client(h, secret)
      .messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Anthropic.BadRequestError);
    expect((failure as InstanceType<typeof Anthropic.BadRequestError>).error).toEqual({
      type: 'error',
      error: {
        type: 'invalid_request_error',
        message: 'messages: text content blocks must be non-empty',
      },
    });
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${accounts['bedrock-main']}`);
    expect(detail.body.status).toBe('active');
    expect(detail.body.routable).toBe(true);
  });

  it('should mark an account with a wrong secret auth_failed and answer a clean Anthropic error', async () => {
    const wrong = await bedrockAccount('bedrock-wrong-secret', {
      accessKeyId: SPARE.accessKeyId,
      secretAccessKey: 'not/the+right/secret0000000000000000000',
    });
    const secret = await keyFor({ accountId: wrong });

    const failure = await client(h, secret)
      .messages.create({ model: MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(Anthropic.APIError);
    const error = failure as InstanceType<typeof Anthropic.APIError>;
    expect(error.status).toBe(503);
    expect(error.error).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    expect(JSON.stringify(error.error)).not.toContain('not/the+right');
    expect(bedrockCalls(h)).toHaveLength(1);
    expect(h.upstream.bedrock.verifiedSignatures).toBe(0);
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${wrong}`);
    expect(detail.body.status).toBe('auth_failed');
    expect(detail.body.routable).toBe(false);
    // The admin API shows the credentials masked, never the secret.
    expect(JSON.stringify(detail.body)).not.toContain('not/the+right');
    await h.admin('PATCH', `/admin/api/accounts/${wrong}`, { schedulable: false });
    delete accounts['bedrock-wrong-secret'];
  });

  it('should fail over to a second bedrock account when the first is throttled, and rate-limit the first', async () => {
    const first = await bedrockAccount('bedrock-throttled', TEMPORARY, { priority: 1 });
    const second = await bedrockAccount('bedrock-spare', SPARE, { priority: 2 });
    const group = await h.admin<{ id: string }>('POST', '/admin/api/account-groups', {
      name: 'bedrock-pair',
      platform: 'claude',
      accountIds: [first, second],
    });
    expect(group.status).toBe(201);
    const secret = await keyFor({ groupId: group.body.id });
    h.upstream.forCredential(TEMPORARY.accessKeyId, { status: 429 });
    h.upstream.setDefault({ reply: REPLY });

    const message = await client(h, secret).messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });

    expect(message).toEqual(EXPECTED_MESSAGE);
    expect(bedrockCalls(h).map((r) => r.credential)).toEqual([
      TEMPORARY.accessKeyId,
      SPARE.accessKeyId,
    ]);
    // The temporary credentials' session token went along, signed.
    expect(bedrockCalls(h)[0].headers['x-amz-security-token']).toBe(TEMPORARY.sessionToken);
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${first}`);
    const limited = (detail.body.healthStates as any[]).find((s) => s.state === 'rate_limited');
    expect(limited).toMatchObject({ scope: 'sonnet' });
    const row = (await requestLog(h)).find((r) => r.accountId === second);
    expect(row).toMatchObject({ outcome: 'ok', attempts: 2, inputTokens: 1000 });
  });

  it('should call Bedrock with a bearer API key, and count tokens through CountTokens', async () => {
    const id = await bedrockAccount('bedrock-api-key', {
      apiKey: API_KEY,
      inferenceProfile: 'global',
    });
    const secret = await keyFor({ accountId: id });
    h.upstream.setDefault({ reply: REPLY });

    const message = await client(h, secret).messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual(EXPECTED_MESSAGE.content);
    const counted = await client(h, secret).messages.countTokens({
      model: 'claude-haiku-4-5',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(counted.input_tokens).toBeGreaterThan(0);

    const [invoke, count] = bedrockCalls(h);
    expect(invoke.path).toBe(
      `/model/${encodeURIComponent('global.anthropic.claude-haiku-4-5-20251001-v1:0')}/invoke`,
    );
    expect(invoke.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(invoke.headers['x-amz-date']).toBeUndefined();
    // CountTokens names the foundation model, not the profile.
    expect(count.path).toBe(
      `/model/${encodeURIComponent('anthropic.claude-haiku-4-5-20251001-v1:0')}/count-tokens`,
    );
    const admin = await h.admin<any>('GET', `/admin/api/accounts/${id}`);
    expect(JSON.stringify(admin.body)).not.toContain(API_KEY);
  });
});
