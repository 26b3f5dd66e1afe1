import {
  CoordinationException,
  CoordinationExceptionCode,
} from 'src/infra/coordination/coordination.exception';
import { ApiKeyException } from 'src/modules/api-keys/api-keys.exception';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import { RelayException, RelayExceptionCode } from './relay.exception';
import { toRelayErrorView } from './relay-errors';

describe('toRelayErrorView', () => {
  it('should pass the budget refusal worded by admission through when a budget is exhausted', () => {
    const message =
      "daily budget $5.00: spent $4.9900 (including requests in flight); this request could cost up to $0.0200 (4096 max_tokens on claude-sonnet-4-6), more than the $0.0100 left, which the key's strict reservation policy does not allow; it resets at 2026-01-02T00:00:00.000Z; lower max_tokens or ask an admin for the estimate policy or a higher budget";
    const view = toRelayErrorView(
      new ApiKeyException(KeyRejectionCode.BUDGET_EXHAUSTED, message, {
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
    expect(view.message).toBe(message);
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
      kind: 'internal',
      status: 500,
      code: 'INTERNAL_ERROR',
      message: 'internal error (id err-1)',
    });
  });
});
