import {
  CoordinationException,
  CoordinationExceptionCode,
} from 'src/infra/coordination/coordination.exception';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { toRelayErrorView } from './relay-errors';

describe('toRelayErrorView', () => {
  it('should name the cap, the spend and the reset of an exhausted budget', () => {
    const view = toRelayErrorView(
      new ApiKeyException(KeyRejectionCode.BUDGET_EXHAUSTED, 'x', {
        budget: {
          cap: 'daily',
          limitMicros: 5_000_000,
          spentMicros: 4_990_000,
          requestMicros: 20_000,
          resetAtMs: Date.UTC(2026, 0, 2),
        },
      }),
      'id',
    );
    expect(view.status).toBe(402);
    expect(view.message).toBe(
      'daily budget exhausted: spent $4.99 of $5.00, this request may cost up to $0.0200; resets at 2026-01-02T00:00:00.000Z',
    );
  });

  it('should carry retry-after when every account is rate-limited', () => {
    const view = toRelayErrorView(
      new RelayException(
        RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED,
        'all limited',
        Date.now() + 30_000,
      ),
      'id',
    );
    expect(view.status).toBe(429);
    expect(Number(view.headers?.['retry-after'])).toBeGreaterThanOrEqual(29);
  });

  it('should answer 503 with retry-after when the coordinator is unreachable', () => {
    const view = toRelayErrorView(
      new CoordinationException(CoordinationExceptionCode.UNAVAILABLE, 'down'),
      'id',
    );
    expect(view).toMatchObject({ status: 503, headers: { 'retry-after': '2' } });
  });

  it('should keep unknown errors opaque, with only the error id', () => {
    const view = toRelayErrorView(new Error('secret detail sk-ant-123'), 'err-1');
    expect(view).toEqual({
      status: 500,
      code: 'INTERNAL_ERROR',
      message: 'internal error (id err-1)',
    });
  });
});
