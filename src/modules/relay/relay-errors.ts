import {
  CoordinationException,
  CoordinationExceptionCode,
} from 'src/infra/coordination/coordination.exception';
import { DomainException } from 'src/common/errors/domain.exception';
import { ApiKeyException, rateLimitHeaders } from 'src/modules/api-keys/api-keys.exception';
import { KeyRejectionCode } from 'src/modules/api-keys/api-key.types';
import {
  GENERIC_STATUS,
  kindOfStatus,
  RelayException,
  RelayExceptionCode,
} from './relay.exception';
import type { RelayErrorView } from './relay.types';

/**
 * Maps anything thrown on the relay path to a view every dialect can render. Unknown errors are
 * opaque (the caller gets an error id; the detail is logged by the caller).
 */
export function toRelayErrorView(error: unknown, errorId: string): RelayErrorView {
  if (error instanceof ApiKeyException) {
    const view: RelayErrorView = {
      kind: kindOfStatus(error.status),
      status: error.status,
      code: error.code,
      message: error.message,
    };
    if (error.rateLimit !== undefined) view.headers = rateLimitHeaders(error.rateLimit);
    if (error.code === KeyRejectionCode.KEY_STORE_UNAVAILABLE)
      view.headers = { 'retry-after': '2' };
    // A budget refusal's message is worded by admission (budgetRefusal): cap, spend, what the
    // request could cost and why, and what to change.
    return view;
  }
  if (error instanceof RelayException) {
    const view: RelayErrorView = {
      kind: error.kind,
      status: error.status,
      code: error.code,
      message: error.message,
    };
    if (error.param !== null) view.param = error.param;
    if (error.reason !== null) view.reason = error.reason;
    if (error.retryAtMs !== null && error.retryAtMs > Date.now()) {
      const seconds = Math.max(1, Math.ceil((error.retryAtMs - Date.now()) / 1000));
      view.headers = { 'retry-after': String(seconds) };
    }
    return view;
  }
  if (
    error instanceof CoordinationException &&
    error.code !== CoordinationExceptionCode.INVALID_ARGUMENT
  ) {
    // Limits cannot be checked without the coordinator: refuse rather than serve unmetered.
    return {
      kind: 'unavailable',
      status: GENERIC_STATUS.unavailable,
      code: error.code,
      message: 'rate limiting is unavailable right now; retry shortly',
      headers: { 'retry-after': '2' },
    };
  }
  if (error instanceof DomainException) {
    return {
      kind: kindOfStatus(error.status),
      status: error.status,
      code: error.code,
      message: error.message,
    };
  }
  return {
    kind: 'internal',
    status: 500,
    code: 'INTERNAL_ERROR',
    message: `internal error (id ${errorId})`,
  };
}

/** Errors the caller is told about plainly; anything else is logged with an id. */
export function isRelayKnownError(error: unknown): boolean {
  return error instanceof DomainException;
}

export { RelayExceptionCode };
