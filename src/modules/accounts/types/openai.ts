import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { openAIHealthRules } from './openai.health-rules';
import { OPENAI_MODEL_FAMILIES, openAIModelFamily } from './openai.model-families';
import { openAITestRequest } from './openai.test-request';

/** An OpenAI API platform key (or a key of a server that speaks the OpenAI API). */
export interface OpenAICredentials {
  type: 'openai';
  apiKey: string;
  /** Sent as `OpenAI-Organization`: which organisation a key of several is billed to. */
  organization?: string;
  /** Sent as `OpenAI-Project`: which project a user key is billed to. */
  project?: string;
}

export interface OpenAICredentialsSummary {
  type: 'openai';
  readable: true;
  apiKeyHint: string;
  organization: string | null;
  project: string | null;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'apiKey',
    required: true,
    secret: true,
    kind: 'string',
    description: 'an OpenAI API key (sk-proj-…, sk-svcacct-…, sk-…), sent as Authorization: Bearer',
  },
  {
    name: 'organization',
    required: false,
    secret: false,
    kind: 'string',
    description: 'organization id (org-…), sent as OpenAI-Organization',
  },
  {
    name: 'project',
    required: false,
    secret: false,
    kind: 'string',
    description: 'project id (proj_…), sent as OpenAI-Project',
  },
];

/** The request headers that carry these credentials (the provider adds them after the client's). */
export function openAICredentialHeaders(credentials: OpenAICredentials): Record<string, string> {
  return {
    authorization: `Bearer ${credentials.apiKey}`,
    ...(credentials.organization === undefined
      ? {}
      : { 'openai-organization': credentials.organization }),
    ...(credentials.project === undefined ? {} : { 'openai-project': credentials.project }),
  };
}

export const openAIDescriptor: AccountTypeDescriptor<OpenAICredentials, OpenAICredentialsSummary> =
  {
    type: 'openai',
    platform: 'openai',
    label: 'OpenAI API (API key)',
    provider: 'openai',
    credentialFields: FIELDS,
    // The fields mirror OpenAICredentials: three strings, two of them optional.
    parseCredentials: (input) =>
      parseCredentialFields('openai', FIELDS, input) as unknown as OpenAICredentials,
    describeCredentials: (credentials) => ({
      type: 'openai',
      readable: true,
      apiKeyHint: maskSecret(credentials.apiKey),
      organization: credentials.organization ?? null,
      project: credentials.project ?? null,
    }),
    defaultBaseUrlSetting: 'OPENAI_BASE_URL',
    health: openAIHealthRules,
    modelFamilies: OPENAI_MODEL_FAMILIES,
    modelFamily: openAIModelFamily,
    supportsSubscription: false,
    testRequest: openAITestRequest,
    hasRefresher: false,
  };
