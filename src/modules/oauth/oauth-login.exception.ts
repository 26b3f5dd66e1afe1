import { DomainException } from 'src/common/errors/domain.exception';

/**
 * Base of the OAuth families' login exceptions (CodexOAuthException, GoogleOAuthException):
 * each keeps its own code enum (the codes are part of the admin API) and status table, and
 * shares how a code becomes the exception's status.
 */
export abstract class OAuthLoginException<C extends string> extends DomainException {
  readonly status: number;
  override readonly details?: Record<string, unknown>;

  protected constructor(
    readonly code: C,
    statusOf: Readonly<Record<C, number>>,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = new.target.name;
    this.status = statusOf[code];
    this.details = details;
  }
}
