import { describeCredentials, maskProxyUrl, maskSecret } from './account-masking';

describe('account masking', () => {
  describe(maskSecret.name, () => {
    it('should keep a prefix and the last four characters when the secret is long', () => {
      expect(maskSecret('sk-ant-api03-abcdefghijklmnopqrstuvwxyz-wxyz')).toBe('sk-ant-…wxyz');
    });

    it('should mask everything when the secret is short', () => {
      expect(maskSecret('short-key-123')).toBe('****');
    });
  });

  describe(maskProxyUrl.name, () => {
    it('should mask the password and keep user, host and port when the proxy has credentials', () => {
      expect(maskProxyUrl('socks5://bob:s3cr3t@proxy.example:1080')).toBe(
        'socks5://bob:****@proxy.example:1080',
      );
    });

    it('should show the URL unchanged when it carries no password', () => {
      expect(maskProxyUrl('http://proxy.example:8080')).toBe('http://proxy.example:8080');
    });
  });

  describe(describeCredentials.name, () => {
    it('should show hints and flags but never the secrets when describing OAuth tokens', () => {
      const summary = describeCredentials({
        type: 'claude-oauth',
        accessToken: 'sk-ant-oat01-ACCESS-TOKEN-SECRET-1234',
        refreshToken: 'sk-ant-ort01-REFRESH-TOKEN-SECRET-5678',
        expiresAt: Date.parse('2030-01-01T00:00:00.000Z'),
      });
      expect(summary).toEqual({
        type: 'claude-oauth',
        readable: true,
        accessTokenHint: 'sk-ant-…1234',
        hasRefreshToken: true,
        expiresAt: '2030-01-01T00:00:00.000Z',
      });
      expect(JSON.stringify(summary)).not.toContain('SECRET');
    });

    it('should default the auth scheme to x-api-key when describing an API key', () => {
      expect(describeCredentials({ type: 'ccr', apiKey: 'cr_0123456789abcdefghijklmn' })).toEqual({
        type: 'ccr',
        readable: true,
        apiKeyHint: 'cr_0123…klmn',
        authScheme: 'x-api-key',
      });
    });
  });
});
