import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { routableAccount } from '../../../../../test/factories/account.factory';
import { GeminiProvider } from './gemini.provider';

const provider = new GeminiProvider();

function gemini(overrides: Partial<RoutableAccount> = {}): RoutableAccount {
  return routableAccount({
    type: 'gemini-api',
    baseUrl: 'https://generativelanguage.googleapis.com',
    credentials: { type: 'gemini-api', apiKey: 'AIzaAccountKey' },
    ...overrides,
  });
}

const QUOTA_429 = JSON.stringify({
  error: {
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    message: 'quota',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
            quotaDimensions: { model: 'gemini-2.5-pro' },
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '30s' },
    ],
  },
});

describe(GeminiProvider.name, () => {
  describe('endpoint', () => {
    it('should put the model and the method in the path, and stream with alt=sse', () => {
      const account = gemini();
      expect(provider.endpoint(account, 'gemini', 'generate', 'gemini-2.5-pro', false)).toEqual({
        path: '/v1beta/models/gemini-2.5-pro:generateContent',
        query: '',
      });
      expect(
        provider.endpoint(account, 'gemini', 'generate', 'models/gemini-2.5-pro', true),
      ).toEqual({
        path: '/v1beta/models/gemini-2.5-pro:streamGenerateContent',
        query: 'alt=sse',
      });
      expect(provider.endpoint(account, 'gemini', 'count_tokens', 'gemini-2.5-pro', true)).toEqual({
        path: '/v1beta/models/gemini-2.5-pro:countTokens',
        query: '',
      });
    });
  });

  describe('buildRequest', () => {
    it("should send the account's key as x-goog-api-key and none of the client's credentials", async () => {
      const request = await provider.buildRequest(gemini(), {
        format: 'gemini',
        endpoint: { path: '/v1beta/models/m:generateContent', query: 'alt=sse' },
        headers: {
          'x-goog-api-key': 'sk-sy-client',
          authorization: 'Bearer sk-sy-client',
          'x-goog-api-client': 'google-genai-sdk/3.3.0 gl-node/v20',
          'user-agent': 'GeminiCLI-tui/0.61.0/m (linux; x64; terminal)',
          cookie: 'a=b',
        },
        body: Buffer.from('{}'),
      });
      expect(request.url).toBe(
        'https://generativelanguage.googleapis.com/v1beta/models/m:generateContent?alt=sse',
      );
      expect(request.headers).not.toHaveProperty('authorization');
      expect(request.headers).not.toHaveProperty('cookie');
      expect(request.headers).toMatchObject({
        'x-goog-api-key': 'AIzaAccountKey',
        'x-goog-api-client': 'google-genai-sdk/3.3.0 gl-node/v20',
        'user-agent': 'GeminiCLI-tui/0.61.0/m (linux; x64; terminal)',
        'content-type': 'application/json',
      });
    });
  });

  describe('classifyFailure', () => {
    it('should read RESOURCE_EXHAUSTED as a per-model rate limit until the retry delay', () => {
      const before = Date.now();
      const outcome = provider.classifyFailure(gemini(), 429, {}, QUOTA_429);
      expect(outcome).toMatchObject({ kind: 'rate_limited', scope: 'model' });
      const resetAt = (outcome as { resetAt: number }).resetAt;
      expect(resetAt).toBeGreaterThanOrEqual(before + 30_000);
      expect(resetAt).toBeLessThanOrEqual(Date.now() + 30_000);
    });

    it.each([
      [
        400,
        '{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}',
        'auth_failed',
      ],
      [
        403,
        '{"error":{"code":403,"message":"The caller does not have permission","status":"PERMISSION_DENIED"}}',
        'auth_failed',
      ],
      [401, '', 'auth_failed'],
      [
        503,
        '{"error":{"code":503,"status":"UNAVAILABLE","message":"The model is overloaded."}}',
        'overloaded',
      ],
      [500, '{"error":{"code":500,"status":"INTERNAL","message":"x"}}', 'server_error'],
      [
        403,
        '{"error":{"code":403,"status":"PERMISSION_DENIED","message":"Consumer has been suspended."}}',
        'blocked',
      ],
    ])('should classify %i as %s', (status, body, kind) => {
      expect(provider.classifyFailure(gemini(), status, {}, body)).toMatchObject({ kind });
    });

    it('should pass a 400 about the request itself to the client', () => {
      const body =
        '{"error":{"code":400,"status":"INVALID_ARGUMENT","message":"* contents: required"}}';
      expect(provider.classifyFailure(gemini(), 400, {}, body)).toBeNull();
      expect(provider.classifyFailure(gemini(), 404, {}, '{"error":{"code":404}}')).toBeNull();
    });
  });
});
