import {
  codexUsageWindows,
  isOpenAIBlockedResponse,
  openAIBlockedReason,
  openAIHealthRules,
  parseGoDuration,
  parseOpenAIRateLimitReset,
} from './openai.health-rules';

const NOW = Date.parse('2025-09-01T12:00:00.000Z');
const epochSeconds = (ms: number): number => Math.floor(ms / 1000);

describe('OpenAI-family health rules', () => {
  describe(parseGoDuration.name, () => {
    it.each([
      ['1s', 1000],
      ['6m0s', 360_000],
      ['20ms', 20],
      ['1h2m3s', 3_723_000],
      ['2.862s', 2862],
      ['17.5ms', 18],
      ['1.5us', 1],
      ['0s', 0],
    ])('should read %s as %d ms', (text, ms) => {
      expect(parseGoDuration(text)).toBe(ms);
    });

    it.each(['', '5', 's', '1 s', '1d', '-1s', '1s2', 'abc'])(
      'should refuse %j, which is no Go duration',
      (text) => {
        expect(parseGoDuration(text)).toBeNull();
      },
    );
  });

  describe(parseOpenAIRateLimitReset.name, () => {
    it("should read a Codex usage-limit error's resets_at (epoch seconds) from the body", () => {
      const resetsAt = epochSeconds(NOW + 3 * 3600_000);
      const body = JSON.stringify({
        error: {
          type: 'usage_limit_reached',
          message: 'The usage limit has been reached',
          plan_type: 'plus',
          resets_at: resetsAt,
        },
      });
      expect(parseOpenAIRateLimitReset({ 'retry-after': '5' }, NOW, body)).toBe(resetsAt * 1000);
    });

    it('should read resets_in_seconds when an older backend sends it', () => {
      const body = JSON.stringify({
        error: { type: 'usage_limit_reached', message: 'limit', resets_in_seconds: 3600 },
      });
      expect(parseOpenAIRateLimitReset({}, NOW, body)).toBe(NOW + 3600_000);
    });

    it('should ignore the body when it is another error, or no JSON', () => {
      const other = JSON.stringify({ error: { type: 'rate_limit_exceeded', resets_at: 1 } });
      expect(parseOpenAIRateLimitReset({ 'retry-after': '7' }, NOW, other)).toBe(NOW + 7000);
      expect(parseOpenAIRateLimitReset({ 'retry-after': '7' }, NOW, '<html>')).toBe(NOW + 7000);
    });

    it('should take the latest reset of the used-up Codex windows when the body names none', () => {
      const primary = epochSeconds(NOW + 3600_000);
      const secondary = epochSeconds(NOW + 4 * 86_400_000);
      const headers = {
        'x-codex-primary-used-percent': '100',
        'x-codex-primary-window-minutes': '300',
        'x-codex-primary-reset-at': String(primary),
        'x-codex-secondary-used-percent': '100.0',
        'x-codex-secondary-window-minutes': '10080',
        'x-codex-secondary-reset-at': String(secondary),
      };
      const body = JSON.stringify({ error: { type: 'usage_limit_reached', message: 'limit' } });
      expect(parseOpenAIRateLimitReset(headers, NOW, body)).toBe(secondary * 1000);
    });

    it('should skip Codex windows that are not used up', () => {
      const headers = {
        'x-codex-primary-used-percent': '100',
        'x-codex-primary-reset-after-seconds': '600',
        'x-codex-secondary-used-percent': '40',
        'x-codex-secondary-reset-after-seconds': '86400',
      };
      expect(parseOpenAIRateLimitReset(headers, NOW)).toBe(NOW + 600_000);
    });

    it('should prefer retry-after-ms to retry-after', () => {
      expect(parseOpenAIRateLimitReset({ 'retry-after-ms': '1500', 'retry-after': '9' }, NOW)).toBe(
        NOW + 1500,
      );
    });

    it('should read retry-after in seconds or as an HTTP date', () => {
      expect(parseOpenAIRateLimitReset({ 'retry-after': '12' }, NOW)).toBe(NOW + 12_000);
      const at = new Date(NOW + 90_000).toUTCString();
      expect(parseOpenAIRateLimitReset({ 'retry-after': at }, NOW)).toBe(Date.parse(at));
    });

    it('should take the latest reset of the exhausted buckets', () => {
      const headers = {
        'x-ratelimit-limit-requests': '500',
        'x-ratelimit-remaining-requests': '0',
        'x-ratelimit-reset-requests': '6m0s',
        'x-ratelimit-limit-tokens': '30000',
        'x-ratelimit-remaining-tokens': '12000',
        // Not exhausted: its later reset does not count.
        'x-ratelimit-reset-tokens': '20m0s',
      };
      expect(parseOpenAIRateLimitReset(headers, NOW)).toBe(NOW + 360_000);
    });

    it('should take the latest of both buckets when neither says it is exhausted', () => {
      const headers = {
        'x-ratelimit-reset-requests': '120ms',
        'x-ratelimit-reset-tokens': '1m30s',
      };
      expect(parseOpenAIRateLimitReset(headers, NOW)).toBe(NOW + 90_000);
    });

    it('should return null when nothing names a future reset', () => {
      expect(parseOpenAIRateLimitReset({}, NOW)).toBeNull();
      expect(
        parseOpenAIRateLimitReset(
          { 'retry-after': '0', 'x-ratelimit-reset-requests': '0s', 'retry-after-ms': 'soon' },
          NOW,
          JSON.stringify({ error: { type: 'usage_limit_reached', resets_at: 1 } }),
        ),
      ).toBeNull();
    });
  });

  describe(codexUsageWindows.name, () => {
    it('should name the 5-hour and weekly windows and read reset-at as epoch seconds', () => {
      const primary = epochSeconds(NOW + 3600_000);
      expect(
        codexUsageWindows(
          {
            'x-codex-primary-used-percent': '42.5',
            'x-codex-primary-window-minutes': '300',
            'x-codex-primary-reset-at': String(primary),
            'x-codex-secondary-used-percent': '13',
            'x-codex-secondary-window-minutes': '10080',
            'x-codex-secondary-reset-after-seconds': '7200',
          },
          NOW,
        ),
      ).toEqual([
        { name: '5h', usedPercent: 42.5, resetsAt: primary * 1000, windowMinutes: 300 },
        { name: 'weekly', usedPercent: 13, resetsAt: NOW + 7200_000, windowMinutes: 10_080 },
      ]);
    });

    it('should name other windows by their length, and by their slot when it is unknown', () => {
      const windows = codexUsageWindows(
        {
          'x-codex-primary-used-percent': '5',
          'x-codex-primary-window-minutes': '1440',
          'x-codex-secondary-used-percent': '7',
        },
        NOW,
      );
      expect(windows?.map((w) => [w.name, w.windowMinutes, w.resetsAt])).toEqual([
        ['1d', 1440, null],
        ['secondary', null, null],
      ]);
    });

    it('should leave out a window that reports 0 % and nothing else, as codex-rs does', () => {
      expect(codexUsageWindows({ 'x-codex-primary-used-percent': '0' }, NOW)).toBeNull();
      expect(codexUsageWindows({ 'content-type': 'text/event-stream' }, NOW)).toBeNull();
      expect(codexUsageWindows({ 'x-codex-primary-used-percent': 'lots' }, NOW)).toBeNull();
    });
  });

  describe(isOpenAIBlockedResponse.name, () => {
    it('should recognise a deactivated OpenAI account when the API answers 401', () => {
      const body = JSON.stringify({
        error: {
          message:
            'This key is associated with a deactivated account. If you feel this is an error, contact us through our help center at help.openai.com.',
          type: 'invalid_request_error',
          param: null,
          code: 'account_deactivated',
        },
      });
      expect(isOpenAIBlockedResponse(401, body)).toBe(true);
      expect(openAIHealthRules.isAuthFailed(401, body)).toBe(false);
    });

    it('should recognise a deactivated ChatGPT workspace when the backend answers 402', () => {
      expect(
        isOpenAIBlockedResponse(402, JSON.stringify({ detail: { code: 'deactivated_workspace' } })),
      ).toBe(true);
      expect(
        isOpenAIBlockedResponse(402, JSON.stringify({ error: { code: 'deactivated_workspace' } })),
      ).toBe(true);
    });

    it('should recognise deactivated, suspended or banned accounts from their words', () => {
      for (const message of [
        'Your OpenAI account has been deactivated, please check your email for more information.',
        'This workspace has been deactivated and can no longer be used.',
        'Your organization has been disabled.',
        'This account is suspended.',
      ]) {
        expect([
          message,
          isOpenAIBlockedResponse(403, JSON.stringify({ detail: message })),
        ]).toEqual([message, true]);
      }
      expect(isOpenAIBlockedResponse(401, 'Your account has been banned')).toBe(true);
    });

    it('should count a 429 as blocked only when no credit or no Codex is left, not a rate limit', () => {
      const quota = JSON.stringify({
        error: {
          message: 'You exceeded your current quota, please check your plan and billing details.',
          type: 'insufficient_quota',
          code: 'insufficient_quota',
        },
      });
      expect(isOpenAIBlockedResponse(429, quota)).toBe(true);
      expect(
        isOpenAIBlockedResponse(429, JSON.stringify({ error: { type: 'usage_not_included' } })),
      ).toBe(true);
      expect(
        isOpenAIBlockedResponse(
          429,
          JSON.stringify({ error: { type: 'usage_limit_reached', resets_at: 1 } }),
        ),
      ).toBe(false);
      expect(
        isOpenAIBlockedResponse(
          429,
          JSON.stringify({
            error: { code: 'rate_limit_exceeded', message: 'account has been banned' },
          }),
        ),
      ).toBe(false);
    });

    it('should not treat ordinary refusals as blocked', () => {
      for (const [status, body] of [
        [
          401,
          JSON.stringify({
            error: { message: 'Incorrect API key provided: sk-abc.', code: 'invalid_api_key' },
          }),
        ],
        [
          401,
          JSON.stringify({
            error: { message: 'Provided authentication token is expired.', code: 'token_expired' },
          }),
        ],
        [
          400,
          JSON.stringify({
            error: { message: "Invalid 'max_output_tokens'", code: 'integer_below_min_value' },
          }),
        ],
        [404, JSON.stringify({ error: { code: 'account_deactivated' } })],
        [500, 'account has been deactivated'],
      ] as const) {
        expect([status, body, isOpenAIBlockedResponse(status, body)]).toEqual([
          status,
          body,
          false,
        ]);
      }
    });
  });

  describe(openAIBlockedReason.name, () => {
    it("should keep the upstream's words on one short line, else its code", () => {
      expect(
        openAIBlockedReason(
          JSON.stringify({
            error: { message: 'This key is associated\nwith a deactivated account.' },
          }),
        ),
      ).toBe('This key is associated with a deactivated account.');
      expect(
        openAIBlockedReason(JSON.stringify({ detail: { code: 'deactivated_workspace' } })),
      ).toBe('deactivated_workspace');
      expect(openAIBlockedReason('x'.repeat(500))).toHaveLength(200);
    });
  });

  describe('openAIHealthRules', () => {
    it('should count a 401 as an auth failure unless the account is deactivated', () => {
      expect(openAIHealthRules.isAuthFailed(401, '{"error":{"code":"token_expired"}}')).toBe(true);
      expect(openAIHealthRules.isAuthFailed(403, '{"error":{"code":"token_expired"}}')).toBe(false);
    });

    it('should scope every rate limit to the whole account', () => {
      expect(openAIHealthRules.rateLimitScope({ 'x-ratelimit-remaining-tokens': '0' })).toBe(
        'account',
      );
    });
  });
});
