import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/** Targets the fake answers for like any Claude model; `claude-*` routes them to the account. */
const BACKGROUND = 'claude-background-target';
const THINK = 'claude-think-target';
const LONG = 'claude-long-target';
/** Long-context threshold of the rule, in estimated tokens (body bytes / 4). */
const THRESHOLD = 2_000;

function anthropic(h: RelayHarness, secret: string): Anthropic {
  return new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0, timeout: 20_000 });
}

/** The newest request-log row (the log is newest first). */
async function lastLogRow(h: RelayHarness): Promise<any> {
  await h.flushUsage();
  const res = await h.admin<{ items: any[] }>('GET', '/admin/api/usage/requests?pageSize=1');
  return res.body.items[0];
}

/** The model the fake upstream was asked for last. */
function upstreamModel(h: RelayHarness): string | undefined {
  const records = h.upstream.requests.filter((r) => r.path === '/v1/messages');
  return (records.at(-1)?.json as { model?: string } | undefined)?.model;
}

/** A request shaped like Claude Code's: system blocks, tools, metadata.user_id. */
function claudeCodeRequest(model: string, text: string): Anthropic.MessageCreateParamsNonStreaming {
  return {
    model,
    max_tokens: 512,
    system: [
      { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude." },
      { type: 'text', text: 'Be brief.' },
    ],
    tools: [
      {
        name: 'Bash',
        description: 'Run a command',
        input_schema: { type: 'object', properties: { command: { type: 'string' } } },
      },
    ],
    metadata: { user_id: 'user_abc_account__session_0190a000-0000-7000-8000-000000000001' },
    messages: [{ role: 'user', content: text }],
  };
}

describe('Routing rules (end to end, @anthropic-ai/sdk and openai)', () => {
  let h: RelayHarness;
  let key: { id: string; secret: string };
  let other: { id: string; secret: string };
  const rules: Record<string, string> = {};

  beforeAll(async () => {
    h = await startRelayHarness();
    await h.createAccount({ name: 'console', credentials: { apiKey: 'cred-a' } });
    key = await h.createKey({ name: 'routing' });
    other = await h.createKey({ name: 'routing-other' });
    const created: [string, Record<string, unknown>][] = [
      ['background', { scenario: 'background', targetModel: BACKGROUND, priority: 20 }],
      ['think', { scenario: 'think', targetModel: THINK, priority: 30 }],
      [
        'long',
        {
          scenario: 'long_context',
          longContextThreshold: THRESHOLD,
          targetModel: LONG,
          priority: 10,
        },
      ],
      ['gpt', { modelPattern: 'gpt-4o*', targetModel: 'claude-sonnet-4-5', priority: 40 }],
    ];
    for (const [name, body] of created) {
      const res = await h.admin<{ id: string }>('POST', '/admin/api/routing-rules', {
        name,
        ...body,
      });
      expect(res.status).toBe(201);
      rules[name] = res.body.id;
    }
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    h.upstream.reset();
  });

  it('should send a Haiku background request to the background model', async () => {
    await anthropic(h, key.secret).messages.create(
      claudeCodeRequest('claude-haiku-4-5-20251001', 'Summarise this conversation in 5 words.'),
    );
    expect(upstreamModel(h)).toBe(BACKGROUND);
    expect(await lastLogRow(h)).toMatchObject({
      model: BACKGROUND,
      ruleId: rules.background,
      ruleName: 'background',
      status: 200,
    });
  });

  it('should send a request with thinking enabled to the think model', async () => {
    await anthropic(h, key.secret).messages.create({
      ...claudeCodeRequest('claude-sonnet-4-5', 'Think about it.'),
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(upstreamModel(h)).toBe(THINK);
    expect(await lastLogRow(h)).toMatchObject({ model: THINK, ruleName: 'think' });
  });

  it('should send a long input to the long-context model, before thinking (lower priority)', async () => {
    const big = 'lorem ipsum dolor sit amet '.repeat(400); // ~10.8 KB, ~2700 tokens
    await anthropic(h, key.secret).messages.create({
      ...claudeCodeRequest('claude-sonnet-4-5', big),
      max_tokens: 4096,
      thinking: { type: 'enabled', budget_tokens: 2048 },
    });
    expect(upstreamModel(h)).toBe(LONG);
    expect(await lastLogRow(h)).toMatchObject({ model: LONG, ruleName: 'long' });
  });

  it('should leave a request no rule matches as it is, with no rule on its log row', async () => {
    await anthropic(h, key.secret).messages.create(claudeCodeRequest('claude-sonnet-4-5', 'hi'));
    expect(upstreamModel(h)).toBe('claude-sonnet-4-5');
    expect(await lastLogRow(h)).toMatchObject({
      model: 'claude-sonnet-4-5',
      ruleId: null,
      ruleName: null,
    });
  });

  it('should follow a changed rule on the very next request', async () => {
    const changed = await h.admin('PATCH', `/admin/api/routing-rules/${rules.background}`, {
      targetModel: 'claude-background-v2',
    });
    expect(changed.status).toBe(200);
    await anthropic(h, key.secret).messages.create(claudeCodeRequest('claude-haiku-4-5', 'x'));
    expect(upstreamModel(h)).toBe('claude-background-v2');

    await h.admin('PATCH', `/admin/api/routing-rules/${rules.background}`, { enabled: false });
    await anthropic(h, key.secret).messages.create(claudeCodeRequest('claude-haiku-4-5', 'x'));
    expect(upstreamModel(h)).toBe('claude-haiku-4-5');
    await h.admin('PATCH', `/admin/api/routing-rules/${rules.background}`, {
      enabled: true,
      targetModel: BACKGROUND,
    });
  });

  it('should try a key’s own rules before the global ones, and list them for the key', async () => {
    const own = await h.admin<{ id: string }>('POST', '/admin/api/routing-rules', {
      name: 'my background',
      apiKeyId: other.id,
      scenario: 'background',
      targetModel: 'claude-own-background',
      priority: 999,
    });
    expect(own.status).toBe(201);
    await anthropic(h, other.secret).messages.create(claudeCodeRequest('claude-haiku-4-5', 'x'));
    expect(upstreamModel(h)).toBe('claude-own-background');
    expect(await lastLogRow(h)).toMatchObject({ ruleName: 'my background', apiKeyId: other.id });
    // The first key has no own rule: the global one still applies to it.
    await anthropic(h, key.secret).messages.create(claudeCodeRequest('claude-haiku-4-5', 'x'));
    expect(upstreamModel(h)).toBe(BACKGROUND);

    const listed = await h.admin<{ items: any[] }>(
      'GET',
      `/admin/api/keys/${other.id}/routing-rules`,
    );
    expect(listed.body.items.map((r) => r.name)).toEqual([
      'my background',
      'long',
      'background',
      'think',
      'gpt',
    ]);
    const filtered = await h.admin<{ items: any[] }>(
      'GET',
      `/admin/api/routing-rules?apiKeyId=${other.id}`,
    );
    expect(filtered.body.items).toEqual(listed.body.items);
  });

  it('should honour a provider,model override naming an account group', async () => {
    const accounts = await h.admin<{ items: { id: string }[] }>('GET', '/admin/api/accounts');
    const group = await h.admin<{ id: string }>('POST', '/admin/api/account-groups', {
      name: 'OpenRouter',
      platform: 'claude',
      accountIds: [accounts.body.items[0].id],
    });
    expect(group.status).toBe(201);
    await anthropic(h, key.secret).messages.create(
      claudeCodeRequest('openrouter,claude-opus-4-1', 'x'),
    );
    expect(upstreamModel(h)).toBe('claude-opus-4-1');
    expect(await lastLogRow(h)).toMatchObject({
      model: 'claude-opus-4-1',
      ruleId: null,
      ruleName: 'override',
    });
  });

  it('should refuse an override naming no group or platform, in Anthropic’s error shape', async () => {
    const error = await anthropic(h, key.secret)
      .messages.create(claudeCodeRequest('nowhere,claude-opus-4-1', 'x'))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as any;
    expect(body.error).toEqual({
      type: 'invalid_request_error',
      message: expect.stringContaining('unknown provider "nowhere"'),
    });
    expect(h.upstream.requests).toHaveLength(0);
  });

  it('should route a Chat Completions request by a model rule', async () => {
    const openai = new OpenAI({
      apiKey: key.secret,
      baseURL: `${h.url}/openai/v1`,
      maxRetries: 0,
      timeout: 20_000,
    });
    await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(upstreamModel(h)).toBe('claude-sonnet-4-5');
    expect(await lastLogRow(h)).toMatchObject({ model: 'claude-sonnet-4-5', ruleName: 'gpt' });
  });

  it('should refuse an invalid rule with a clear validation error', async () => {
    const none = await h.admin<any>('POST', '/admin/api/routing-rules', {
      name: 'nothing',
      targetModel: 'x',
    });
    expect(none.status).toBe(400);
    expect(none.body.error.message).toContain('a rule needs a scenario, a modelPattern, or both');
    const bad = await h.admin<any>('POST', '/admin/api/routing-rules', {
      name: 'bad',
      scenario: 'telepathy',
      targetModel: 'two words',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/scenario must be one of background, think/);
    expect(bad.body.error.message).toContain('targetModel must be one model name');
  });
});
