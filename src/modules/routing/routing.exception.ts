import { DomainException } from 'src/common/errors/domain.exception';

export enum RoutingExceptionCode {
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  /** Another route has this pattern already (patterns are unique, ignoring case). */
  ROUTE_PATTERN_TAKEN = 'ROUTE_PATTERN_TAKEN',
}

const STATUS: Record<RoutingExceptionCode, number> = {
  [RoutingExceptionCode.ROUTE_NOT_FOUND]: 404,
  [RoutingExceptionCode.ROUTE_PATTERN_TAKEN]: 409,
};

export class RoutingException extends DomainException {
  readonly status: number;
  override readonly details?: Record<string, unknown>;

  constructor(
    readonly code: RoutingExceptionCode,
    message: string,
    details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'RoutingException';
    this.status = STATUS[code];
    this.details = details;
  }
}
