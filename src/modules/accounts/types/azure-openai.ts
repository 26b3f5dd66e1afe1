import { AccountsException, AccountsExceptionCode } from '../accounts.exception';
import type { AccountTypeDescriptor, CredentialField } from './account-type.descriptor';
import { maskSecret, parseCredentialFields } from './credential-fields';
import { openAIHealthRules } from './openai.health-rules';
import { OPENAI_MODEL_FAMILIES, openAIModelFamily } from './openai.model-families';
import { openAITestRequest } from './openai.test-request';

/**
 * How requests reach an Azure OpenAI resource:
 * - `v1`: `{endpoint}/openai/v1/chat/completions` (and `/responses`), the deployment named in
 *   the body's `model`; no api-version needed.
 * - `deployments`: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=…`,
 *   the classic shape every resource serves.
 */
export const AZURE_URL_SHAPES = ['v1', 'deployments'] as const;
export type AzureUrlShape = (typeof AZURE_URL_SHAPES)[number];

/** The api-version the `deployments` shape uses when the account names none (latest GA). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/**
 * The api-version of Responses on the `deployments` shape when the account names none: that API
 * exists on preview versions only (from 2025-03-01-preview), not on the GA default above.
 */
export const AZURE_DEFAULT_RESPONSES_API_VERSION = '2025-04-01-preview';

/**
 * An Azure OpenAI resource, reached with one of its keys or a Microsoft Entra ID token. The URL
 * settings live here with the credentials (not secret) because an account has no other place for
 * per-type settings.
 */
export interface AzureOpenAICredentials {
  type: 'azure-openai';
  /** Sent as `api-key`. Exactly one of apiKey and entraToken is set. */
  apiKey?: string;
  /** A Microsoft Entra ID access token, sent as `Authorization: Bearer`. */
  entraToken?: string;
  /** `2024-10-21`, `2025-04-01-preview`, `preview`, `latest`. */
  apiVersion?: string;
  /** Default `v1`. */
  urlShape?: AzureUrlShape;
  /** Model name → deployment name; a model not listed is its own deployment name. */
  deployments?: Record<string, string>;
}

export interface AzureOpenAICredentialsSummary {
  type: 'azure-openai';
  readable: true;
  auth: 'api-key' | 'entra-token';
  apiKeyHint: string | null;
  entraTokenHint: string | null;
  urlShape: AzureUrlShape;
  /** The api-version sent, null when none is (the v1 shape without one). */
  apiVersion: string | null;
  deployments: Record<string, string> | null;
}

const FIELDS: readonly CredentialField[] = [
  {
    name: 'apiKey',
    required: false,
    secret: true,
    kind: 'string',
    description: 'a key of the resource (Keys and Endpoint), sent as api-key; or give entraToken',
  },
  {
    name: 'entraToken',
    required: false,
    secret: true,
    kind: 'string',
    description:
      'a Microsoft Entra ID access token for https://cognitiveservices.azure.com, sent as Authorization: Bearer; or give apiKey',
  },
  {
    name: 'apiVersion',
    required: false,
    secret: false,
    kind: 'string',
    description: `the api-version query parameter (default ${AZURE_DEFAULT_API_VERSION} for the deployments shape, none for v1)`,
  },
  {
    name: 'urlShape',
    required: false,
    secret: false,
    kind: 'enum',
    values: AZURE_URL_SHAPES,
    description: 'v1 (/openai/v1/…, the default) or deployments (/openai/deployments/{name}/…)',
  },
  {
    name: 'deployments',
    required: false,
    secret: false,
    kind: 'map',
    description: 'model name → deployment name; a model not listed is sent as the deployment name',
  },
];

const API_VERSION = /^(\d{4}-\d{2}-\d{2}(-preview)?|preview|latest)$/;
/** Azure deployment names: letters, digits, `-`, `_`, `.`, at most 64. */
const DEPLOYMENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

function credentialsError(message: string): AccountsException {
  return new AccountsException(AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE, message);
}

export function parseAzureOpenAICredentials(input: unknown): AzureOpenAICredentials {
  // The fields mirror AzureOpenAICredentials; the enum and the map are checked by their kind.
  const credentials = parseCredentialFields(
    'azure-openai',
    FIELDS,
    input,
  ) as unknown as AzureOpenAICredentials;
  if ((credentials.apiKey === undefined) === (credentials.entraToken === undefined)) {
    throw credentialsError(
      'credentials of azure-openai accounts need exactly one of apiKey and entraToken',
    );
  }
  if (credentials.apiVersion !== undefined && !API_VERSION.test(credentials.apiVersion)) {
    throw credentialsError(
      'credentials.apiVersion must look like 2024-10-21, 2025-04-01-preview, preview or latest',
    );
  }
  for (const [model, deployment] of Object.entries(credentials.deployments ?? {})) {
    if (!DEPLOYMENT_NAME.test(deployment)) {
      throw credentialsError(
        `credentials.deployments["${model}"] must be a deployment name (letters, digits, - _ ., at most 64)`,
      );
    }
  }
  return credentials;
}

/**
 * The endpoint path under the account's base URL for an OpenAI-style path (`/chat/completions`,
 * `/responses`) and model, with its query. The `deployments` shape serves Chat Completions per
 * deployment; its Responses API is `/openai/responses` with the deployment in the body's
 * `model` (preview api-versions only, hence their own default). The provider puts the
 * deployment name in the body's `model` on every shape (azureDeploymentName).
 */
export function azureOpenAIEndpoint(
  credentials: AzureOpenAICredentials,
  path: string,
  model: string,
): { path: string; query: string } {
  const shape = credentials.urlShape ?? 'v1';
  if (shape === 'v1') {
    return {
      path: `/openai/v1${path}`,
      query:
        credentials.apiVersion === undefined
          ? ''
          : `api-version=${encodeURIComponent(credentials.apiVersion)}`,
    };
  }
  if (path === '/responses') {
    const version = credentials.apiVersion ?? AZURE_DEFAULT_RESPONSES_API_VERSION;
    return { path: '/openai/responses', query: `api-version=${encodeURIComponent(version)}` };
  }
  const query = `api-version=${encodeURIComponent(credentials.apiVersion ?? AZURE_DEFAULT_API_VERSION)}`;
  const deployment = azureDeploymentName(credentials, model);
  return { path: `/openai/deployments/${encodeURIComponent(deployment)}${path}`, query };
}

/** The deployment that serves a model: the account's mapping, else the model name itself. */
export function azureDeploymentName(credentials: AzureOpenAICredentials, model: string): string {
  const deployments = credentials.deployments;
  return deployments !== undefined && Object.prototype.hasOwnProperty.call(deployments, model)
    ? (deployments[model] ?? model)
    : model;
}

/** The request headers that carry these credentials. */
export function azureOpenAICredentialHeaders(
  credentials: AzureOpenAICredentials,
): Record<string, string> {
  return credentials.apiKey !== undefined
    ? { 'api-key': credentials.apiKey }
    : { authorization: `Bearer ${credentials.entraToken ?? ''}` };
}

/**
 * The base URL is the resource endpoint (`https://<resource>.openai.azure.com`, or a gateway in
 * front of it); the provider adds `/openai/…` from urlShape, so a base URL ending in that path
 * would double it.
 */
function azureBaseUrlProblem(baseUrl: string): string | null {
  const path = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return /(^|\/)openai(\/|$)/i.test(path)
    ? 'azure-openai baseUrl is the resource endpoint without /openai/… ' +
        '(e.g. https://my-resource.openai.azure.com): the path comes from credentials.urlShape'
    : null;
}

export const azureOpenAIDescriptor: AccountTypeDescriptor<
  AzureOpenAICredentials,
  AzureOpenAICredentialsSummary
> = {
  type: 'azure-openai',
  platform: 'openai',
  label: 'Azure OpenAI (API key or Entra ID token)',
  provider: 'azure-openai',
  credentialFields: FIELDS,
  parseCredentials: parseAzureOpenAICredentials,
  describeCredentials: (credentials) => {
    const shape = credentials.urlShape ?? 'v1';
    return {
      type: 'azure-openai',
      readable: true,
      auth: credentials.apiKey !== undefined ? 'api-key' : 'entra-token',
      apiKeyHint: credentials.apiKey === undefined ? null : maskSecret(credentials.apiKey),
      entraTokenHint:
        credentials.entraToken === undefined ? null : maskSecret(credentials.entraToken),
      urlShape: shape,
      apiVersion:
        credentials.apiVersion ?? (shape === 'deployments' ? AZURE_DEFAULT_API_VERSION : null),
      deployments: credentials.deployments ?? null,
    };
  },
  // No default: every resource has its own endpoint.
  defaultBaseUrlSetting: null,
  baseUrlProblem: azureBaseUrlProblem,
  health: openAIHealthRules,
  modelFamilies: OPENAI_MODEL_FAMILIES,
  modelFamily: openAIModelFamily,
  supportsSubscription: false,
  testRequest: openAITestRequest,
  hasRefresher: false,
};
