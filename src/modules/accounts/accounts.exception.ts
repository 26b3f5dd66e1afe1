import { DomainException } from 'src/common/errors/domain.exception';

export enum AccountsExceptionCode {
  ACCOUNT_NOT_FOUND = 'ACCOUNT_NOT_FOUND',
  GROUP_NOT_FOUND = 'GROUP_NOT_FOUND',
  INVALID_CREDENTIALS_SHAPE = 'INVALID_CREDENTIALS_SHAPE',
  /** Partial credentials sent for an account whose stored credentials cannot be decrypted. */
  CREDENTIALS_UNREADABLE = 'CREDENTIALS_UNREADABLE',
  /** A base URL or proxy change without the credentials sent again in the same request. */
  CREDENTIALS_REQUIRED = 'CREDENTIALS_REQUIRED',
  /** The base URL or proxy points where UPSTREAM_HOST_ALLOWLIST / ALLOW_INSECURE_UPSTREAMS refuse. */
  UPSTREAM_NOT_ALLOWED = 'UPSTREAM_NOT_ALLOWED',
  INVALID_PROXY = 'INVALID_PROXY',
  INVALID_MODELS = 'INVALID_MODELS',
  INVALID_BASE_URL = 'INVALID_BASE_URL',
  INVALID_SUBSCRIPTION = 'INVALID_SUBSCRIPTION',
  PLATFORM_MISMATCH = 'PLATFORM_MISMATCH',
  NAME_TAKEN = 'NAME_TAKEN',
  GROUP_NAME_TAKEN = 'GROUP_NAME_TAKEN',
  /** Several accounts answer to one name (only possible for names that look like ids). */
  AMBIGUOUS_ACCOUNT = 'AMBIGUOUS_ACCOUNT',
  TESTER_UNAVAILABLE = 'TESTER_UNAVAILABLE',
}

const STATUS: Record<AccountsExceptionCode, number> = {
  [AccountsExceptionCode.ACCOUNT_NOT_FOUND]: 404,
  [AccountsExceptionCode.GROUP_NOT_FOUND]: 404,
  [AccountsExceptionCode.INVALID_CREDENTIALS_SHAPE]: 400,
  [AccountsExceptionCode.CREDENTIALS_UNREADABLE]: 400,
  [AccountsExceptionCode.CREDENTIALS_REQUIRED]: 400,
  [AccountsExceptionCode.UPSTREAM_NOT_ALLOWED]: 400,
  [AccountsExceptionCode.INVALID_PROXY]: 400,
  [AccountsExceptionCode.INVALID_MODELS]: 400,
  [AccountsExceptionCode.INVALID_BASE_URL]: 400,
  [AccountsExceptionCode.INVALID_SUBSCRIPTION]: 400,
  [AccountsExceptionCode.PLATFORM_MISMATCH]: 400,
  [AccountsExceptionCode.NAME_TAKEN]: 409,
  [AccountsExceptionCode.GROUP_NAME_TAKEN]: 409,
  [AccountsExceptionCode.AMBIGUOUS_ACCOUNT]: 409,
  [AccountsExceptionCode.TESTER_UNAVAILABLE]: 503,
};

export class AccountsException extends DomainException {
  readonly status: number;
  override readonly details?: Record<string, unknown>;

  constructor(
    readonly code: AccountsExceptionCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'AccountsException';
    this.status = STATUS[code];
    this.details = details;
  }
}
