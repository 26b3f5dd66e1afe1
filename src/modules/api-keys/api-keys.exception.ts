import { DomainException } from 'src/common/errors/domain.exception';
import {
  KeyRejectionCode,
  type BudgetInfo,
  type KeyRejection,
  type RateLimitInfo,
} from './api-key.types';

/** Errors of the admin API for keys (the relay never sees these). */
export enum ApiKeyAdminCode {
  KEY_NOT_FOUND = 'KEY_NOT_FOUND',
  /** The key is soft-deleted: restore it before changing it. */
  KEY_DELETED = 'KEY_DELETED',
  /** The request is well-formed but contradicts itself (two expiries, a binding with two targets). */
  INVALID_KEY_POLICY = 'INVALID_KEY_POLICY',
}

export type ApiKeyExceptionCode = KeyRejectionCode | ApiKeyAdminCode;

const STATUS: Record<ApiKeyExceptionCode, number> = {
  [KeyRejectionCode.MISSING_KEY]: 401,
  [KeyRejectionCode.INVALID_KEY]: 401,
  [KeyRejectionCode.KEY_DISABLED]: 401,
  [KeyRejectionCode.KEY_EXPIRED]: 401,
  [KeyRejectionCode.PLATFORM_NOT_ALLOWED]: 403,
  [KeyRejectionCode.MODEL_NOT_ALLOWED]: 403,
  [KeyRejectionCode.CLIENT_NOT_ALLOWED]: 403,
  [KeyRejectionCode.WINDOW_LIMIT]: 429,
  [KeyRejectionCode.CONCURRENCY_LIMIT]: 429,
  [KeyRejectionCode.BUDGET_EXHAUSTED]: 402,
  [KeyRejectionCode.KEY_STORE_UNAVAILABLE]: 503,
  [ApiKeyAdminCode.KEY_NOT_FOUND]: 404,
  [ApiKeyAdminCode.KEY_DELETED]: 409,
  [ApiKeyAdminCode.INVALID_KEY_POLICY]: 400,
};

/**
 * A key was refused (relay: rendered in the caller's dialect from `code`, `rateLimit`, `budget`)
 * or an admin operation on keys failed (admin filter: `status` and `details`).
 */
export class ApiKeyException extends DomainException {
  readonly status: number;
  /** 429: values for `retry-after` and `x-ratelimit-limit / remaining / reset`. */
  readonly rateLimit?: RateLimitInfo;
  /** 402 (and a window cost 429): the cap, the spend and when it resets. */
  readonly budget?: BudgetInfo;
  declare readonly details?: Record<string, unknown>;

  constructor(
    readonly code: ApiKeyExceptionCode,
    message: string,
    extra: { rateLimit?: RateLimitInfo; budget?: BudgetInfo } = {},
  ) {
    super(message);
    this.name = 'ApiKeyException';
    this.status = STATUS[code];
    this.rateLimit = extra.rateLimit;
    this.budget = extra.budget;
    if (extra.rateLimit !== undefined || extra.budget !== undefined) {
      this.details = { rateLimit: extra.rateLimit, budget: extra.budget };
    }
  }

  static fromRejection(rejection: KeyRejection): ApiKeyException {
    return new ApiKeyException(rejection.code, rejection.message);
  }

  static notFound(id: string): ApiKeyException {
    return new ApiKeyException(ApiKeyAdminCode.KEY_NOT_FOUND, `API key ${id} not found`);
  }
}

/**
 * Headers of a 429: `retry-after` and `x-ratelimit-reset` in seconds from now (at least 1, so a
 * client never retries in a busy loop), as the IETF RateLimit draft and most SDKs read them.
 */
export function rateLimitHeaders(
  rateLimit: RateLimitInfo,
  now = Date.now(),
): Record<string, string> {
  const seconds = String(Math.max(1, Math.ceil((rateLimit.resetAtMs - now) / 1000)));
  return {
    'retry-after': seconds,
    'x-ratelimit-limit': String(rateLimit.limit),
    'x-ratelimit-remaining': String(Math.max(0, rateLimit.remaining)),
    'x-ratelimit-reset': seconds,
  };
}
