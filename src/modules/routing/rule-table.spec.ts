import type { RoutingGroup, RoutingRule, RuleRequest } from './routing-rule.types';
import { RequestScenarios } from './routing-scenarios';
import { RuleTable } from './rule-table';

let next = 0;
function rule(overrides: Partial<RoutingRule>): RoutingRule {
  next += 1;
  return {
    id: `00000000-0000-7000-8000-${String(next).padStart(12, '0')}`,
    name: `rule-${next}`,
    apiKeyId: null,
    priority: 10,
    scenario: null,
    modelPattern: null,
    longContextThreshold: null,
    targetModel: 'target',
    targetGroupId: null,
    enabled: true,
    note: null,
    createdAt: 1,
    updatedAt: 1,
    ...overrides,
  };
}

const KEY = 'key-1';

function request(overrides: Partial<RuleRequest> = {}): RuleRequest {
  const body = overrides.body ?? { messages: [{ role: 'user', content: 'hi' }] };
  return {
    apiKeyId: KEY,
    model: 'claude-sonnet-4-5',
    format: 'anthropic-messages',
    body,
    bodyBytes: JSON.stringify(body).length,
    ...overrides,
  };
}

const GROUP: RoutingGroup = {
  id: '11111111-1111-4111-8111-111111111111',
  name: 'OpenRouter',
  platform: 'openai',
};

/** The claude-code-router `Router` as rules: one per scenario plus a model rule. */
function ccrTable(extra: RoutingRule[] = []): RuleTable {
  return new RuleTable(
    [
      rule({ name: 'bg', scenario: 'background', targetModel: 'small', priority: 10 }),
      rule({ name: 'think', scenario: 'think', targetModel: 'thinker', priority: 30 }),
      rule({ name: 'long', scenario: 'long_context', targetModel: 'longer', priority: 5 }),
      rule({ name: 'web', scenario: 'web_search', targetModel: 'searcher', priority: 20 }),
      rule({ name: 'img', scenario: 'image', targetModel: 'seer', priority: 40 }),
      ...extra,
    ],
    [GROUP],
  );
}

function decided(table: RuleTable, req: RuleRequest): string | null {
  const decision = table.decide(req);
  if (decision === null) return null;
  if (!decision.ok) throw new Error(decision.message);
  return decision.ruleName;
}

describe(RequestScenarios.name, () => {
  const anthropic = (body: Record<string, unknown>, model = 'claude-sonnet-4-5') =>
    new RequestScenarios(model, 'anthropic-messages', body, JSON.stringify(body).length);

  it('should call a Haiku request background, whatever its version or case', () => {
    expect(anthropic({}, 'claude-haiku-4-5-20251001').holds('background', 0)).toBe(true);
    expect(anthropic({}, 'Claude-3-5-HAIKU-latest').holds('background', 0)).toBe(true);
    expect(anthropic({}, 'claude-sonnet-4-5').holds('background', 0)).toBe(false);
  });

  it('should see thinking enabled, adaptive or budgeted, but not disabled', () => {
    expect(
      anthropic({ thinking: { type: 'enabled', budget_tokens: 1024 } }).holds('think', 0),
    ).toBe(true);
    expect(anthropic({ thinking: { type: 'adaptive' } }).holds('think', 0)).toBe(true);
    expect(anthropic({ thinking: { type: 'disabled' } }).holds('think', 0)).toBe(false);
    expect(anthropic({}).holds('think', 0)).toBe(false);
  });

  it('should see reasoning effort in Chat Completions and Responses requests', () => {
    const chat = (body: Record<string, unknown>) =>
      new RequestScenarios('gpt-5', 'openai-chat', body, 10);
    const responses = (body: Record<string, unknown>) =>
      new RequestScenarios('gpt-5', 'openai-responses', body, 10);
    expect(chat({ reasoning_effort: 'high' }).holds('think', 0)).toBe(true);
    expect(chat({ reasoning_effort: 'none' }).holds('think', 0)).toBe(false);
    expect(responses({ reasoning: { effort: 'medium' } }).holds('think', 0)).toBe(true);
    expect(responses({ reasoning: { summary: 'auto' } }).holds('think', 0)).toBe(false);
  });

  it('should estimate input tokens as body bytes / 4 against the threshold', () => {
    const scenarios = new RequestScenarios('m', 'anthropic-messages', {}, 4001);
    expect(scenarios.estimatedInputTokens).toBe(1001);
    expect(scenarios.holds('long_context', 1000)).toBe(true);
    expect(scenarios.holds('long_context', 1001)).toBe(false);
  });

  it('should see a web search tool in each dialect', () => {
    expect(
      anthropic({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }).holds(
        'web_search',
        0,
      ),
    ).toBe(true);
    expect(anthropic({ tools: [{ name: 'Bash', input_schema: {} }] }).holds('web_search', 0)).toBe(
      false,
    );
    expect(
      new RequestScenarios('m', 'openai-chat', { web_search_options: {} }, 1).holds(
        'web_search',
        0,
      ),
    ).toBe(true);
    expect(
      new RequestScenarios(
        'm',
        'openai-responses',
        { tools: [{ type: 'web_search_preview' }] },
        1,
      ).holds('web_search', 0),
    ).toBe(true);
  });

  it('should see an image anywhere in the conversation, in tool results too', () => {
    const image = { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'x' } };
    expect(
      anthropic({
        messages: [{ role: 'user', content: [{ type: 'text', text: 'a' }, image] }],
      }).holds('image', 0),
    ).toBe(true);
    expect(
      anthropic({
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 't', content: [image] }],
          },
        ],
      }).holds('image', 0),
    ).toBe(true);
    expect(anthropic({ messages: [{ role: 'user', content: 'image' }] }).holds('image', 0)).toBe(
      false,
    );
    expect(
      new RequestScenarios(
        'm',
        'openai-chat',
        { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'u' } }] }] },
        1,
      ).holds('image', 0),
    ).toBe(true);
    expect(
      new RequestScenarios(
        'm',
        'openai-responses',
        { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'u' }] }] },
        1,
      ).holds('image', 0),
    ).toBe(true);
  });
});

describe(RuleTable.name, () => {
  describe('decide', () => {
    it('should answer null when there are no rules and the model names no override', () => {
      expect(RuleTable.EMPTY.decide(request())).toBeNull();
    });

    it('should route each claude-code-router scenario to its model', () => {
      const table = ccrTable();
      expect(table.decide(request({ model: 'claude-haiku-4-5' }))).toMatchObject({
        ok: true,
        model: 'small',
        ruleName: 'bg',
        override: false,
      });
      expect(decided(table, request({ body: { thinking: { type: 'enabled' } } }))).toBe('think');
      expect(decided(table, request({ body: { tools: [{ type: 'web_search_20250305' }] } }))).toBe(
        'web',
      );
      expect(
        decided(
          table,
          request({ body: { messages: [{ role: 'user', content: [{ type: 'image' }] }] } }),
        ),
      ).toBe('img');
      expect(decided(table, request({ bodyBytes: 60_001 * 4 }))).toBe('long');
      expect(decided(table, request())).toBeNull();
    });

    it('should take the first matching rule by priority', () => {
      const table = ccrTable();
      // Web search (20) before thinking (30), as claude-code-router orders them.
      const both = { thinking: { type: 'enabled' }, tools: [{ type: 'web_search_20250305' }] };
      expect(decided(table, request({ body: both }))).toBe('web');
      // Long context (5) before background (10).
      expect(decided(table, request({ model: 'claude-haiku-4-5', bodyBytes: 300_000 }))).toBe(
        'long',
      );
    });

    it('should honour a rule’s own long-context threshold', () => {
      const table = new RuleTable(
        [rule({ name: 'long', scenario: 'long_context', longContextThreshold: 100 })],
        [],
      );
      expect(decided(table, request({ bodyBytes: 404 }))).toBe('long');
      expect(decided(table, request({ bodyBytes: 400 }))).toBeNull();
    });

    it('should match a model pattern, ignoring case, alone or with a scenario', () => {
      const table = new RuleTable(
        [
          rule({
            name: 'opus-think',
            modelPattern: 'claude-opus-*',
            scenario: 'think',
            priority: 1,
          }),
          rule({ name: 'gpt', modelPattern: 'gpt-4*', targetModel: 'claude-sonnet-4-5' }),
        ],
        [],
      );
      expect(decided(table, request({ model: 'GPT-4o', format: 'openai-chat' }))).toBe('gpt');
      expect(decided(table, request({ model: 'claude-opus-4-1' }))).toBeNull();
      expect(
        decided(
          table,
          request({ model: 'claude-opus-4-1', body: { thinking: { type: 'enabled' } } }),
        ),
      ).toBe('opus-think');
    });

    it('should try the key’s rules before the global ones, whatever their priorities', () => {
      const table = new RuleTable(
        [
          rule({ name: 'global', scenario: 'background', priority: 0 }),
          rule({ name: 'mine', scenario: 'background', apiKeyId: KEY, priority: 999 }),
          rule({ name: 'theirs', scenario: 'background', apiKeyId: 'other', priority: 0 }),
        ],
        [],
      );
      expect(decided(table, request({ model: 'claude-haiku-4-5' }))).toBe('mine');
      expect(decided(table, request({ model: 'claude-haiku-4-5', apiKeyId: 'third' }))).toBe(
        'global',
      );
    });

    it('should skip disabled rules and rules whose group is gone', () => {
      const table = new RuleTable(
        [
          rule({ name: 'off', scenario: 'background', enabled: false, priority: 1 }),
          rule({ name: 'orphan', scenario: 'background', targetGroupId: 'gone', priority: 2 }),
          rule({ name: 'grouped', scenario: 'background', targetGroupId: GROUP.id, priority: 3 }),
        ],
        [GROUP],
      );
      expect(table.decide(request({ model: 'claude-haiku-4-5' }))).toMatchObject({
        ruleName: 'grouped',
        platform: 'openai',
        groupId: GROUP.id,
      });
    });
  });

  describe('override', () => {
    it('should send provider,model to the account group of that name, ignoring case', () => {
      const table = ccrTable();
      expect(table.decide(request({ model: 'openrouter,anthropic/claude-sonnet-4' }))).toEqual({
        ok: true,
        model: 'anthropic/claude-sonnet-4',
        platform: 'openai',
        groupId: GROUP.id,
        ruleId: null,
        ruleName: 'override',
        override: true,
      });
    });

    it('should take a platform name as the provider when no group has that name', () => {
      expect(ccrTable().decide(request({ model: 'gemini,gemini-2.5-pro' }))).toMatchObject({
        ok: true,
        model: 'gemini-2.5-pro',
        platform: 'gemini',
        groupId: null,
      });
    });

    it('should win over every rule, a background model included', () => {
      expect(
        ccrTable().decide(request({ model: 'claude,claude-haiku-4-5', bodyBytes: 1_000_000 })),
      ).toMatchObject({ model: 'claude-haiku-4-5', ruleName: 'override' });
    });

    it('should refuse an unknown provider or a malformed override with a clear message', () => {
      const table = ccrTable();
      expect(table.decide(request({ model: 'nowhere,some-model' }))).toEqual({
        ok: false,
        message: expect.stringContaining('unknown provider "nowhere"'),
      });
      for (const model of [',x', 'claude,', 'claude,a,b']) {
        expect(table.decide(request({ model }))).toEqual({
          ok: false,
          message: expect.stringContaining('"provider,model"'),
        });
      }
    });
  });
});
