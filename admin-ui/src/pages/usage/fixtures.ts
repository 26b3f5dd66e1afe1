import type { Schemas } from '@/api/client';

/** Admin API answers for the usage views' tests. */
export function entry(overrides: Partial<Schemas['RequestLogEntryDto']> = {}) {
  return {
    id: 'req-1',
    at: '2025-06-01T12:00:00.000Z',
    apiKeyId: 'key-1',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4-5',
    status: 200,
    outcome: 'ok',
    stream: true,
    inputTokens: 1200,
    outputTokens: 300,
    cacheCreation5mTokens: 100,
    cacheCreation1hTokens: 0,
    cacheReadTokens: 4000,
    costMicros: 12_345,
    priceKnown: true,
    latencyMs: 2300,
    ttfbMs: 450,
    attempts: 1,
    errorCode: null,
    ruleId: null,
    ruleName: null,
    ...overrides,
  } satisfies Schemas['RequestLogEntryDto'];
}

type Totals = Omit<Schemas['UsageSummaryDto'], 'from' | 'to'>;

export function totals(overrides: Partial<Totals> = {}) {
  return {
    requests: 0,
    errors: 0,
    inputTokens: 0,
    outputTokens: 0,
    cacheCreation5mTokens: 0,
    cacheCreation1hTokens: 0,
    cacheReadTokens: 0,
    totalTokens: 0,
    costMicros: 0,
    unpricedRequests: 0,
    ...overrides,
  } satisfies Totals;
}

export const KEYS = {
  items: [{ id: 'key-1', name: 'alice-laptop' }],
  total: 1,
  page: 1,
  pageSize: 200,
};

export function account(overrides: Record<string, unknown> = {}) {
  return {
    id: 'acct-1',
    name: 'console-main',
    platform: 'claude',
    type: 'claude-console',
    enabled: true,
    schedulable: true,
    status: 'active',
    statusReason: null,
    routable: true,
    notRoutableBecause: null,
    ...overrides,
  };
}
