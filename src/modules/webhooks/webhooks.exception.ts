import { DomainException } from 'src/common/errors/domain.exception';

export enum WebhooksExceptionCode {
  TARGET_NOT_FOUND = 'TARGET_NOT_FOUND',
  DELIVERY_NOT_FOUND = 'DELIVERY_NOT_FOUND',
  /** A kind this build has no channel for. */
  UNKNOWN_TARGET_KIND = 'UNKNOWN_TARGET_KIND',
  /** The channel refused the configuration; details.errors names each field. */
  INVALID_TARGET_CONFIG = 'INVALID_TARGET_CONFIG',
  /** The URL or SMTP host is refused by UPSTREAM_HOST_ALLOWLIST / ALLOW_INSECURE_UPSTREAMS. */
  TARGET_NOT_ALLOWED = 'TARGET_NOT_ALLOWED',
  /** The stored secrets cannot be decrypted: send the whole configuration again. */
  SECRETS_UNREADABLE = 'SECRETS_UNREADABLE',
  TARGET_NAME_TAKEN = 'TARGET_NAME_TAKEN',
  /** Only a delivery that gave up (`failed`) can be retried. */
  DELIVERY_NOT_RETRYABLE = 'DELIVERY_NOT_RETRYABLE',
}

const STATUS: Record<WebhooksExceptionCode, number> = {
  [WebhooksExceptionCode.TARGET_NOT_FOUND]: 404,
  [WebhooksExceptionCode.DELIVERY_NOT_FOUND]: 404,
  [WebhooksExceptionCode.UNKNOWN_TARGET_KIND]: 400,
  [WebhooksExceptionCode.INVALID_TARGET_CONFIG]: 400,
  [WebhooksExceptionCode.TARGET_NOT_ALLOWED]: 400,
  [WebhooksExceptionCode.SECRETS_UNREADABLE]: 400,
  [WebhooksExceptionCode.TARGET_NAME_TAKEN]: 409,
  [WebhooksExceptionCode.DELIVERY_NOT_RETRYABLE]: 409,
};

export class WebhooksException extends DomainException {
  readonly status: number;
  override readonly details?: Record<string, unknown>;

  constructor(
    readonly code: WebhooksExceptionCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'WebhooksException';
    this.status = STATUS[code];
    this.details = details;
  }
}
