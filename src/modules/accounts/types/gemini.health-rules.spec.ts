import {
  geminiHealthRules,
  isGeminiAuthFailed,
  isGeminiBlockedResponse,
} from './gemini.health-rules';

function error(status: number, details: unknown[], message = 'quota'): string {
  return JSON.stringify({ error: { code: status, message, status: 'X', details } });
}

const reason = (r: string) => ({
  '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
  reason: r,
  domain: 'googleapis.com',
});

describe('gemini health rules', () => {
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
