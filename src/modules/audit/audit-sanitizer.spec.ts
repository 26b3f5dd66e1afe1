import { isSecretField, maskSecretText, REDACTED, sanitize } from './audit-sanitizer';

describe('sanitize', () => {
  describe('isSecretField', () => {
    it.each([
      'password',
      'newPassword',
      'secret',
      'clientSecret',
      'client_secret',
      'token',
      'accessToken',
      'refreshToken',
      'idToken',
      'apiKey',
      'api_key',
      'x-api-key',
      'privateKey',
      'private_key',
      'credentials',
      'bindCredentials',
      'authorization',
      'Cookie',
      'keyDigest',
      'passwordHash',
      'secretAccessKey',
      'sessionToken',
      'serviceAccountJson_privateKey',
    ])('should call %s secret', (name) => {
      expect(isSecretField(name)).toBe(true);
    });

    it.each([
      'id',
      'name',
      'apiKeyId',
      'keyHint',
      'apiKeyHint',
      'accessTokenHint',
      'maxTokens',
      'windowTokens',
      'inputTokens',
      'tokenVersion',
      'key',
      'model',
      'targetModel',
      'baseUrl',
    ])('should not call %s secret', (name) => {
      expect(isSecretField(name)).toBe(false);
    });
  });

  describe('sanitize', () => {
    it('should redact secret fields at any depth and keep the rest', () => {
      const input = {
        id: 'a1',
        name: 'main',
        credentials: { apiKey: 'sk-ant-api03-verysecretvalue-0123456789' },
        nested: [{ deeper: { clientSecret: 'shh', note: 'fine' } }],
        limits: { windowTokens: 1000 },
      };
      expect(sanitize(input)).toEqual({
        id: 'a1',
        name: 'main',
        credentials: REDACTED,
        nested: [{ deeper: { clientSecret: REDACTED, note: 'fine' } }],
        limits: { windowTokens: 1000 },
      });
    });

    it('should keep null and booleans of secret-named fields (they tell no secret)', () => {
      expect(sanitize({ refreshToken: null, hasRefreshToken: true, password: '' })).toEqual({
        refreshToken: null,
        hasRefreshToken: true,
        password: REDACTED,
      });
    });

    it('should mask credentials found inside other strings', () => {
      const out = sanitize({
        proxy: 'http://bob:hunter2@proxy.local:8080',
        note: 'use Bearer abcdefghijklmnop1234 or sk-sy-0123456789abcdefABCDEF',
        text: 'see eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlX2hlcmU',
      }) as Record<string, string>;
      expect(out.proxy).toBe(`http://bob:${REDACTED}@proxy.local:8080`);
      expect(out.note).toBe(`use Bearer ${REDACTED} or ${REDACTED}`);
      expect(out.text).toBe(`see ${REDACTED}`);
    });

    it('should survive cycles, dates, bigint and functions', () => {
      const cyclic: Record<string, unknown> = { at: new Date(0), n: 10n, f: () => 1 };
      cyclic.self = cyclic;
      expect(sanitize(cyclic)).toEqual({ at: '1970-01-01T00:00:00.000Z', n: '10', self: '[…]' });
    });
  });

  describe('maskSecretText', () => {
    it('should mask a PEM private key', () => {
      const pem = '-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----';
      expect(maskSecretText(`key: ${pem}`)).toBe(`key: ${REDACTED}`);
    });
    it('should leave ordinary text alone', () => {
      expect(maskSecretText('claude-sonnet-4-5 at https://api.anthropic.com')).toBe(
        'claude-sonnet-4-5 at https://api.anthropic.com',
      );
    });
  });
});
