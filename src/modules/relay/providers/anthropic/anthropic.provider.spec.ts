import { AnthropicProvider, OAUTH_BETA } from './anthropic.provider';
import { routableAccount } from '../../../../../test/factories/account.factory';

const account = (overrides: Parameters<typeof routableAccount>[0]) =>
  routableAccount({ id: 'a1', ...overrides });

describe(AnthropicProvider.name, () => {
  const provider = new AnthropicProvider();
  const body = Buffer.from('{"model":"m"}');

  describe('buildRequest', () => {
    it('should send an OAuth account as a bearer token and merge the OAuth beta flag', async () => {
      const request = await provider.buildRequest(
        account({
          type: 'claude-oauth',
          credentials: { type: 'claude-oauth', accessToken: 'oat-1' },
        }),
        {
          format: 'anthropic-messages',
          endpoint: { path: '/v1/messages', query: 'beta=true' },
          headers: { 'x-api-key': 'sk-sy-client', 'anthropic-beta': 'claude-code-20250219' },
          body,
        },
      );
      expect(request.url).toBe('https://upstream.example/v1/messages?beta=true');
      expect(request.headers.authorization).toBe('Bearer oat-1');
      expect(request.headers['x-api-key']).toBeUndefined();
      expect(request.headers['anthropic-beta']).toBe(`claude-code-20250219,${OAUTH_BETA}`);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
      expect(request.body).toBe(body);
    });

    it('should not duplicate the OAuth beta flag when the client already sent it', async () => {
      const request = await provider.buildRequest(
        account({
          type: 'claude-oauth',
          credentials: { type: 'claude-oauth', accessToken: 'oat-1' },
        }),
        {
          format: 'anthropic-messages',
          endpoint: { path: '/v1/messages', query: '' },
          headers: { 'anthropic-beta': `${OAUTH_BETA}` },
          body,
        },
      );
      expect(request.headers['anthropic-beta']).toBe(OAUTH_BETA);
    });

    it('should send a console key as x-api-key, or bearer when the account says so', async () => {
      const plain = await provider.buildRequest(account({}), {
        format: 'anthropic-messages',
        endpoint: { path: '/v1/messages', query: '' },
        headers: { authorization: 'Bearer sk-sy-client' },
        body,
      });
      expect(plain.headers['x-api-key']).toBe('sk-ant-console');
      expect(plain.headers.authorization).toBeUndefined();
      const bearer = await provider.buildRequest(
        account({
          type: 'ccr',
          credentials: { type: 'ccr', apiKey: 'relay-key', authScheme: 'bearer' },
          proxyUrl: 'socks5://p:1',
        }),
        {
          format: 'anthropic-messages',
          endpoint: { path: '/v1/messages', query: '' },
          headers: {},
          body,
        },
      );
      expect(bearer.headers.authorization).toBe('Bearer relay-key');
      expect(bearer.proxyUrl).toBe('socks5://p:1');
    });

    it("should forward what Claude Code and the SDK send and nothing of the client's infrastructure", async () => {
      const claudeCode = {
        accept: 'application/json',
        'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14',
        'anthropic-dangerous-direct-browser-access': 'true',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'user-agent': 'claude-cli/2.1.69 (external, cli)',
        'x-app': 'cli',
        'x-claude-code-session-id': '0b7e7f3a-1111-4222-8333-944445555666',
        'x-client-request-id': '6c1d2e3f-aaaa-4bbb-8ccc-dddd0000eeee',
        'x-stainless-arch': 'x64',
        'x-stainless-helper-method': 'stream',
        'x-stainless-lang': 'js',
        'x-stainless-os': 'Linux',
        'x-stainless-package-version': '0.74.0',
        'x-stainless-retry-count': '0',
        'x-stainless-runtime': 'node',
        'x-stainless-runtime-version': 'v22.16.0',
        'x-stainless-timeout': '600',
      };
      const request = await provider.buildRequest(account({}), {
        format: 'anthropic-messages',
        endpoint: { path: '/v1/messages', query: '' },
        headers: {
          ...claudeCode,
          'x-api-key': 'sk-sy-client',
          expect: '100-continue',
          'cf-connecting-ip': '203.0.113.9',
          'true-client-ip': '203.0.113.9',
          'x-forwarded-for': '203.0.113.9',
          'x-real-ip': '203.0.113.9',
          'x-foo': 'bar',
          'accept-language': '*',
          'sec-fetch-mode': 'cors',
          'accept-encoding': 'gzip, br',
        },
        body,
      });
      expect(request.headers).toEqual({
        ...claudeCode,
        'x-api-key': 'sk-ant-console',
        'accept-encoding': 'identity',
      });
    });
  });

  describe('classifyFailure', () => {
    const acct = account({});
    it('should fail over on 429, 529, 5xx and 401 and pass client errors through', async () => {
      expect(provider.classifyFailure(acct, 429, { 'retry-after': '7' }, '')).toMatchObject({
        kind: 'rate_limited',
        scope: 'account',
      });
      expect(provider.classifyFailure(acct, 529, {}, '')).toEqual({
        kind: 'overloaded',
        status: 529,
      });
      expect(provider.classifyFailure(acct, 503, {}, '')).toEqual({
        kind: 'server_error',
        status: 503,
      });
      expect(provider.classifyFailure(acct, 401, {}, '')).toEqual({
        kind: 'auth_failed',
        status: 401,
      });
      expect(provider.classifyFailure(acct, 400, {}, '{"type":"error"}')).toBeNull();
    });

    it('should call a disabled organization blocked, even when it answers 401', async () => {
      const body =
        '{"type":"error","error":{"type":"permission_error","message":"This organization has been disabled."}}';
      expect(provider.classifyFailure(acct, 403, {}, body)).toMatchObject({ kind: 'blocked' });
    });
  });
});
