/**
 * Base of every feature's exception: a stable string code plus a safe message. Domain code
 * throws these; the filter of each surface (admin API, relay dialects) maps codes to a status
 * and a body shape.
 */
export abstract class DomainException extends Error {
  abstract readonly code: string;
  /** HTTP status the admin surface uses for this code. */
  abstract readonly status: number;
  /** Extra, safe-to-show fields for the error body. */
  readonly details?: Record<string, unknown>;
}
