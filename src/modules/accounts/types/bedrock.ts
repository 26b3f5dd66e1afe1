import { AccountsException, AccountsExceptionCode } from '../accounts.exception';
import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { ANTHROPIC_MODEL_FAMILIES, anthropicModelFamily } from './anthropic.model-families';
import { bedrockHealthRules } from './bedrock.health-rules';
import { BEDROCK_INFERENCE_PROFILES, type BedrockInferenceProfile } from './bedrock.model-ids';
import { maskSecret, parseCredentialFields } from './credential-fields';

/**
 * Claude on Amazon Bedrock: a region and either an IAM access key pair (optionally with a
 * session token; requests are signed with SigV4) or a Bedrock API key (sent as a bearer token).
 */
export interface BedrockCredentials {
  type: 'bedrock';
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  apiKey?: string;
  /** Default `regional`: the region group's cross-region profile (`us.anthropic.…`). */
  inferenceProfile?: BedrockInferenceProfile;
  /** Model name → Bedrock model id, inference profile id or ARN; before the default table. */
  modelIds?: Record<string, string>;
}

export interface BedrockCredentialsSummary {
  type: 'bedrock';
  readable: true;
  region: string;
  auth: 'sigv4' | 'api-key';
  accessKeyIdHint: string | null;
  hasSessionToken: boolean;
  apiKeyHint: string | null;
  inferenceProfile: BedrockInferenceProfile;
  modelIds: Record<string, string>;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'region',
    required: true,
    secret: false,
    kind: 'string',
    description: 'the AWS region to call (us-east-1, eu-central-1, ap-northeast-1, …)',
  },
  {
    name: 'accessKeyId',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'an IAM access key id (AKIA… or ASIA…); with secretAccessKey, requests are SigV4-signed',
  },
  {
    name: 'secretAccessKey',
    required: false,
    secret: true,
    kind: 'string',
    description: 'the secret access key of accessKeyId',
  },
  {
    name: 'sessionToken',
    required: false,
    secret: true,
    kind: 'string',
    description: 'the session token of temporary credentials (ASIA… keys)',
  },
  {
    name: 'apiKey',
    required: false,
    secret: true,
    kind: 'string',
    description: 'a Bedrock API key, sent as Authorization: Bearer (instead of an access key pair)',
  },
  {
    name: 'inferenceProfile',
    required: false,
    secret: false,
    kind: 'enum',
    values: BEDROCK_INFERENCE_PROFILES,
    description:
      'regional (default: us./eu./apac. cross-region profiles), global (global.…) or none (in-region model ids)',
  },
  {
    name: 'modelIds',
    required: false,
    secret: false,
    kind: 'map',
    description:
      'model name → Bedrock model id, inference profile id or ARN, consulted before the default table',
  },
];

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/;

function invalid(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

function parseBedrockCredentials(input: unknown): BedrockCredentials {
  // The fields mirror BedrockCredentials: strings, an enum and a map, each validated by kind.
  const credentials = parseCredentialFields(
    'bedrock',
    FIELDS,
    input,
  ) as unknown as BedrockCredentials;
  if (!REGION.test(credentials.region)) {
    throw invalid('credentials.region must be an AWS region such as us-east-1');
  }
  const pair = credentials.accessKeyId !== undefined || credentials.secretAccessKey !== undefined;
  if (pair && credentials.apiKey !== undefined) {
    throw invalid('bedrock credentials take an access key pair or an apiKey, not both');
  }
  if (
    pair &&
    (credentials.accessKeyId === undefined || credentials.secretAccessKey === undefined)
  ) {
    throw invalid('credentials.accessKeyId and credentials.secretAccessKey go together');
  }
  if (!pair && credentials.apiKey === undefined) {
    throw invalid(
      'bedrock credentials need accessKeyId and secretAccessKey (SigV4), or apiKey (a Bedrock API key)',
    );
  }
  if (credentials.sessionToken !== undefined && !pair) {
    throw invalid('credentials.sessionToken belongs to an access key pair');
  }
  return credentials;
}

export const bedrockDescriptor: AccountTypeDescriptor<
  BedrockCredentials,
  BedrockCredentialsSummary
> = {
  type: 'bedrock',
  platform: 'claude',
  label: 'Claude on Amazon Bedrock',
  provider: 'bedrock',
  credentialFields: FIELDS,
  parseCredentials: parseBedrockCredentials,
  describeCredentials: (credentials) => ({
    type: 'bedrock',
    readable: true,
    region: credentials.region,
    auth: credentials.apiKey === undefined ? 'sigv4' : 'api-key',
    accessKeyIdHint:
      credentials.accessKeyId === undefined ? null : maskSecret(credentials.accessKeyId),
    hasSessionToken: credentials.sessionToken !== undefined,
    apiKeyHint: credentials.apiKey === undefined ? null : maskSecret(credentials.apiKey),
    inferenceProfile: credentials.inferenceProfile ?? 'regional',
    modelIds: credentials.modelIds ?? {},
  }),
  defaultBaseUrlSetting: 'BEDROCK_BASE_URL',
  health: bedrockHealthRules,
  modelFamilies: ANTHROPIC_MODEL_FAMILIES,
  modelFamily: anthropicModelFamily,
  supportsSubscription: false,
  testRequest: {
    defaultModel: 'claude-haiku-4-5',
    // The provider maps the model in the path to the account's Bedrock id.
    build: (model) => ({
      method: 'POST',
      path: `/model/${encodeURIComponent(model)}/invoke`,
      body: { max_tokens: 1, messages: [{ role: 'user', content: 'ping' }] },
    }),
  },
  hasRefresher: false,
};
