import { DomainException } from 'src/common/errors/domain.exception';

export enum AuditExceptionCode {
  INVALID_RANGE = 'INVALID_RANGE',
}

const STATUS: Record<AuditExceptionCode, number> = {
  [AuditExceptionCode.INVALID_RANGE]: 400,
};

export class AuditException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: AuditExceptionCode,
    message: string,
    override readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AuditException';
    this.status = STATUS[code];
  }
}
