import type { ApiKeyPolicy } from 'src/modules/api-keys/api-key.types';

/** An enabled key's policy with no limits for specs; override what the test is about. */
export function apiKeyPolicy(overrides: Partial<ApiKeyPolicy> = {}): ApiKeyPolicy {
  return {
    id: 'key-1',
    name: 'test',
    enabled: true,
    deleted: false,
    expiresAt: null,
    expiresAfterDays: null,
    firstUsedAt: null,
    permissions: ['claude'],
    modelPolicy: null,
    allowedClients: null,
    bindings: {},
    limits: {},
    priceMultiplier: 1,
    reservationPolicy: 'strict',
    userId: null,
    userDisabled: false,
    ...overrides,
  };
}
