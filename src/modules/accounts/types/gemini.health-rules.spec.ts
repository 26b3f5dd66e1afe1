import {
  geminiHealthRules,
  geminiRateLimitScope,
  isGeminiAuthFailed,
  isGeminiBlockedResponse,
  nextPacificMidnight,
  parseGeminiRateLimitReset,
  parseGoogleDuration,
} from './gemini.health-rules';

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

describe('gemini health rules', () => {
  describe(parseGoogleDuration.name, () => {
    it('should read JSON durations and {seconds, nanos}, rounding up to ms', () => {
      expect(parseGoogleDuration('37s')).toBe(37_000);
      expect(parseGoogleDuration('0.0015s')).toBe(2);
      expect(parseGoogleDuration({ seconds: 3, nanos: 500_000_000 })).toBe(3500);
      expect(parseGoogleDuration('37')).toBeNull();
      expect(parseGoogleDuration(undefined)).toBeNull();
    });
  });

  describe(parseGeminiRateLimitReset.name, () => {
    it('should wait the RetryInfo delay of a per-minute quota', () => {
      const body = error(429, [
        quota('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'gemini-2.5-pro'),
        retry('37.5s'),
      ]);
      expect(parseGeminiRateLimitReset({}, NOW, body)).toBe(NOW + 37_500);
    });

    it('should wait until midnight Pacific time for a per-day quota, whatever the RetryInfo says', () => {
      const body = error(429, [
        quota('GenerateRequestsPerDayPerProjectPerModel-FreeTier', 'gemini-2.5-pro'),
        retry('20s'),
      ]);
      expect(parseGeminiRateLimitReset({}, NOW, body)).toBe(Date.parse('2026-07-02T07:00:00Z'));
    });

    it('should fall back to retry-after, then a minute for a per-minute quota, then nothing', () => {
      expect(parseGeminiRateLimitReset({ 'retry-after': '12' }, NOW, error(429, []))).toBe(
        NOW + 12_000,
      );
      const perMinute = error(429, [quota('GenerateContentInputTokensPerModelPerMinute')]);
      expect(parseGeminiRateLimitReset({}, NOW, perMinute)).toBe(NOW + 60_000);
      expect(parseGeminiRateLimitReset({}, NOW, '<html>busy</html>')).toBeNull();
      expect(parseGeminiRateLimitReset({}, NOW)).toBeNull();
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

  describe(geminiRateLimitScope.name, () => {
    it("should scope a per-model quota to the model's family and anything else to the account", () => {
      expect(
        geminiRateLimitScope({}, error(429, [quota('PerMinutePerModel', 'gemini-2.5-pro')])),
      ).toBe('model');
      expect(geminiRateLimitScope({}, error(429, [quota('GenerateRequestsPerMinute')]))).toBe(
        'account',
      );
      expect(geminiRateLimitScope({}, error(429, [retry('1s')]))).toBe('account');
      expect(geminiRateLimitScope({})).toBe('account');
    });
  });

  describe(isGeminiAuthFailed.name, () => {
    it('should read 401, 403 PERMISSION_DENIED and 400 API_KEY_INVALID as a refused key', () => {
      const invalid = error(
        400,
        [reason('API_KEY_INVALID')],
        'API key not valid. Please pass a valid API key.',
      );
      expect(isGeminiAuthFailed(400, invalid)).toBe(true);
      expect(
        isGeminiAuthFailed(400, error(400, [], 'API key expired. Please renew the API key.')),
      ).toBe(true);
      expect(isGeminiAuthFailed(401, '')).toBe(true);
      expect(isGeminiAuthFailed(403, error(403, [], 'The caller does not have permission'))).toBe(
        true,
      );
    });

    it('should leave a 400 about the request to the client', () => {
      expect(isGeminiAuthFailed(400, error(400, [], '* contents: contents is not specified'))).toBe(
        false,
      );
      expect(isGeminiAuthFailed(404, error(404, [], 'models/x is not found'))).toBe(false);
    });
  });

  describe(isGeminiBlockedResponse.name, () => {
    it('should read a suspended project, a disabled API or an unserved region as blocked', () => {
      expect(isGeminiBlockedResponse(403, error(403, [reason('CONSUMER_SUSPENDED')]))).toBe(true);
      expect(
        isGeminiBlockedResponse(
          403,
          error(403, [], 'Permission denied: Consumer has been suspended.'),
        ),
      ).toBe(true);
      expect(
        isGeminiBlockedResponse(
          400,
          error(400, [], 'User location is not supported for the API use.'),
        ),
      ).toBe(true);
      expect(isGeminiBlockedResponse(429, error(429, [reason('CONSUMER_SUSPENDED')]))).toBe(false);
      expect(isGeminiAuthFailed(403, error(403, [reason('CONSUMER_SUSPENDED')]))).toBe(false);
      expect(
        geminiHealthRules.blockedReason(error(403, [], 'Consumer  has\nbeen suspended.')),
      ).toBe('Consumer has been suspended.');
    });
  });
});
