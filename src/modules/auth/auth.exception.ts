import { DomainException } from 'src/common/errors/domain.exception';

export enum AuthExceptionCode {
  INVALID_CREDENTIALS = 'INVALID_CREDENTIALS',
  MISSING_TOKEN = 'MISSING_TOKEN',
  INVALID_TOKEN = 'INVALID_TOKEN',
  FORBIDDEN = 'FORBIDDEN',
  ROUTE_WITHOUT_ACCESS_RULE = 'ROUTE_WITHOUT_ACCESS_RULE',
}

const STATUS: Record<AuthExceptionCode, number> = {
  [AuthExceptionCode.INVALID_CREDENTIALS]: 401,
  [AuthExceptionCode.MISSING_TOKEN]: 401,
  [AuthExceptionCode.INVALID_TOKEN]: 401,
  [AuthExceptionCode.FORBIDDEN]: 403,
  [AuthExceptionCode.ROUTE_WITHOUT_ACCESS_RULE]: 403,
};

export class AuthException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: AuthExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AuthException';
    this.status = STATUS[code];
  }
}
