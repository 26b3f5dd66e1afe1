import type { RoutableAccount } from 'src/modules/accounts/account.types';

/** A routable claude-console account for specs; override what the test is about. */
export function routableAccount(overrides: Partial<RoutableAccount> = {}): RoutableAccount {
  const id = overrides.id ?? 'acct-1';
  return {
    id,
    name: id,
    platform: 'claude',
    type: 'claude-console',
    baseUrl: 'https://upstream.example',
    priority: 50,
    weight: 1,
    enabled: true,
    schedulable: true,
    models: null,
    credentials: { type: 'claude-console', apiKey: 'sk-ant-console' },
    proxyUrl: null,
    concurrencyLimit: null,
    status: 'active',
    groupIds: [],
    lastUsedAt: null,
    ...overrides,
  };
}
