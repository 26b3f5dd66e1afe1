import type { CredentialField } from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';

/** How an API key is sent: Anthropic's `x-api-key` header, or `Authorization: Bearer`. */
export const AUTH_SCHEMES = ['x-api-key', 'bearer'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** Credentials of the account types that hold one key for the Anthropic API. */
export interface AnthropicApiKeyCredentials<T extends string> {
  type: T;
  apiKey: string;
  authScheme?: AuthScheme;
}

export interface AnthropicApiKeySummary<T extends string> {
  type: T;
  readable: true;
  apiKeyHint: string;
  authScheme: AuthScheme;
}

/** The fields of AnthropicApiKeyCredentials; `apiKey` described for the type at hand. */
export function anthropicApiKeyFields(apiKeyDescription: string): readonly CredentialField[] {
  return [
    {
      name: 'apiKey',
      required: true,
      secret: true,
      kind: 'string',
      description: apiKeyDescription,
    },
    {
      name: 'authScheme',
      required: false,
      secret: false,
      kind: 'enum',
      values: AUTH_SCHEMES,
      description: 'how the key is sent: x-api-key (the default) or bearer (Authorization header)',
    },
  ];
}

export function parseAnthropicApiKey<T extends string>(
  type: T,
  fields: readonly CredentialField[],
  input: unknown,
): AnthropicApiKeyCredentials<T> {
  // The fields above mirror AnthropicApiKeyCredentials: apiKey a string, authScheme an AuthScheme.
  return parseCredentialFields(type, fields, input) as unknown as AnthropicApiKeyCredentials<T>;
}

export function describeAnthropicApiKey<T extends string>(
  credentials: AnthropicApiKeyCredentials<T>,
): AnthropicApiKeySummary<T> {
  return {
    type: credentials.type,
    readable: true,
    apiKeyHint: maskSecret(credentials.apiKey),
    authScheme: credentials.authScheme ?? 'x-api-key',
  };
}
