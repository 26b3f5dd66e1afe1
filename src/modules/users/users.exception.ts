import { DomainException } from 'src/common/errors/domain.exception';

export enum UsersExceptionCode {
  USER_NOT_FOUND = 'USER_NOT_FOUND',
  USERNAME_TAKEN = 'USERNAME_TAKEN',
  /** The change would leave no enabled admin (demote, disable or delete the last one). */
  LAST_ADMIN = 'LAST_ADMIN',
  /** A user's own key would exceed their caps; `details.violations` names each cap. */
  USER_CAP_EXCEEDED = 'USER_CAP_EXCEEDED',
  /** Caps that contradict themselves (a window ceiling without a window length). */
  INVALID_CAPS = 'INVALID_CAPS',
}

const STATUS: Record<UsersExceptionCode, number> = {
  [UsersExceptionCode.USER_NOT_FOUND]: 404,
  [UsersExceptionCode.USERNAME_TAKEN]: 409,
  [UsersExceptionCode.LAST_ADMIN]: 409,
  [UsersExceptionCode.USER_CAP_EXCEEDED]: 422,
  [UsersExceptionCode.INVALID_CAPS]: 400,
};

export class UsersException extends DomainException {
  readonly status: number;

  constructor(
    readonly code: UsersExceptionCode,
    message: string,
    override readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'UsersException';
    this.status = STATUS[code];
  }

  static notFound(id: string): UsersException {
    return new UsersException(UsersExceptionCode.USER_NOT_FOUND, `user ${id} not found`);
  }
}
