import { DomainException } from 'src/common/errors/domain.exception';

export enum UsageExceptionCode {
  INVALID_RANGE = 'INVALID_RANGE',
  RANGE_TOO_LARGE = 'RANGE_TOO_LARGE',
  DIM_ID_REQUIRED = 'DIM_ID_REQUIRED',
  INVALID_PRICE = 'INVALID_PRICE',
  PRICE_OVERRIDE_NOT_FOUND = 'PRICE_OVERRIDE_NOT_FOUND',
  REQUEST_NOT_FOUND = 'REQUEST_NOT_FOUND',
}

const STATUS: Record<UsageExceptionCode, number> = {
  [UsageExceptionCode.INVALID_RANGE]: 400,
  [UsageExceptionCode.RANGE_TOO_LARGE]: 400,
  [UsageExceptionCode.DIM_ID_REQUIRED]: 400,
  [UsageExceptionCode.INVALID_PRICE]: 400,
  [UsageExceptionCode.PRICE_OVERRIDE_NOT_FOUND]: 404,
  [UsageExceptionCode.REQUEST_NOT_FOUND]: 404,
};

export class UsageException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: UsageExceptionCode,
    message: string,
    override readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UsageException';
    this.status = STATUS[code];
  }
}
