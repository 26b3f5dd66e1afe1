export enum CoordinationExceptionCode {
  /** The request itself is malformed (non-integer amount, non-positive TTL). */
  INVALID_ARGUMENT = 'COORDINATION_INVALID_ARGUMENT',
  /** The backing store did not answer in time or the connection is down. */
  UNAVAILABLE = 'COORDINATION_UNAVAILABLE',
  /** The backing store answered with an error (wrong type, script failure). */
  BACKEND_ERROR = 'COORDINATION_BACKEND_ERROR',
  /** The coordinator was closed. */
  CLOSED = 'COORDINATION_CLOSED',
}

/** The only error a Coordinator rejects with, so callers never depend on ioredis errors. */
export class CoordinationException extends Error {
  constructor(
    readonly code: CoordinationExceptionCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CoordinationException';
  }
}
