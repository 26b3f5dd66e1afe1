import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { DomainException } from 'src/common/errors/domain.exception';
import { appLogger } from 'src/common/logging/app-logger';
import {
  CoordinationException,
  CoordinationExceptionCode,
} from 'src/infra/coordination/coordination.exception';

export interface AdminErrorBody {
  error: {
    code: string;
    message: string;
    /**
     * `retryAfterSeconds` here is also sent as the `retry-after` header; a VALIDATION_FAILED
     * from request validation has `fields: [{ field, messages }]`.
     */
    details?: Record<string, unknown>;
    errorId?: string;
  };
}

/**
 * The admin API's (and every non-relay route's) error shape: `{ error: { code, message } }`.
 * Unknown errors become an opaque 500 with an error id; the detail goes to the log only.
 */
@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const { status, body } = toAdminError(exception);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const retryAfter = body.error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') res.setHeader('retry-after', String(retryAfter));
    res.status(status).json(body);
  }
}

export function toAdminError(exception: unknown): { status: number; body: AdminErrorBody } {
  if (exception instanceof DomainException) {
    return {
      status: exception.status,
      body: {
        error: { code: exception.code, message: exception.message, details: exception.details },
      },
    };
  }
  if (
    exception instanceof CoordinationException &&
    exception.code !== CoordinationExceptionCode.INVALID_ARGUMENT
  ) {
    // Redis is down or closing: a login's throttle or a key's limits cannot be checked. Say so
    // and when to come back, rather than an opaque 500.
    appLogger.warn({ code: exception.code }, 'admin request refused: coordinator unavailable');
    return {
      status: 503,
      body: {
        error: {
          code: CoordinationExceptionCode.UNAVAILABLE,
          message: 'the coordination store (Redis) is unavailable; retry shortly',
          details: { retryAfterSeconds: 2 },
        },
      },
    };
  }
  const bodyError = bodyParserError(exception);
  if (bodyError !== undefined) return bodyError;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : exception.message;
    // Request validation (adminValidationPipe) also says which message belongs to which field.
    const fields =
      typeof response === 'object' && response !== null && 'fields' in response
        ? response.fields
        : undefined;
    return {
      status,
      body: {
        error: {
          code: status === 400 ? 'VALIDATION_FAILED' : httpCode(status),
          message: Array.isArray(message) ? message.join('; ') : String(message),
          ...(Array.isArray(fields) ? { details: { fields } } : {}),
        },
      },
    };
  }
  const errorId = randomUUID();
  appLogger.error({ err: exception, errorId }, 'unhandled error');
  return {
    status: 500,
    body: { error: { code: 'INTERNAL_ERROR', message: 'internal error', errorId } },
  };
}

/**
 * The status and code toAdminError answers an exception with, without its side effects (no log
 * line, no error id): for whoever records the outcome of a request (the audit trail).
 */
export function adminErrorOutcome(exception: unknown): { status: number; code: string } {
  if (exception instanceof DomainException) {
    return { status: exception.status, code: exception.code };
  }
  if (
    exception instanceof CoordinationException &&
    exception.code !== CoordinationExceptionCode.INVALID_ARGUMENT
  ) {
    return { status: 503, code: CoordinationExceptionCode.UNAVAILABLE };
  }
  const bodyError = bodyParserError(exception);
  if (bodyError !== undefined) return { status: bodyError.status, code: bodyError.body.error.code };
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    return { status, code: status === 400 ? 'VALIDATION_FAILED' : httpCode(status) };
  }
  return { status: 500, code: 'INTERNAL_ERROR' };
}

/**
 * Errors of the admin API's JSON body parser (an http-errors error with a `type`): a client's
 * mistake, answered as such rather than as an opaque 500. (Invalid JSON arrives as Nest's own
 * BadRequestException.)
 */
function bodyParserError(exception: unknown): { status: number; body: AdminErrorBody } | undefined {
  if (typeof exception !== 'object' || exception === null || !('type' in exception)) {
    return undefined;
  }
  const { type } = exception as { type: unknown; limit?: unknown };
  switch (type) {
    case 'entity.too.large': {
      const limit = (exception as { limit?: unknown }).limit;
      return {
        status: 413,
        body: {
          error: {
            code: 'PAYLOAD_TOO_LARGE',
            message:
              typeof limit === 'number'
                ? `request body is larger than ${limit} bytes`
                : 'request body is too large',
          },
        },
      };
    }
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return {
        status: 415,
        body: { error: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'unsupported body encoding' } },
      };
    case 'request.aborted':
    case 'request.size.invalid':
      return {
        status: 400,
        body: { error: { code: 'BAD_REQUEST', message: 'request body incomplete' } },
      };
    default:
      return undefined;
  }
}

function httpCode(status: number): string {
  switch (status) {
    case 401:
      return 'UNAUTHORIZED';
    case 403:
      return 'FORBIDDEN';
    case 404:
      return 'NOT_FOUND';
    case 409:
      return 'CONFLICT';
    case 413:
      return 'PAYLOAD_TOO_LARGE';
    case 503:
      return 'SERVICE_UNAVAILABLE';
    default:
      return status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST';
  }
}
