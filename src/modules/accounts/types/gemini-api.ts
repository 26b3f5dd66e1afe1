import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { geminiHealthRules } from './gemini.health-rules';
import { GEMINI_MODEL_FAMILIES, geminiModelFamily } from './gemini.model-families';
import { geminiTestRequest } from './gemini.test-request';

/** A Gemini API key (Google AI Studio, `AIza…`), or a key of a server that speaks the Gemini API. */
export interface GeminiApiCredentials {
  type: 'gemini-api';
  apiKey: string;
}

export interface GeminiApiCredentialsSummary {
  type: 'gemini-api';
  readable: true;
  apiKeyHint: string;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'apiKey',
    required: true,
    secret: true,
    kind: 'string',
    description: 'a Gemini API key (AIza…), sent as x-goog-api-key',
  },
];

/** The request headers that carry these credentials (the provider adds them after the client's). */
export function geminiApiCredentialHeaders(
  credentials: GeminiApiCredentials,
): Record<string, string> {
  return { 'x-goog-api-key': credentials.apiKey };
}

export const geminiApiDescriptor: AccountTypeDescriptor<
  GeminiApiCredentials,
  GeminiApiCredentialsSummary
> = {
  type: 'gemini-api',
  platform: 'gemini',
  label: 'Gemini API (API key)',
  provider: 'gemini',
  credentialFields: FIELDS,
  // The fields mirror GeminiApiCredentials: one required string.
  parseCredentials: (input) =>
    parseCredentialFields('gemini-api', FIELDS, input) as unknown as GeminiApiCredentials,
  describeCredentials: (credentials) => ({
    type: 'gemini-api',
    readable: true,
    apiKeyHint: maskSecret(credentials.apiKey),
  }),
  defaultBaseUrlSetting: 'GEMINI_BASE_URL',
  health: geminiHealthRules,
  modelFamilies: GEMINI_MODEL_FAMILIES,
  modelFamily: geminiModelFamily,
  supportsSubscription: false,
  testRequest: geminiTestRequest,
  hasRefresher: false,
};
