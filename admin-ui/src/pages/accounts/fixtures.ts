import type { Account, AccountDetail, AccountGroup, AccountType } from './api';

/** Test data of the accounts pages' component tests (shapes of the generated schema). */
export const TYPES: AccountType[] = [
  {
    type: 'claude-console',
    platform: 'claude',
    label: 'Claude Console (API key)',
    provider: 'anthropic',
    credentialFields: [
      {
        name: 'apiKey',
        required: true,
        secret: true,
        kind: 'string',
        description: 'an Anthropic Console API key (sk-ant-api03-…)',
      },
      {
        name: 'authScheme',
        required: false,
        secret: false,
        kind: 'enum',
        values: ['x-api-key', 'bearer'],
        description: 'how the key is sent',
      },
    ],
    supportsSubscription: false,
    hasRefresher: false,
    defaultBaseUrl: 'https://api.anthropic.com',
    defaultBaseUrlSetting: 'ANTHROPIC_BASE_URL',
    testModel: 'claude-3-5-haiku-latest',
  },
  {
    type: 'azure-openai',
    platform: 'openai',
    label: 'Azure OpenAI',
    provider: 'azure-openai',
    credentialFields: [
      {
        name: 'apiKey',
        required: false,
        secret: true,
        kind: 'string',
        description: 'the resource key',
      },
      {
        name: 'deployments',
        required: false,
        secret: false,
        kind: 'map',
        description: 'model → deployment',
      },
    ],
    supportsSubscription: false,
    hasRefresher: false,
    defaultBaseUrl: null,
    defaultBaseUrlSetting: null,
    testModel: 'gpt-4o-mini',
  },
];

export const GROUPS: AccountGroup[] = [
  {
    id: 'g-claude',
    name: 'team-a',
    platform: 'claude',
    description: null,
    accountIds: ['a-1'],
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
  },
];

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: 'a-1',
    name: 'console-1',
    platform: 'claude',
    type: 'claude-console',
    baseUrl: null,
    effectiveBaseUrl: 'https://api.anthropic.com',
    priority: 50,
    weight: 1,
    enabled: true,
    schedulable: true,
    models: null,
    credentials: {
      type: 'claude-console',
      readable: true,
      apiKeyHint: 'sk-ant-…abcd',
      authScheme: 'x-api-key',
    },
    proxy: null,
    concurrencyLimit: null,
    subscription: null,
    status: 'active',
    statusReason: null,
    groupIds: ['g-claude'],
    lastUsedAt: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    routable: true,
    notRoutableBecause: null,
    usageWindows: [],
    healthStates: [],
    ...overrides,
  };
}

export function detail(overrides: Partial<AccountDetail> = {}): AccountDetail {
  return { ...account(), recentHealthEvents: [], ...overrides };
}

export function page(items: Account[]) {
  return { items, total: items.length, page: 1, pageSize: 50 };
}
