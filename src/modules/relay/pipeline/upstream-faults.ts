import type { TransportFault } from 'src/infra/http/upstream-http.service';
import type { UpstreamOutcome } from 'src/modules/accounts/account.types';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/** The health outcome of a transport fault. */
export function faultOutcome(fault: TransportFault, error: unknown): UpstreamOutcome {
  switch (fault) {
    case 'connect_timeout':
      return { kind: 'timeout', phase: 'connect' };
    case 'first_byte_timeout':
      return { kind: 'timeout', phase: 'first_byte' };
    case 'unreachable':
    case 'reset':
    case 'idle_timeout':
    case 'aborted': {
      const code = (error as { code?: unknown }).code;
      return { kind: 'connect_error', code: typeof code === 'string' ? code : fault };
    }
  }
}

/** The client's error for a transport fault on the last attempt. */
export function faultException(fault: TransportFault, retryAtMs: number | null): RelayException {
  switch (fault) {
    case 'connect_timeout':
    case 'first_byte_timeout':
    case 'idle_timeout':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_TIMEOUT,
        'upstream did not answer in time',
        retryAtMs,
      );
    case 'unreachable':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_UNREACHABLE,
        'upstream is unreachable',
        retryAtMs,
      );
    case 'reset':
    case 'aborted':
      return new RelayException(
        RelayExceptionCode.UPSTREAM_BAD_RESPONSE,
        'upstream closed the connection',
        retryAtMs,
      );
  }
}
