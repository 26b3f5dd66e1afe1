import { emptyUsage } from './pricing/token-usage';
import { microsToUsd, toBillingEvent, toBillingOutboxRow } from './billing-event';
import { toRequestLogRow } from './usage-batch';
import type { UsageEvent } from './usage.types';

function usageEvent(overrides: Partial<UsageEvent> = {}): UsageEvent {
  return {
    requestId: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
    at: Date.UTC(2025, 0, 31, 12, 30, 0, 250),
    apiKeyId: 'key-1',
    apiKeyName: 'team-a',
    userId: 'user-9',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4-6',
    status: 200,
    outcome: 'ok',
    stream: true,
    usage: {
      ...emptyUsage(),
      inputTokens: 120,
      outputTokens: 42,
      cacheCreation5mTokens: 300,
      cacheCreation1hTokens: 200,
      cacheReadTokens: 1000,
    },
    costMicros: 3615,
    priceKnown: true,
    latencyMs: 812,
    ttfbMs: 95,
    attempts: 2,
    errorCode: null,
    ruleId: 'rule-1',
    ruleName: 'long context',
    ...overrides,
  };
}

describe('toBillingEvent', () => {
  it('should carry every field of the stored row, the key name and the user', () => {
    const event = usageEvent();
    expect(toBillingEvent(toRequestLogRow(event), event)).toEqual({
      id: '0190a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b',
      type: 'usage.recorded',
      version: 1,
      at: '2025-01-31T12:30:00.250Z',
      atMs: Date.UTC(2025, 0, 31, 12, 30, 0, 250),
      apiKey: { id: 'key-1', name: 'team-a' },
      userId: 'user-9',
      accountId: 'acct-1',
      platform: 'claude',
      model: 'claude-sonnet-4-6',
      status: 200,
      outcome: 'ok',
      stream: true,
      tokens: { input: 120, output: 42, cacheWrite5m: 300, cacheWrite1h: 200, cacheRead: 1000 },
      cost: { micros: 3615, usd: '0.003615', priceKnown: true },
      latencyMs: 812,
      ttfbMs: 95,
      attempts: 2,
      errorCode: null,
      rule: { id: 'rule-1', name: 'long context' },
    });
  });

  it('should say null for what a request did not have', () => {
    const event = usageEvent({
      apiKeyName: undefined,
      userId: undefined,
      accountId: null,
      ttfbMs: null,
      ruleId: null,
      ruleName: null,
      outcome: 'error',
      status: 503,
      errorCode: 'NO_ACCOUNT',
      priceKnown: false,
    });
    expect(toBillingEvent(toRequestLogRow(event), event)).toMatchObject({
      apiKey: { id: 'key-1', name: null },
      userId: null,
      accountId: null,
      ttfbMs: null,
      rule: null,
      outcome: 'error',
      status: 503,
      errorCode: 'NO_ACCOUNT',
      cost: { priceKnown: false },
    });
  });

  it('should carry no secret, prompt or header of the request', () => {
    const row = toRequestLogRow(usageEvent());
    const keys = Object.keys(toBillingEvent(row)).sort();
    expect(keys).toEqual(
      [
        'accountId',
        'apiKey',
        'at',
        'atMs',
        'attempts',
        'cost',
        'errorCode',
        'id',
        'latencyMs',
        'model',
        'outcome',
        'platform',
        'rule',
        'status',
        'stream',
        'tokens',
        'ttfbMs',
        'type',
        'userId',
        'version',
      ].sort(),
    );
  });
});

describe('microsToUsd', () => {
  it.each([
    [0, '0.000000'],
    [1, '0.000001'],
    [3615, '0.003615'],
    [1_000_000, '1.000000'],
    [123_456_789_012, '123456.789012'],
  ])('should write %d micro-dollars as %s', (micros, usd) => {
    expect(microsToUsd(micros)).toBe(usd);
  });
});

describe('toBillingOutboxRow', () => {
  it('should key the event by its request id and partition it by the API key', () => {
    const row = toRequestLogRow(usageEvent());
    const outbox = toBillingOutboxRow(row, undefined, () => 'unused');
    expect(outbox.id).toBe(row.id);
    expect(outbox.partitionKey).toBe('key-1');
    expect(JSON.parse(outbox.payload)).toEqual(toBillingEvent(row));
  });

  it('should give an id longer than the outbox column an outbox id of its own', () => {
    const row = toRequestLogRow(usageEvent({ requestId: 'x'.repeat(50) }));
    const outbox = toBillingOutboxRow(row, undefined, () => 'fresh-id');
    expect(outbox.id).toBe('fresh-id');
    expect(JSON.parse(outbox.payload).id).toBe('x'.repeat(50));
  });
});
