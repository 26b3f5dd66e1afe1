import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { anthropicHealthRules } from './anthropic.health-rules';
import { ANTHROPIC_MODEL_FAMILIES, anthropicModelFamily } from './anthropic.model-families';
import { anthropicTestRequest } from './anthropic.test-request';
import { maskSecret, parseCredentialFields } from './credential-fields';

/** A Claude subscription (Pro, Max, Team, Enterprise) reached with Claude Code's OAuth tokens. */
export interface ClaudeOAuthCredentials {
  type: 'claude-oauth';
  accessToken: string;
  /** Lets the oauth module renew the access token (the endpoint rotates it on every refresh). */
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
}

export interface ClaudeOAuthCredentialsSummary {
  type: 'claude-oauth';
  readable: true;
  accessTokenHint: string;
  hasRefreshToken: boolean;
  /** ISO 8601, null when unknown. */
  expiresAt: string | null;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'accessToken',
    required: true,
    secret: true,
    kind: 'string',
    description: 'the OAuth access token (sk-ant-oat01-…)',
  },
  {
    name: 'refreshToken',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'the OAuth refresh token (sk-ant-ort01-…): without it the account stops when the access token expires',
  },
  {
    name: 'expiresAt',
    required: false,
    secret: false,
    kind: 'timestamp',
    description: 'when the access token expires: epoch milliseconds or ISO 8601',
  },
];

export const claudeOAuthDescriptor: AccountTypeDescriptor<
  ClaudeOAuthCredentials,
  ClaudeOAuthCredentialsSummary
> = {
  type: 'claude-oauth',
  platform: 'claude',
  label: 'Claude subscription (OAuth)',
  provider: 'anthropic',
  credentialFields: FIELDS,
  // The fields mirror ClaudeOAuthCredentials: two secrets as strings, expiresAt as epoch ms.
  parseCredentials: (input) =>
    parseCredentialFields('claude-oauth', FIELDS, input) as unknown as ClaudeOAuthCredentials,
  describeCredentials: (credentials) => ({
    type: 'claude-oauth',
    readable: true,
    accessTokenHint: maskSecret(credentials.accessToken),
    hasRefreshToken: credentials.refreshToken !== undefined,
    expiresAt:
      credentials.expiresAt === undefined ? null : new Date(credentials.expiresAt).toISOString(),
  }),
  defaultBaseUrlSetting: 'ANTHROPIC_BASE_URL',
  health: anthropicHealthRules,
  modelFamilies: ANTHROPIC_MODEL_FAMILIES,
  modelFamily: anthropicModelFamily,
  supportsSubscription: true,
  testRequest: anthropicTestRequest,
  hasRefresher: true,
};
