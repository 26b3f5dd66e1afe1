import { DomainException } from 'src/common/errors/domain.exception';

export enum RelayExceptionCode {
  INVALID_REQUEST = 'INVALID_REQUEST',
  BODY_TOO_LARGE = 'BODY_TOO_LARGE',
  NO_ACCOUNT_AVAILABLE = 'NO_ACCOUNT_AVAILABLE',
  ALL_ACCOUNTS_RATE_LIMITED = 'ALL_ACCOUNTS_RATE_LIMITED',
  UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT',
  UPSTREAM_UNREACHABLE = 'UPSTREAM_UNREACHABLE',
  UPSTREAM_BAD_RESPONSE = 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_OVERLOADED = 'UPSTREAM_OVERLOADED',
  SERVER_BUSY = 'SERVER_BUSY',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
}

const STATUS: Record<RelayExceptionCode, number> = {
  [RelayExceptionCode.INVALID_REQUEST]: 400,
  [RelayExceptionCode.BODY_TOO_LARGE]: 413,
  [RelayExceptionCode.NO_ACCOUNT_AVAILABLE]: 503,
  [RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED]: 429,
  [RelayExceptionCode.UPSTREAM_TIMEOUT]: 504,
  [RelayExceptionCode.UPSTREAM_UNREACHABLE]: 503,
  [RelayExceptionCode.UPSTREAM_BAD_RESPONSE]: 502,
  [RelayExceptionCode.UPSTREAM_OVERLOADED]: 529,
  [RelayExceptionCode.SERVER_BUSY]: 503,
  [RelayExceptionCode.METHOD_NOT_ALLOWED]: 405,
};

/** Relay failures; each dialect renders them in its own error shape. */
export class RelayException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: RelayExceptionCode,
    message: string,
    /** For 429 / 503: when an account is expected to be available again (epoch ms). */
    readonly retryAtMs: number | null = null,
  ) {
    super(message);
    this.name = 'RelayException';
    this.status = STATUS[code];
  }
}
