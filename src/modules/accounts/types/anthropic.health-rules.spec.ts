import {
  anthropicHealthRules,
  anthropicUsageWindows,
  blockedReason,
  isBlockedResponse,
  parseRateLimitReset,
  rateLimitScope,
} from './anthropic.health-rules';

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const seconds = (ms: number): string => String(Math.floor(ms / 1000));

describe('anthropic health rules', () => {
  describe(parseRateLimitReset.name, () => {
    it('should read anthropic-ratelimit-unified-reset as epoch seconds when present', () => {
      const reset = NOW + 3 * 3600_000;
      expect(
        parseRateLimitReset(
          { 'anthropic-ratelimit-unified-reset': seconds(reset), 'retry-after': '5' },
          NOW,
        ),
      ).toBe(Math.floor(reset / 1000) * 1000);
    });

    it('should take the latest reset of the rejected unified windows when no top-level reset is given', () => {
      const fiveHour = NOW + 3600_000;
      const sevenDay = NOW + 2 * 86_400_000;
      const result = parseRateLimitReset(
        {
          'anthropic-ratelimit-unified-5h-status': 'rejected',
          'anthropic-ratelimit-unified-5h-reset': seconds(fiveHour),
          'anthropic-ratelimit-unified-7d-status': 'rejected',
          'anthropic-ratelimit-unified-7d-reset': seconds(sevenDay),
          'anthropic-ratelimit-unified-overage-status': 'allowed',
        },
        NOW,
      );
      expect(result).toBe(Math.floor(sevenDay / 1000) * 1000);
    });

    it('should ignore unified windows that are not rejected', () => {
      const result = parseRateLimitReset(
        {
          'anthropic-ratelimit-unified-7d-status': 'allowed',
          'anthropic-ratelimit-unified-7d-reset': seconds(NOW + 86_400_000),
          'retry-after': '30',
        },
        NOW,
      );
      expect(result).toBe(NOW + 30_000);
    });

    it('should read retry-after in seconds when it is a number', () => {
      expect(parseRateLimitReset({ 'retry-after': '12' }, NOW)).toBe(NOW + 12_000);
    });

    it('should read retry-after as an HTTP date when it is one', () => {
      const at = new Date(NOW + 90_000).toUTCString();
      expect(parseRateLimitReset({ 'retry-after': at }, NOW)).toBe(Date.parse(at));
    });

    it('should take the latest exhausted bucket reset when only the RFC 3339 headers are present', () => {
      const requests = new Date(NOW + 20_000).toISOString();
      const tokens = new Date(NOW + 50_000).toISOString();
      const input = new Date(NOW + 80_000).toISOString();
      const result = parseRateLimitReset(
        {
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': requests,
          'anthropic-ratelimit-tokens-remaining': '0',
          'anthropic-ratelimit-tokens-reset': tokens,
          // Not exhausted, so its later reset does not count.
          'anthropic-ratelimit-input-tokens-remaining': '1200',
          'anthropic-ratelimit-input-tokens-reset': input,
        },
        NOW,
      );
      expect(result).toBe(NOW + 50_000);
    });

    it('should take the latest bucket reset when no bucket says it is exhausted', () => {
      const result = parseRateLimitReset(
        {
          'anthropic-ratelimit-requests-reset': new Date(NOW + 20_000).toISOString(),
          'anthropic-ratelimit-output-tokens-reset': new Date(NOW + 40_000).toISOString(),
        },
        NOW,
      );
      expect(result).toBe(NOW + 40_000);
    });

    it('should fall through past times and return null when nothing is in the future', () => {
      expect(
        parseRateLimitReset(
          {
            'anthropic-ratelimit-unified-reset': seconds(NOW - 60_000),
            'retry-after': new Date(NOW - 1000).toUTCString(),
          },
          NOW,
        ),
      ).toBeNull();
    });

    it('should return null when the response names no reset', () => {
      expect(parseRateLimitReset({ 'content-type': 'application/json' }, NOW)).toBeNull();
      expect(parseRateLimitReset({ 'retry-after': 'soon' }, NOW)).toBeNull();
    });

    it('should accept array values and mixed-case names when a caller builds its own map', () => {
      expect(parseRateLimitReset({ 'Retry-After': ['7', '9'] }, NOW)).toBe(NOW + 7000);
    });
  });

  describe(rateLimitScope.name, () => {
    it('should scope to the model family when the representative claim is a family limit', () => {
      expect(
        rateLimitScope({ 'anthropic-ratelimit-unified-representative-claim': 'seven_day_opus' }),
      ).toBe('opus');
      expect(
        rateLimitScope({ 'anthropic-ratelimit-unified-representative-claim': 'seven_day_sonnet' }),
      ).toBe('sonnet');
    });

    it('should scope to the whole account when the claim is a shared window or absent', () => {
      expect(
        rateLimitScope({ 'anthropic-ratelimit-unified-representative-claim': 'five_hour' }),
      ).toBe('account');
      expect(rateLimitScope({})).toBe('account');
    });
  });

  describe(isBlockedResponse.name, () => {
    const anthropicError = (type: string, message: string): string =>
      JSON.stringify({ type: 'error', error: { type, message }, request_id: 'req_1' });

    it('should recognise a disabled organization when Anthropic answers 400', () => {
      expect(
        isBlockedResponse(
          400,
          anthropicError('invalid_request_error', 'This organization has been disabled.'),
        ),
      ).toBe(true);
    });

    it('should recognise a disabled organization when it comes as a 403 permission error', () => {
      expect(
        isBlockedResponse(
          403,
          anthropicError('permission_error', 'This organization has been disabled.'),
        ),
      ).toBe(true);
    });

    it('should recognise an organization barred from OAuth when the subscription answers 403', () => {
      expect(
        isBlockedResponse(
          403,
          anthropicError(
            'permission_error',
            'OAuth authentication is currently not allowed for this organization.',
          ),
        ),
      ).toBe(true);
    });

    it('should recognise a banned account when a 403 says so in plain text', () => {
      expect(isBlockedResponse(403, 'Your account has been suspended.')).toBe(true);
      expect(isBlockedResponse(403, anthropicError('permission_error', 'User is banned'))).toBe(
        true,
      );
    });

    it('should not treat ordinary refusals as blocked', () => {
      expect(
        isBlockedResponse(401, anthropicError('authentication_error', 'invalid x-api-key')),
      ).toBe(false);
      expect(
        isBlockedResponse(400, anthropicError('invalid_request_error', 'prompt is too long')),
      ).toBe(false);
      expect(
        isBlockedResponse(403, anthropicError('permission_error', 'model not allowed for key')),
      ).toBe(false);
    });

    it('should not count the word banned when the status is not 403', () => {
      expect(
        isBlockedResponse(
          400,
          anthropicError('invalid_request_error', 'messages.0: the word banned is here'),
        ),
      ).toBe(false);
    });

    it('should ignore blocked wording when the status cannot mean a refusal of the account', () => {
      expect(isBlockedResponse(500, 'This organization has been disabled.')).toBe(false);
      expect(isBlockedResponse(429, 'This organization has been disabled.')).toBe(false);
    });
  });

  describe(blockedReason.name, () => {
    it("should keep the upstream's message on one short line", () => {
      const body = JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'This organization\n has been disabled.' },
      });
      expect(blockedReason(body)).toBe('This organization has been disabled.');
      expect(blockedReason('x'.repeat(500))).toHaveLength(200);
    });
  });

  describe('anthropicHealthRules.isAuthFailed', () => {
    const error = (type: string, message: string): string =>
      JSON.stringify({ type: 'error', error: { type, message } });

    it('should count a 401 as an auth failure when the message does not say the account is disabled', () => {
      expect(
        anthropicHealthRules.isAuthFailed(
          401,
          error('authentication_error', 'OAuth token has expired.'),
        ),
      ).toBe(true);
    });

    it('should not count a 401 as an auth failure when the organization is disabled', () => {
      const body = error('authentication_error', 'This organization has been disabled.');
      expect(anthropicHealthRules.isBlocked(401, body)).toBe(true);
      expect(anthropicHealthRules.isAuthFailed(401, body)).toBe(false);
    });

    it('should not count other statuses as auth failures', () => {
      expect(anthropicHealthRules.isAuthFailed(403, error('permission_error', 'no'))).toBe(false);
    });
  });

  describe(anthropicUsageWindows.name, () => {
    it('should read the 5-hour and weekly utilisation as percentages with their resets', () => {
      const fiveHour = NOW + 3600_000;
      expect(
        anthropicUsageWindows({
          'anthropic-ratelimit-unified-5h-utilization': '0.4231',
          'anthropic-ratelimit-unified-5h-reset': seconds(fiveHour),
          'anthropic-ratelimit-unified-5h-status': 'allowed',
          'anthropic-ratelimit-unified-7d-utilization': '1',
          'anthropic-ratelimit-unified-7d-status': 'rejected',
        }),
      ).toEqual([
        {
          name: '5h',
          usedPercent: 42.31,
          resetsAt: Math.floor(fiveHour / 1000) * 1000,
          windowMinutes: 300,
        },
        { name: 'weekly', usedPercent: 100, resetsAt: null, windowMinutes: 10_080 },
      ]);
    });

    it('should report nothing for API-key responses, which carry no unified headers', () => {
      expect(
        anthropicUsageWindows({
          'anthropic-ratelimit-requests-remaining': '49',
          'anthropic-ratelimit-unified-5h-utilization': 'high',
        }),
      ).toBeNull();
    });
  });
});
