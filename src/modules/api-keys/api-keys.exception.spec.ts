import { KeyRejectionCode } from './api-key.types';
import { ApiKeyAdminCode, ApiKeyException, rateLimitHeaders } from './api-keys.exception';

describe(ApiKeyException.name, () => {
  describe('constructor', () => {
    it.each([
      [KeyRejectionCode.MISSING_KEY, 401],
      [KeyRejectionCode.INVALID_KEY, 401],
      [KeyRejectionCode.KEY_DISABLED, 401],
      [KeyRejectionCode.KEY_EXPIRED, 401],
      [KeyRejectionCode.PLATFORM_NOT_ALLOWED, 403],
      [KeyRejectionCode.MODEL_NOT_ALLOWED, 403],
      [KeyRejectionCode.CLIENT_NOT_ALLOWED, 403],
      [KeyRejectionCode.WINDOW_LIMIT, 429],
      [KeyRejectionCode.CONCURRENCY_LIMIT, 429],
      [KeyRejectionCode.BUDGET_EXHAUSTED, 402],
      [ApiKeyAdminCode.KEY_NOT_FOUND, 404],
      [ApiKeyAdminCode.KEY_DELETED, 409],
      [ApiKeyAdminCode.INVALID_KEY_POLICY, 400],
    ])('should map %s to HTTP %d', (code, status) => {
      expect(new ApiKeyException(code, 'x').status).toBe(status);
    });

    it('should expose rate-limit info as details when it has some', () => {
      const rateLimit = { metric: 'requests' as const, limit: 5, remaining: 0, resetAtMs: 1 };
      const error = new ApiKeyException(KeyRejectionCode.WINDOW_LIMIT, 'slow down', { rateLimit });

      expect(error.rateLimit).toBe(rateLimit);
      expect(error.details).toEqual({ rateLimit, budget: undefined });
      expect(new ApiKeyException(KeyRejectionCode.INVALID_KEY, 'no').details).toBeUndefined();
    });
  });

  describe('rateLimitHeaders', () => {
    it('should give seconds until the reset, rounded up and at least 1', () => {
      const now = 1_000_000;
      const info = { metric: 'requests' as const, limit: 60, remaining: 0, resetAtMs: now + 1500 };

      expect(rateLimitHeaders(info, now)).toEqual({
        'retry-after': '2',
        'x-ratelimit-limit': '60',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': '2',
      });
      expect(rateLimitHeaders({ ...info, resetAtMs: now - 10 }, now)['retry-after']).toBe('1');
    });
  });
});
