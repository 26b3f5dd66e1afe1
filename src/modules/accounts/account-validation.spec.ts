import { AccountsException, AccountsExceptionCode } from './accounts.exception';
import {
  mergeCredentials,
  parseBaseUrl,
  parseCredentials,
  parseModels,
  parseProxyUrl,
  parseSubscription,
} from './account-validation';

function codeOf(fn: () => unknown): AccountsExceptionCode | 'none' {
  try {
    fn();
    return 'none';
  } catch (error) {
    if (error instanceof AccountsException) return error.code;
    throw error;
  }
}

const KEY = 'sk-ant-api03-0123456789abcdef';

describe('account validation', () => {
  describe(parseCredentials.name, () => {
    it('should accept an API key and an auth scheme when the type is claude-console', () => {
      expect(
        parseCredentials('claude-console', { apiKey: ` ${KEY} `, authScheme: 'bearer' }),
      ).toEqual({ type: 'claude-console', apiKey: KEY, authScheme: 'bearer' });
    });

    it('should accept tokens with an ISO expiry and store it as epoch ms when the type is claude-oauth', () => {
      expect(
        parseCredentials('claude-oauth', {
          accessToken: 'at-123',
          refreshToken: 'rt-456',
          expiresAt: '2030-01-01T00:00:00Z',
        }),
      ).toEqual({
        type: 'claude-oauth',
        accessToken: 'at-123',
        refreshToken: 'rt-456',
        expiresAt: Date.parse('2030-01-01T00:00:00Z'),
      });
    });

    it('should refuse fields of another type with a message naming them', () => {
      expect(() => parseCredentials('ccr', { apiKey: KEY, accessToken: 'x' })).toThrow(
        /unexpected: accessToken/,
      );
    });

    it('should refuse a missing or blank secret', () => {
      expect(codeOf(() => parseCredentials('claude-console', {}))).toBe(
        AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE,
      );
      expect(codeOf(() => parseCredentials('claude-oauth', { accessToken: '  ' }))).toBe(
        AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE,
      );
    });

    it('should refuse whitespace inside a secret without echoing the secret', () => {
      expect(() => parseCredentials('ccr', { apiKey: 'sk-ant secret' })).toThrow(
        'credentials.apiKey must not contain whitespace or control characters',
      );
    });

    it('should refuse a type field that contradicts the account type', () => {
      expect(() => parseCredentials('ccr', { type: 'claude-oauth', apiKey: KEY })).toThrow(
        /must be ccr/,
      );
    });

    it('should refuse an expiry that is not a date or epoch milliseconds', () => {
      expect(() =>
        parseCredentials('claude-oauth', { accessToken: 'a', expiresAt: 1_700_000_000 }),
      ).toThrow(/epoch milliseconds/);
    });

    it('should refuse an unknown auth scheme', () => {
      expect(() => parseCredentials('ccr', { apiKey: KEY, authScheme: 'basic' })).toThrow(
        /authScheme/,
      );
    });
  });

  describe(mergeCredentials.name, () => {
    it('should keep stored fields and drop those set to null when merging a patch', () => {
      const stored = {
        type: 'claude-oauth' as const,
        accessToken: 'old',
        refreshToken: 'rt',
        expiresAt: 2_000_000_000_000,
      };
      expect(
        mergeCredentials('claude-oauth', stored, { accessToken: 'new', expiresAt: null }),
      ).toEqual({ type: 'claude-oauth', accessToken: 'new', refreshToken: 'rt' });
    });

    it('should demand complete credentials when the stored ones cannot be read', () => {
      expect(codeOf(() => mergeCredentials('claude-oauth', null, { refreshToken: 'rt' }))).toBe(
        AccountsExceptionCode.CREDENTIALS_UNREADABLE,
      );
      expect(mergeCredentials('ccr', null, { apiKey: KEY })).toEqual({ type: 'ccr', apiKey: KEY });
    });
  });

  describe(parseProxyUrl.name, () => {
    it('should accept http, https and socks5 proxies with credentials', () => {
      expect(parseProxyUrl('socks5://user:p%40ss@10.0.0.1:1080')).toBe(
        'socks5://user:p%40ss@10.0.0.1:1080',
      );
      expect(parseProxyUrl('http://proxy.example:3128/')).toBe('http://proxy.example:3128');
      expect(parseProxyUrl('https://u@proxy.example')).toBe('https://u@proxy.example');
    });

    it('should treat empty values as no proxy', () => {
      expect(parseProxyUrl(null)).toBeNull();
      expect(parseProxyUrl('')).toBeNull();
    });

    it('should refuse other schemes, paths and malformed URLs', () => {
      for (const bad of [
        'socks4://h:1080',
        'ftp://h',
        'http://h:8080/path',
        'not a url',
        'http://:pw@h',
      ]) {
        expect(codeOf(() => parseProxyUrl(bad))).toBe(AccountsExceptionCode.INVALID_PROXY);
      }
    });
  });

  describe(parseModels.name, () => {
    it('should accept null, a de-duplicated list and a mapping', () => {
      expect(parseModels(null)).toBeNull();
      expect(parseModels(['a', 'a', 'b-*'])).toEqual(['a', 'b-*']);
      expect(parseModels({ 'claude-x': 'upstream-x' })).toEqual({ 'claude-x': 'upstream-x' });
    });

    it('should refuse empty lists, blank names, wildcard keys and other shapes', () => {
      for (const bad of [[], [''], {}, { 'a-*': 'b' }, { a: '' }, 'claude', 42, ['has space']]) {
        expect(codeOf(() => parseModels(bad))).toBe(AccountsExceptionCode.INVALID_MODELS);
      }
    });
  });

  describe(parseBaseUrl.name, () => {
    it('should normalise trailing slashes and keep a path prefix', () => {
      expect(parseBaseUrl('https://relay.example/api/')).toBe('https://relay.example/api');
      expect(parseBaseUrl('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
      expect(parseBaseUrl(null)).toBeNull();
    });

    it('should refuse credentials in the URL and non-http schemes', () => {
      expect(codeOf(() => parseBaseUrl('https://user:pw@relay.example'))).toBe(
        AccountsExceptionCode.INVALID_BASE_URL,
      );
      expect(codeOf(() => parseBaseUrl('ws://relay.example'))).toBe(
        AccountsExceptionCode.INVALID_BASE_URL,
      );
    });
  });

  describe(parseSubscription.name, () => {
    it('should accept subscription facts for OAuth accounts only', () => {
      expect(
        parseSubscription('claude-oauth', { plan: 'max', scopes: ['user:inference'] }),
      ).toEqual({
        plan: 'max',
        scopes: ['user:inference'],
      });
      expect(codeOf(() => parseSubscription('ccr', { plan: 'max' }))).toBe(
        AccountsExceptionCode.INVALID_SUBSCRIPTION,
      );
      expect(codeOf(() => parseSubscription('claude-oauth', { tier: 'x' }))).toBe(
        AccountsExceptionCode.INVALID_SUBSCRIPTION,
      );
    });
  });
});
