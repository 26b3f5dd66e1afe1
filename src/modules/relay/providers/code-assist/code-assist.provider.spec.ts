import type { RoutableAccount } from 'src/modules/accounts/account.types';
import {
  GeminiUsageTap,
  geminiUsageFromBody,
} from 'src/modules/relay/providers/gemini/gemini-usage.tap';
import { CodeAssistProvider } from './code-assist.provider';

const account = {
  id: 'acc-1',
  type: 'gemini-oauth',
  baseUrl: 'https://cloudcode-pa.example',
  proxyUrl: null,
  credentials: {
    type: 'gemini-oauth',
    accessToken: 'ya29.token',
    refreshToken: '1//refresh',
    projectId: 'proj-of-account',
  },
} as unknown as RoutableAccount;

const provider = new CodeAssistProvider();

function quota(retryDelay?: string): string {
  return JSON.stringify({
    error: {
      code: 429,
      message: 'Resource has been exhausted',
      status: 'RESOURCE_EXHAUSTED',
      details:
        retryDelay === undefined
          ? []
          : [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }],
    },
  });
}

describe(CodeAssistProvider.name, () => {
  describe('endpoint', () => {
    it('should name the v1internal method of each operation, alt=sse for streams', () => {
      expect(provider.endpoint(account, 'code-assist', 'generate', 'm', false)).toEqual({
        path: '/v1internal:generateContent',
        query: '',
      });
      expect(provider.endpoint(account, 'code-assist', 'generate', 'm', true)).toEqual({
        path: '/v1internal:streamGenerateContent',
        query: 'alt=sse',
      });
      expect(provider.endpoint(account, 'code-assist', 'count_tokens', 'm', false).path).toBe(
        '/v1internal:countTokens',
      );
    });
  });

  describe('buildRequest', () => {
    it("should put the account's project in the body and its token in the header, dropping the client's", async () => {
      const request = await provider.buildRequest(account, {
        format: 'code-assist',
        endpoint: { path: '/v1internal:streamGenerateContent', query: 'alt=sse&alt=sse' },
        headers: { authorization: 'Bearer sk-sy-client-key', 'user-agent': 'GeminiCLI/0.61.0' },
        body: Buffer.from(
          JSON.stringify({ model: 'gemini-2.5-pro', project: 'client-proj', request: {} }),
        ),
      });
      expect(request.url).toBe(
        'https://cloudcode-pa.example/v1internal:streamGenerateContent?alt=sse',
      );
      expect(request.headers.authorization).toBe('Bearer ya29.token');
      expect(request.headers['user-agent']).toBe('GeminiCLI/0.61.0');
      expect(JSON.parse(String(request.body))).toEqual({
        model: 'gemini-2.5-pro',
        project: 'proj-of-account',
        request: {},
      });
    });

    it('should leave a countTokens body as it is (it names no project)', async () => {
      const body = Buffer.from('{"request":{"model":"models/x","contents":[]}}');
      const request = await provider.buildRequest(account, {
        format: 'code-assist',
        endpoint: { path: '/v1internal:countTokens', query: '' },
        headers: {},
        body,
      });
      expect(request.body).toBe(body);
    });
  });

  describe('classifyFailure', () => {
    it('should read a 429 RESOURCE_EXHAUSTED as rate limited until the RetryInfo delay', () => {
      const before = Date.now();
      const outcome = provider.classifyFailure(account, 429, {}, quota('42s'));
      expect(outcome).toMatchObject({ kind: 'rate_limited', scope: 'account' });
      const resetAt = (outcome as { resetAt: number }).resetAt;
      expect(resetAt).toBeGreaterThanOrEqual(before + 42_000);
      expect(resetAt).toBeLessThanOrEqual(Date.now() + 42_000);
    });

    it('should fall back to retry-after, and to no reset when neither is given', () => {
      const outcome = provider.classifyFailure(account, 429, { 'retry-after': '7' }, quota());
      expect((outcome as { resetAt: number }).resetAt).toBeGreaterThan(Date.now() + 6_000);
      expect(provider.classifyFailure(account, 429, {}, quota())).toMatchObject({
        kind: 'rate_limited',
        resetAt: null,
      });
    });

    it('should read 401 and a plain 403 as refused credentials, a disabled account as blocked', () => {
      expect(provider.classifyFailure(account, 401, {}, '{}')).toMatchObject({
        kind: 'auth_failed',
      });
      const denied = '{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}';
      expect(provider.classifyFailure(account, 403, {}, denied)).toMatchObject({
        kind: 'auth_failed',
      });
      const disabled = JSON.stringify({
        error: {
          code: 403,
          message: 'The account is disabled.',
          status: 'PERMISSION_DENIED',
          details: [
            { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'ACCOUNT_DISABLED' },
          ],
        },
      });
      expect(provider.classifyFailure(account, 403, {}, disabled)).toEqual({
        kind: 'blocked',
        message: 'The account is disabled.',
      });
    });

    it("should read 5xx as the upstream's trouble and pass a 400 to the client", () => {
      expect(provider.classifyFailure(account, 500, {}, '')).toMatchObject({
        kind: 'server_error',
      });
      expect(provider.classifyFailure(account, 503, {}, '')).toMatchObject({ kind: 'overloaded' });
      expect(provider.classifyFailure(account, 400, {}, '{}')).toBeNull();
    });
  });
});

describe(`${GeminiUsageTap.name} on Code Assist's envelope`, () => {
  const events = [
    {
      response: {
        candidates: [{ content: { parts: [{ text: 'a' }] } }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1 },
      },
    },
    {
      response: {
        candidates: [{ content: { parts: [{ text: 'b' }] }, finishReason: 'STOP' }],
        usageMetadata: {
          promptTokenCount: 10,
          cachedContentTokenCount: 4,
          candidatesTokenCount: 2,
          thoughtsTokenCount: 3,
        },
      },
    },
  ];
  const sse = Buffer.from(events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`).join(''));

  it('should read the last cumulative usageMetadata, cached and thought tokens split out', () => {
    for (let split = 1; split < sse.length; split += 7) {
      const tap = new GeminiUsageTap({ inResponse: true });
      tap.push(sse.subarray(0, split));
      tap.push(sse.subarray(split));
      tap.end();
      expect(tap.usage).toMatchObject({ inputTokens: 6, cacheReadTokens: 4, outputTokens: 5 });
      expect(tap.complete).toBe(true);
      expect(tap.sawError).toBe(false);
    }
  });

  it('should see a stream cut before a finishReason as incomplete, and an error event', () => {
    const tap = new GeminiUsageTap({ inResponse: true });
    tap.push(Buffer.from(`data: ${JSON.stringify(events[0])}\n\ndata: {"error":{"code":500}}\n\n`));
    tap.end();
    expect(tap.complete).toBe(false);
    expect(tap.sawError).toBe(true);
    expect(tap.usage.inputTokens).toBe(10);
  });

  it('should read the usage of a non-stream body', () => {
    expect(
      geminiUsageFromBody(Buffer.from(JSON.stringify(events[1])), { inResponse: true }),
    ).toMatchObject({
      inputTokens: 6,
      cacheReadTokens: 4,
      outputTokens: 5,
    });
    expect(geminiUsageFromBody(Buffer.from('not json'), { inResponse: true }).inputTokens).toBe(0);
  });
});
