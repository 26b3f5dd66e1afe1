import { DomainException } from 'src/common/errors/domain.exception';

/**
 * What kind of failure an error is, independent of any API's wording: each dialect renders a kind
 * as its own status, type and headers (Anthropic answers `overloaded` with 529
 * `overloaded_error`, OpenAI with 503, Gemini with 503 `UNAVAILABLE`).
 */
export const ERROR_KINDS = [
  'invalid',
  'auth',
  'permission',
  'not_found',
  'method_not_allowed',
  'too_large',
  'budget',
  'rate_limited',
  'overloaded',
  'unavailable',
  'upstream_failure',
  'timeout',
  'internal',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** The status of a kind where a dialect has no reason to differ (the admin surface uses it too). */
export const GENERIC_STATUS: Record<ErrorKind, number> = {
  invalid: 400,
  auth: 401,
  budget: 402,
  permission: 403,
  not_found: 404,
  method_not_allowed: 405,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  upstream_failure: 502,
  overloaded: 503,
  unavailable: 503,
  timeout: 504,
};

/** The kind of an error known only by its HTTP status (errors of other features). */
export function kindOfStatus(status: number): ErrorKind {
  switch (status) {
    case 400:
    case 409:
    case 422:
      return 'invalid';
    case 401:
      return 'auth';
    case 402:
      return 'budget';
    case 403:
      return 'permission';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 413:
      return 'too_large';
    case 429:
      return 'rate_limited';
    case 502:
      return 'upstream_failure';
    case 503:
      return 'unavailable';
    case 504:
      return 'timeout';
    case 529:
      return 'overloaded';
    default:
      return status >= 500 ? 'internal' : 'invalid';
  }
}

export enum RelayExceptionCode {
  INVALID_REQUEST = 'INVALID_REQUEST',
  UNSUPPORTED_PARAMETER = 'UNSUPPORTED_PARAMETER',
  UNKNOWN_MODEL = 'UNKNOWN_MODEL',
  BODY_TOO_LARGE = 'BODY_TOO_LARGE',
  NO_ACCOUNT_AVAILABLE = 'NO_ACCOUNT_AVAILABLE',
  ALL_ACCOUNTS_RATE_LIMITED = 'ALL_ACCOUNTS_RATE_LIMITED',
  UPSTREAM_TIMEOUT = 'UPSTREAM_TIMEOUT',
  UPSTREAM_UNREACHABLE = 'UPSTREAM_UNREACHABLE',
  UPSTREAM_BAD_RESPONSE = 'UPSTREAM_BAD_RESPONSE',
  UPSTREAM_OVERLOADED = 'UPSTREAM_OVERLOADED',
  SERVER_BUSY = 'SERVER_BUSY',
  METHOD_NOT_ALLOWED = 'METHOD_NOT_ALLOWED',
  /** A Code Assist method Switchyard does not serve. */
  UNKNOWN_METHOD = 'UNKNOWN_METHOD',
}

const KIND: Record<RelayExceptionCode, ErrorKind> = {
  [RelayExceptionCode.INVALID_REQUEST]: 'invalid',
  [RelayExceptionCode.UNSUPPORTED_PARAMETER]: 'invalid',
  [RelayExceptionCode.UNKNOWN_MODEL]: 'not_found',
  [RelayExceptionCode.BODY_TOO_LARGE]: 'too_large',
  [RelayExceptionCode.NO_ACCOUNT_AVAILABLE]: 'unavailable',
  [RelayExceptionCode.ALL_ACCOUNTS_RATE_LIMITED]: 'rate_limited',
  [RelayExceptionCode.UPSTREAM_TIMEOUT]: 'timeout',
  [RelayExceptionCode.UPSTREAM_UNREACHABLE]: 'unavailable',
  [RelayExceptionCode.UPSTREAM_BAD_RESPONSE]: 'upstream_failure',
  [RelayExceptionCode.UPSTREAM_OVERLOADED]: 'overloaded',
  [RelayExceptionCode.SERVER_BUSY]: 'unavailable',
  [RelayExceptionCode.METHOD_NOT_ALLOWED]: 'method_not_allowed',
  [RelayExceptionCode.UNKNOWN_METHOD]: 'not_found',
};

/** Relay failures; each dialect renders them in its own error shape. */
export class RelayException extends DomainException {
  readonly kind: ErrorKind;
  readonly status: number;

  constructor(
    readonly code: RelayExceptionCode,
    message: string,
    /** For 429 / 503: when an account is expected to be available again (epoch ms). */
    readonly retryAtMs: number | null = null,
    /** The request field the error is about (OpenAI's `param`), when there is one. */
    readonly param: string | null = null,
    /** A finer reason a dialect may name (OpenAI's `code`: `unknown_parameter`, …). */
    readonly reason: string | null = null,
  ) {
    super(message);
    this.name = 'RelayException';
    this.kind = KIND[code];
    this.status = GENERIC_STATUS[this.kind];
  }
}
