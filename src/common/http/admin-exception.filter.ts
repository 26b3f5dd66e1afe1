import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { randomUUID } from 'node:crypto';
import { DomainException } from 'src/common/errors/domain.exception';
import { appLogger } from 'src/common/logging/app-logger';

export interface AdminErrorBody {
  error: { code: string; message: string; details?: unknown; errorId?: string };
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
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message =
      typeof response === 'object' && response !== null && 'message' in response
        ? response.message
        : exception.message;
    return {
      status,
      body: {
        error: {
          code: status === 400 ? 'VALIDATION_FAILED' : httpCode(status),
          message: Array.isArray(message) ? message.join('; ') : String(message),
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
