import { DomainException } from 'src/common/errors/domain.exception';

export enum OpenApiExceptionCode {
  NOT_READY = 'OPENAPI_NOT_READY',
  ASSET_NOT_FOUND = 'DOCS_ASSET_NOT_FOUND',
}

const STATUS: Record<OpenApiExceptionCode, number> = {
  [OpenApiExceptionCode.NOT_READY]: 503,
  [OpenApiExceptionCode.ASSET_NOT_FOUND]: 404,
};

export class OpenApiException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: OpenApiExceptionCode,
    message: string,
  ) {
    super(message);
    this.name = 'OpenApiException';
    this.status = STATUS[code];
  }
}
