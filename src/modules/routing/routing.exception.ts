import { DomainException } from 'src/common/errors/domain.exception';

export enum RoutingExceptionCode {
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  /** Another route has this pattern already (patterns are unique, ignoring case). */
  ROUTE_PATTERN_TAKEN = 'ROUTE_PATTERN_TAKEN',
  RULE_NOT_FOUND = 'RULE_NOT_FOUND',
  /** A rule that cannot apply as written (no condition, an unknown key or group, …). */
  RULE_INVALID = 'RULE_INVALID',
}

const STATUS: Record<RoutingExceptionCode, number> = {
  [RoutingExceptionCode.ROUTE_NOT_FOUND]: 404,
  [RoutingExceptionCode.ROUTE_PATTERN_TAKEN]: 409,
  [RoutingExceptionCode.RULE_NOT_FOUND]: 404,
  [RoutingExceptionCode.RULE_INVALID]: 400,
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
