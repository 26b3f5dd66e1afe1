import { DomainException } from 'src/common/errors/domain.exception';

export enum AdminUiExceptionCode {
  ASSET_NOT_FOUND = 'ADMIN_UI_ASSET_NOT_FOUND',
}

const STATUS: Record<AdminUiExceptionCode, number> = {
  [AdminUiExceptionCode.ASSET_NOT_FOUND]: 404,
};

export class AdminUiException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: AdminUiExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'AdminUiException';
    this.status = STATUS[code];
  }
}
