import { DomainException } from 'src/common/errors/domain.exception';

export enum AuthExceptionCode {
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  MISSING_TOKEN = 'MISSING_TOKEN',
  INVALID_TOKEN = 'INVALID_TOKEN',
  FORBIDDEN = 'FORBIDDEN',
  /** Too many wrong passwords for the username or from the address; see retry-after. */
  LOGIN_THROTTLED = 'LOGIN_THROTTLED',
  /** Too many password checks at once on this instance. */
  LOGIN_BUSY = 'LOGIN_BUSY',
  /**
   * The directory could not answer (unreachable, timed out, refused the service account's bind,
   * or the search base is wrong): not a wrong password. The log says which.
   */
  LDAP_UNAVAILABLE = 'LDAP_UNAVAILABLE',
  ROUTE_WITHOUT_ACCESS_RULE = 'ROUTE_WITHOUT_ACCESS_RULE',
}

const STATUS: Record<AuthExceptionCode, number> = {
  [AuthExceptionCode.INVALID_CREDENTIALS]: 401,
  [AuthExceptionCode.MISSING_TOKEN]: 401,
  [AuthExceptionCode.INVALID_TOKEN]: 401,
  [AuthExceptionCode.FORBIDDEN]: 403,
  [AuthExceptionCode.LOGIN_THROTTLED]: 429,
  [AuthExceptionCode.LOGIN_BUSY]: 503,
  [AuthExceptionCode.LDAP_UNAVAILABLE]: 503,
  [AuthExceptionCode.ROUTE_WITHOUT_ACCESS_RULE]: 403,
};

export class AuthException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: AuthExceptionCode,
    message: string,
    /** `retryAfterSeconds` here becomes the `retry-after` header. */
    override readonly details?: { retryAfterSeconds: number },
  ) {
    super(message);
    this.name = 'AuthException';
    this.status = STATUS[code];
  }
}
