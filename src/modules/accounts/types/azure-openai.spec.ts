import { AccountsException } from '../accounts.exception';
import {
  azureDeploymentName,
  azureOpenAICredentialHeaders,
  azureOpenAIDescriptor,
  azureOpenAIEndpoint,
  parseAzureOpenAICredentials,
} from './azure-openai';

const KEY = '0123456789abcdef0123456789abcdef';

function failure(input: unknown): string {
  try {
    parseAzureOpenAICredentials(input);
  } catch (error) {
    expect(error).toBeInstanceOf(AccountsException);
    return (error as Error).message;
  }
  throw new Error('expected the credentials to be refused');
}

describe('azure-openai account type', () => {
  describe(parseAzureOpenAICredentials.name, () => {
    it('should take a key or an Entra token with the URL settings', () => {
      expect(
        parseAzureOpenAICredentials({
          apiKey: KEY,
          urlShape: 'deployments',
          apiVersion: '2025-04-01-preview',
          deployments: { 'gpt-4o': ' prod-4o ' },
        }),
      ).toEqual({
        type: 'azure-openai',
        apiKey: KEY,
        urlShape: 'deployments',
        apiVersion: '2025-04-01-preview',
        deployments: { 'gpt-4o': 'prod-4o' },
      });
      expect(parseAzureOpenAICredentials({ entraToken: 'eyJ0eXAi.token' })).toEqual({
        type: 'azure-openai',
        entraToken: 'eyJ0eXAi.token',
      });
    });

    it('should refuse credentials with neither or both of the key and the token', () => {
      const message =
        'credentials of azure-openai accounts need exactly one of apiKey and entraToken';
      expect(failure({})).toBe(message);
      expect(failure({ apiKey: KEY, entraToken: 'token' })).toBe(message);
    });

    it('should name a bad setting', () => {
      expect(failure({ apiKey: KEY, urlShape: 'v2' })).toBe(
        'credentials.urlShape must be one of v1, deployments',
      );
      expect(failure({ apiKey: KEY, apiVersion: 'v1' })).toBe(
        'credentials.apiVersion must look like 2024-10-21, 2025-04-01-preview, preview or latest',
      );
      expect(failure({ apiKey: KEY, deployments: ['gpt-4o'] })).toBe(
        'credentials.deployments must be an object of names to names',
      );
      expect(failure({ apiKey: KEY, deployments: { 'gpt-4o': 'has space' } })).toBe(
        'credentials.deployments["gpt-4o"] must be a deployment name (letters, digits, - _ ., at most 64)',
      );
      expect(failure({ apiKey: KEY, deployments: { 'gpt-4o': 7 } })).toBe(
        'credentials.deployments["gpt-4o"] must be a non-empty string',
      );
    });
  });

  describe(azureOpenAIEndpoint.name, () => {
    const credentials = parseAzureOpenAICredentials({
      apiKey: KEY,
      urlShape: 'deployments',
      deployments: { 'gpt-4o': 'prod-4o' },
    });

    it('should address the deployment with the default api-version on the deployments shape', () => {
      expect(azureOpenAIEndpoint(credentials, '/chat/completions', 'gpt-4o')).toEqual({
        path: '/openai/deployments/prod-4o/chat/completions',
        query: 'api-version=2024-10-21',
      });
      // A model with no mapping is its own deployment name.
      expect(azureOpenAIEndpoint(credentials, '/chat/completions', 'gpt-4.1')).toEqual({
        path: '/openai/deployments/gpt-4.1/chat/completions',
        query: 'api-version=2024-10-21',
      });
      // Responses: one path for every deployment (named in the body), on a preview version.
      expect(azureOpenAIEndpoint(credentials, '/responses', 'gpt-4o')).toEqual({
        path: '/openai/responses',
        query: 'api-version=2025-04-01-preview',
      });
      const pinned = parseAzureOpenAICredentials({
        apiKey: KEY,
        urlShape: 'deployments',
        apiVersion: '2025-03-01-preview',
      });
      expect(azureOpenAIEndpoint(pinned, '/responses', 'gpt-4o').query).toBe(
        'api-version=2025-03-01-preview',
      );
    });

    it('should use /openai/v1 without an api-version unless the account names one', () => {
      const v1 = parseAzureOpenAICredentials({ apiKey: KEY });
      expect(azureOpenAIEndpoint(v1, '/responses', 'gpt-4o')).toEqual({
        path: '/openai/v1/responses',
        query: '',
      });
      const preview = parseAzureOpenAICredentials({ apiKey: KEY, apiVersion: 'preview' });
      expect(azureOpenAIEndpoint(preview, '/chat/completions', 'gpt-4o')).toEqual({
        path: '/openai/v1/chat/completions',
        query: 'api-version=preview',
      });
    });

    it('should map models to deployments without reading inherited keys', () => {
      expect(azureDeploymentName(credentials, 'gpt-4o')).toBe('prod-4o');
      expect(azureDeploymentName(credentials, 'constructor')).toBe('constructor');
    });
  });

  describe(azureOpenAICredentialHeaders.name, () => {
    it('should send a key as api-key and a token as a bearer', () => {
      expect(azureOpenAICredentialHeaders(parseAzureOpenAICredentials({ apiKey: KEY }))).toEqual({
        'api-key': KEY,
      });
      expect(
        azureOpenAICredentialHeaders(parseAzureOpenAICredentials({ entraToken: 'tok' })),
      ).toEqual({ authorization: 'Bearer tok' });
    });
  });

  describe('describeCredentials', () => {
    it('should show which secret it holds, masked, and the URL settings in effect', () => {
      expect(
        azureOpenAIDescriptor.describeCredentials(
          parseAzureOpenAICredentials({ apiKey: KEY, urlShape: 'deployments' }),
        ),
      ).toEqual({
        type: 'azure-openai',
        readable: true,
        auth: 'api-key',
        apiKeyHint: '0123456…cdef',
        entraTokenHint: null,
        urlShape: 'deployments',
        apiVersion: '2024-10-21',
        deployments: null,
      });
      expect(
        azureOpenAIDescriptor.describeCredentials(
          parseAzureOpenAICredentials({ entraToken: 'short' }),
        ),
      ).toMatchObject({
        auth: 'entra-token',
        entraTokenHint: '****',
        urlShape: 'v1',
        apiVersion: null,
      });
    });
  });

  describe('baseUrlProblem', () => {
    it('should refuse a base URL that already holds the /openai path the provider adds', () => {
      const problem = azureOpenAIDescriptor.baseUrlProblem;
      expect(problem?.('https://my-resource.openai.azure.com')).toBeNull();
      expect(problem?.('https://gateway.example/team-a')).toBeNull();
      expect(problem?.('https://my-resource.openai.azure.com/openai/v1')).toMatch(
        /resource endpoint without \/openai/,
      );
      expect(problem?.('https://my-resource.openai.azure.com/openai')).not.toBeNull();
    });
  });
});
