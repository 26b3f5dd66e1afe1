import { appLogger } from 'src/common/logging/app-logger';
import {
  CoordinationException,
  CoordinationExceptionCode,
} from 'src/infra/coordination/coordination.exception';
import { toAdminError } from './admin-exception.filter';

describe('toAdminError', () => {
  afterEach(() => jest.restoreAllMocks());

  it('should answer 503 with retry-after when the coordinator is unreachable', () => {
    jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
    const error = new CoordinationException(
      CoordinationExceptionCode.UNAVAILABLE,
      'connect ECONNREFUSED 127.0.0.1:6379',
    );
    expect(toAdminError(error)).toEqual({
      status: 503,
      body: {
        error: {
          code: 'COORDINATION_UNAVAILABLE',
          message: 'the coordination store (Redis) is unavailable; retry shortly',
          details: { retryAfterSeconds: 2 },
        },
      },
    });
  });

  it('should keep a malformed coordinator call an opaque 500', () => {
    const logged = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
    const error = new CoordinationException(CoordinationExceptionCode.INVALID_ARGUMENT, 'bad ttl');
    const { status, body } = toAdminError(error);
    expect(status).toBe(500);
    expect(body.error.code).toBe('INTERNAL_ERROR');
    expect(body.error.message).not.toContain('bad ttl');
    expect(logged).toHaveBeenCalledTimes(1);
  });
});
