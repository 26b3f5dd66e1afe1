import { droidDescriptor } from './droid';
import {
  DROID_CREDITS_COOLDOWN_MS,
  droidHealthRules,
  isDroidCreditsExhausted,
} from './droid.health-rules';

const NOW = 1_767_225_600_000;

describe('droidHealthRules', () => {
  describe('rateLimitReset', () => {
    it('should read retry-after in seconds', () => {
      expect(droidHealthRules.rateLimitReset({ 'retry-after': '30' }, NOW)).toBe(NOW + 30_000);
    });

    it('should rest an hour when a 429 says the credits ran out and names no reset', () => {
      const body = '{"error":{"message":"Insufficient credits for this organization"}}';
      expect(droidHealthRules.rateLimitReset({}, NOW, body)).toBe(NOW + DROID_CREDITS_COOLDOWN_MS);
    });

    it('should answer null for a plain 429 without retry-after (the scheduler’s default)', () => {
      expect(droidHealthRules.rateLimitReset({}, NOW, '{"error":"Too many requests"}')).toBeNull();
    });
  });

  describe('isAuthFailed', () => {
    it('should treat 401 and 403 as refused credentials', () => {
      expect(droidHealthRules.isAuthFailed(401, 'Unauthorized')).toBe(true);
      expect(droidHealthRules.isAuthFailed(403, 'Forbidden')).toBe(true);
    });

    it('should not call a 403 about exhausted credits an auth failure', () => {
      expect(
        droidHealthRules.isAuthFailed(403, 'Token quota exceeded for this billing period'),
      ).toBe(false);
    });

    it('should leave other statuses to the client', () => {
      expect(droidHealthRules.isAuthFailed(400, 'bad')).toBe(false);
    });
  });

  describe(isDroidCreditsExhausted.name, () => {
    it('should read 402 as credits exhausted whatever the body', () => {
      expect(isDroidCreditsExhausted(402, '')).toBe(true);
    });

    it('should read 429 and 403 by their words only', () => {
      expect(isDroidCreditsExhausted(429, 'rate limit exceeded')).toBe(false);
      expect(isDroidCreditsExhausted(429, 'monthly token allowance used up')).toBe(true);
      expect(isDroidCreditsExhausted(403, 'insufficient credits')).toBe(true);
      expect(isDroidCreditsExhausted(500, 'insufficient credits')).toBe(false);
    });
  });

  it('should never block an account (credits come back; keys are refused as auth failures)', () => {
    expect(droidHealthRules.isBlocked(403, 'insufficient credits')).toBe(false);
    expect(droidHealthRules.rateLimitScope({})).toBe('account');
  });
});

describe('droidDescriptor', () => {
  it('should parse an API key with an optional User-Agent and show only a hint', () => {
    const credentials = droidDescriptor.parseCredentials({
      apiKey: 'fk-0123456789abcdefghijklmnop',
    });
    expect(credentials).toEqual({ type: 'droid', apiKey: 'fk-0123456789abcdefghijklmnop' });
    const summary = droidDescriptor.describeCredentials(credentials);
    expect(summary).toMatchObject({ type: 'droid', userAgent: null });
    expect(JSON.stringify(summary)).not.toContain('0123456789abcdefghijklmnop');
  });

  it('should test an account through the Anthropic endpoint', () => {
    expect(droidDescriptor.testRequest.build('claude-sonnet-4-5')).toMatchObject({
      path: '/a/v1/messages',
      body: { model: 'claude-sonnet-4-5', max_tokens: 1 },
    });
  });
});
