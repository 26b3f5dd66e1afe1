import type { ErrorKind } from 'src/modules/relay/relay.exception';

/** google.rpc.Code names by HTTP status, as Google APIs answer them. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  402: 'RESOURCE_EXHAUSTED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'UNIMPLEMENTED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function googleStatusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
}

/**
 * A Google error body (`{"error":{"code","message","status","details"}}`): Gemini CLI and the
 * `@google/genai` SDK read it; a wait is a google.rpc.RetryInfo detail, which Gemini CLI's
 * quota handling reads for its retry delay.
 */
export function googleErrorBody(
  status: number,
  message: string,
  options: { retryAfterSeconds?: number; reason?: string } = {},
): Record<string, unknown> {
  const details: Record<string, unknown>[] = [];
  if (options.reason !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: options.reason,
      domain: 'switchyard',
    });
  }
  if (options.retryAfterSeconds !== undefined) {
    details.push({
      '@type': 'type.googleapis.com/google.rpc.RetryInfo',
      retryDelay: `${options.retryAfterSeconds}s`,
    });
  }
  return {
    error: {
      code: status,
      message,
      status: googleStatusName(status),
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

/** The status a kind is answered with in Google's shape (a spent budget is a quota: 429). */
export function googleStatusOf(kind: ErrorKind, status: number): number {
  return kind === 'budget' ? 429 : status;
}
