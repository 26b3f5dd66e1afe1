import { geminiOAuthHealthRules } from './gemini-oauth.health-rules';
import {
  googleRateLimitReset,
  googleRateLimitScope,
  googleRetryDelayMs,
  nextPacificMidnight,
  parseGoogleDuration,
} from './google-error-body';

const NOW = Date.parse('2026-07-01T12:00:00.000Z'); // 05:00 in Los Angeles (PDT)

function error(status: number, details: unknown[], message = 'quota'): string {
  return JSON.stringify({ error: { code: status, message, status: 'X', details } });
}

const retry = (delay: string) => ({
  '@type': 'type.googleapis.com/google.rpc.RetryInfo',
  retryDelay: delay,
});
const quota = (quotaId: string, model?: string) => ({
  '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
  violations: [
    {
      quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
      quotaId,
      ...(model === undefined ? {} : { quotaDimensions: { location: 'global', model } }),
      quotaValue: '2',
    },
  ],
});
const reason = (r: string) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: r,
  domain: 'googleapis.com',
});

describe('google error bodies', () => {
  describe(parseGoogleDuration.name, () => {
    it('should read JSON durations and {seconds, nanos}, rounding up to ms', () => {
      expect(parseGoogleDuration('37s')).toBe(37_000);
      expect(parseGoogleDuration('0.0015s')).toBe(2);
      expect(parseGoogleDuration({ seconds: 3, nanos: 500_000_000 })).toBe(3500);
      expect(parseGoogleDuration('37')).toBeNull();
      expect(parseGoogleDuration(undefined)).toBeNull();
    });
  });

  describe(googleRateLimitReset.name, () => {
    it('should wait the RetryInfo delay of a per-minute quota', () => {
      const body = error(429, [
        quota('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'gemini-2.5-pro'),
        retry('37.5s'),
      ]);
      expect(googleRateLimitReset({}, NOW, body)).toBe(NOW + 37_500);
    });

    it('should wait until midnight Pacific time for a per-day quota, whatever the RetryInfo says', () => {
      const body = error(429, [
        quota('GenerateRequestsPerDayPerProjectPerModel-FreeTier', 'gemini-2.5-pro'),
        retry('20s'),
      ]);
      expect(googleRateLimitReset({}, NOW, body)).toBe(Date.parse('2026-07-02T07:00:00Z'));
    });

    it('should fall back to retry-after, then a minute for a per-minute quota, then nothing', () => {
      expect(googleRateLimitReset({ 'retry-after': '12' }, NOW, error(429, []))).toBe(NOW + 12_000);
      const perMinute = error(429, [quota('GenerateContentInputTokensPerModelPerMinute')]);
      expect(googleRateLimitReset({}, NOW, perMinute)).toBe(NOW + 60_000);
      expect(googleRateLimitReset({}, NOW, '<html>busy</html>')).toBeNull();
      expect(googleRateLimitReset({}, NOW)).toBeNull();
    });
  });

  describe(nextPacificMidnight.name, () => {
    it('should follow daylight saving time', () => {
      expect(nextPacificMidnight(Date.parse('2026-01-15T20:30:00Z'))).toBe(
        Date.parse('2026-01-16T08:00:00Z'),
      );
      expect(nextPacificMidnight(Date.parse('2026-07-01T06:59:59Z'))).toBe(
        Date.parse('2026-07-01T07:00:00Z'),
      );
    });
  });

  describe(googleRateLimitScope.name, () => {
    it("should scope a per-model quota to the model's family and anything else to the account", () => {
      expect(
        googleRateLimitScope({}, error(429, [quota('PerMinutePerModel', 'gemini-2.5-pro')])),
      ).toBe('model');
      expect(googleRateLimitScope({}, error(429, [quota('GenerateRequestsPerMinute')]))).toBe(
        'account',
      );
      expect(googleRateLimitScope({}, error(429, [retry('1s')]))).toBe('account');
      expect(googleRateLimitScope({})).toBe('account');
    });
  });

  describe(googleRetryDelayMs.name, () => {
    it('should read the RetryInfo of an error streamed as a one-element JSON array', () => {
      expect(googleRetryDelayMs(`[${error(429, [retry('12s')])}]`)).toBe(12_000);
      expect(googleRetryDelayMs('[]')).toBeNull();
    });
  });

  describe('gemini-oauth rules', () => {
    it('should read a Code Assist 429 as the Gemini API does: per-day quota, per-model scope', () => {
      const perDay = error(429, [
        quota('GenerateRequestsPerDayPerProjectPerModel', 'gemini-2.5-pro'),
        retry('20s'),
      ]);
      expect(geminiOAuthHealthRules.rateLimitReset({}, NOW, perDay)).toBe(
        Date.parse('2026-07-02T07:00:00Z'),
      );
      expect(geminiOAuthHealthRules.rateLimitScope({}, perDay)).toBe('model');
      const perMinute = error(429, [retry('37s')]);
      expect(geminiOAuthHealthRules.rateLimitReset({}, NOW, perMinute)).toBe(NOW + 37_000);
      expect(geminiOAuthHealthRules.rateLimitScope({}, perMinute)).toBe('account');
    });

    it('should read a disabled Google account as blocked and other 401/403s as refused credentials', () => {
      const disabled = error(403, [reason('ACCOUNT_DISABLED')], 'The  account\nis disabled.');
      expect(geminiOAuthHealthRules.isBlocked(403, disabled)).toBe(true);
      expect(geminiOAuthHealthRules.blockedReason(disabled)).toBe('The account is disabled.');
      expect(geminiOAuthHealthRules.isBlocked(403, error(403, []))).toBe(false);
      expect(geminiOAuthHealthRules.isAuthFailed(403, error(403, []))).toBe(true);
      expect(geminiOAuthHealthRules.isAuthFailed(401, '')).toBe(true);
      expect(geminiOAuthHealthRules.isAuthFailed(400, error(400, []))).toBe(false);
    });
  });
});
