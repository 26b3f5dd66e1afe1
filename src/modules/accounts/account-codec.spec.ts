import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { SecretBox } from 'src/infra/crypto/secret-box';
import type { AccountCredentials } from './account.types';
import { AccountCodec, UNKNOWN_TYPE_REASON } from './account-codec';
import type { AccountRecord } from './accounts.repository';

const KEY = 'account-codec-spec-encryption-key-0123456789';

function codec(env: Partial<EnvironmentSchema> = {}): AccountCodec {
  return new AccountCodec(
    new SecretBox(KEY),
    new ConfigService(Object.assign(new EnvironmentSchema(), env)),
  );
}

function record(
  subject: AccountCodec,
  type: string,
  credentials: Record<string, unknown>,
  baseUrl: string | null = null,
): AccountRecord {
  return {
    id: 'acc-1',
    name: 'acc',
    platform: 'claude',
    type,
    base_url: baseUrl,
    priority: 50,
    weight: 1,
    enabled: 1,
    schedulable: 1,
    models: null,
    credentials: subject.sealCredentials('acc-1', credentials as unknown as AccountCredentials),
    proxy: null,
    concurrency_limit: null,
    subscription: null,
    status: 'active',
    status_reason: null,
    last_used_at: null,
    created_at: 1,
    updated_at: 1,
  };
}

describe(AccountCodec.name, () => {
  describe('defaultBaseUrl', () => {
    it("should read the setting the type's descriptor names, without a trailing slash", () => {
      const subject = codec({ ANTHROPIC_BASE_URL: 'http://mirror.internal:8080/' });
      expect(subject.defaultBaseUrl('claude-oauth')).toBe('http://mirror.internal:8080');
      expect(subject.defaultBaseUrl('claude-console')).toBe('http://mirror.internal:8080');
    });

    it('should answer null when the type has no default upstream', () => {
      expect(codec().defaultBaseUrl('ccr')).toBeNull();
      expect(codec().effectiveBaseUrl('ccr', 'https://relay.example/api/')).toBe(
        'https://relay.example/api',
      );
    });
  });

  describe('toRoutable', () => {
    it('should open the credentials with the parser of the account type', () => {
      const subject = codec();
      const account = subject.toRoutable(
        record(subject, 'claude-oauth', { type: 'claude-oauth', accessToken: 'at-1' }),
        [],
      );
      expect(account).toMatchObject({
        type: 'claude-oauth',
        status: 'active',
        baseUrl: 'https://api.anthropic.com',
        credentials: { type: 'claude-oauth', accessToken: 'at-1' },
      });
    });

    it('should keep an account of an unknown type out of routing and never read it as another type', () => {
      const subject = codec();
      const account = subject.toRoutable(
        record(subject, 'openai-platform', { type: 'openai-platform', apiKey: 'sk-openai-0123' }),
        [],
      );
      expect(account.status).toBe('blocked');
      expect(account.statusReason).toBe(`${UNKNOWN_TYPE_REASON} "openai-platform"`);
      expect(AccountCodec.isUnknownType(account)).toBe(true);
      expect(JSON.stringify(account.credentials)).not.toContain('sk-openai');
    });

    it('should mark unreadable credentials with placeholders of the type that are never usable', () => {
      const subject = codec();
      const stored = record(subject, 'claude-console', { type: 'claude-console', apiKey: 'k' });
      stored.credentials = 'not-a-ciphertext';
      const account = subject.toRoutable(stored, []);
      expect(account.status).toBe('auth_failed');
      expect(AccountCodec.isUnreadable(account)).toBe(true);
      expect(account.credentials).toEqual({ type: 'claude-console', apiKey: '' });
    });
  });
});
