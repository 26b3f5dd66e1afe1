import type {
  AccountTypeDescriptor,
  CredentialField,
  TestRequest,
} from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { droidHealthRules } from './droid.health-rules';
import { OPENAI_MODEL_FAMILIES, openAIModelFamily } from './openai.model-families';

/**
 * A Factory (Droid) API key (`fk-…`, from app.factory.ai › Settings › API keys): Factory's LLM
 * API serves Anthropic and OpenAI models behind one key, each in its own wire format.
 */
export interface DroidCredentials {
  type: 'droid';
  apiKey: string;
  /** Sent as `User-Agent` instead of the default `factory-cli/<version>`. */
  userAgent?: string;
}

export interface DroidCredentialsSummary {
  type: 'droid';
  readable: true;
  apiKeyHint: string;
  userAgent: string | null;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'apiKey',
    required: true,
    secret: true,
    kind: 'string',
    description: 'a Factory API key (fk-…), sent as Authorization: Bearer',
  },
  {
    name: 'userAgent',
    required: false,
    secret: false,
    kind: 'string',
    description: 'the User-Agent to send (default factory-cli/<the version Switchyard knows>)',
  },
];

/** One output token through the Anthropic endpoint (the provider's first format). */
const testRequest: TestRequest = {
  defaultModel: 'claude-sonnet-4-5',
  build: (model) => ({
    method: 'POST',
    path: '/a/v1/messages',
    body: { model, max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] },
  }),
};

export const droidDescriptor: AccountTypeDescriptor<DroidCredentials, DroidCredentialsSummary> = {
  type: 'droid',
  platform: 'droid',
  label: 'Factory Droid (API key)',
  provider: 'droid',
  credentialFields: FIELDS,
  // The fields mirror DroidCredentials: two strings, one optional.
  parseCredentials: (input) =>
    parseCredentialFields('droid', FIELDS, input) as unknown as DroidCredentials,
  describeCredentials: (credentials) => ({
    type: 'droid',
    readable: true,
    apiKeyHint: maskSecret(credentials.apiKey),
    userAgent: credentials.userAgent ?? null,
  }),
  defaultBaseUrlSetting: 'DROID_BASE_URL',
  health: droidHealthRules,
  // One family: Factory's limits are the organisation's, not a model's (see droid.health-rules).
  modelFamilies: OPENAI_MODEL_FAMILIES,
  modelFamily: openAIModelFamily,
  supportsSubscription: false,
  testRequest,
  hasRefresher: false,
};
