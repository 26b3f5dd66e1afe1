import { jsonError } from 'src/modules/relay/dialects/dialect-helpers';
import { redactCredentials } from 'src/modules/relay/dialects/openai/openai-error';
import type { ErrorKind } from 'src/modules/relay/relay.exception';
import type { RelayErrorView, RenderedError, StreamBreak } from 'src/modules/relay/relay.types';

/**
 * Google's error shape, as the Gemini API answers and `@google/genai` and Gemini CLI read it:
 * `{"error":{"code":429,"message":"…","status":"RESOURCE_EXHAUSTED","details":[…]}}`, where
 * `status` is the google.rpc.Code name of the HTTP status and `details` carry typed messages
 * (`google.rpc.RetryInfo` with a `retryDelay` such as `"37s"`, `google.rpc.ErrorInfo` with a
 * `reason`, `google.rpc.BadRequest` with field violations). Gemini CLI reads the RetryInfo of a
 * 429 to decide how long to wait before it retries. One shape for both Google dialects: the
 * Gemini API's (`gemini`) and Code Assist's (`code-assist`, Gemini CLI's Google-login mode).
 */

const TYPE_PREFIX = 'type.googleapis.com/google.rpc.';

/** The google.rpc.Code name Google's HTTP mapping gives a status. */
export function googleStatusName(status: number): string {
  switch (status) {
    case 400:
    case 413:
      return 'INVALID_ARGUMENT';
    case 401:
      return 'UNAUTHENTICATED';
    case 403:
      return 'PERMISSION_DENIED';
    case 404:
      return 'NOT_FOUND';
    case 405:
    case 501:
      return 'UNIMPLEMENTED';
    case 409:
      return 'ABORTED';
    case 429:
      return 'RESOURCE_EXHAUSTED';
    case 499:
      return 'CANCELLED';
    case 502:
    case 503:
      return 'UNAVAILABLE';
    case 504:
      return 'DEADLINE_EXCEEDED';
    default:
      return status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION';
  }
}

export interface GoogleErrorInput {
  status: number;
  message: string;
  /** ErrorInfo `reason` (Switchyard's code, or Google's own like `API_KEY_INVALID`). */
  reason?: string;
  /** The request field the error is about (a BadRequest field violation). */
  field?: string;
  /** Seconds until a retry may pass (a RetryInfo `retryDelay`). */
  retryAfterSeconds?: number;
}

/** The `error` object of a Google error body. */
export function googleErrorObject(input: GoogleErrorInput): Record<string, unknown> {
  const message = redactCredentials(input.message);
  const details: Record<string, unknown>[] = [];
  if (input.reason !== undefined) {
    details.push({
      '@type': `${TYPE_PREFIX}ErrorInfo`,
      reason: input.reason,
      domain: 'switchyard',
    });
  }
  if (input.field !== undefined) {
    details.push({
      '@type': `${TYPE_PREFIX}BadRequest`,
      fieldViolations: [{ field: input.field, description: message }],
    });
  }
  if (input.retryAfterSeconds !== undefined) {
    details.push({ '@type': `${TYPE_PREFIX}RetryInfo`, retryDelay: `${input.retryAfterSeconds}s` });
  }
  return {
    code: input.status,
    message,
    status: googleStatusName(input.status),
    ...(details.length > 0 ? { details } : {}),
  };
}

/** The bytes of a Google error response body. */
export function googleErrorBody(input: GoogleErrorInput): Buffer {
  return Buffer.from(JSON.stringify({ error: googleErrorObject(input) }), 'utf8');
}

/**
 * The bytes that fail a Gemini SSE stream after its headers went out: a `data:` event holding
 * an `error` object, with the CRLF line ends Google's streams use. `@google/genai` throws an
 * ApiError for a chunk that carries `error`.
 */
export function googleStreamErrorEvent(status: number, message: string): Buffer {
  return Buffer.from(
    `data: ${JSON.stringify({ error: googleErrorObject({ status, message }) })}\r\n\r\n`,
    'utf8',
  );
}

/** The status a dialect-independent kind gets in Google's shape where it differs from the generic one. */
const STATUS: Partial<Record<ErrorKind, number>> = {
  // Google has no 402 and no 529: a spent quota is RESOURCE_EXHAUSTED, an overload UNAVAILABLE.
  budget: 429,
  overloaded: 503,
};

/** The status of a stream that breaks, by kind (anything else is INTERNAL). */
const STREAM_STATUS: Partial<Record<ErrorKind, number>> = {
  rate_limited: 429,
  overloaded: 503,
  unavailable: 503,
  timeout: 504,
  upstream_failure: 502,
};

/**
 * A relay error as Google answers one: its status (no 402 or 529), the Switchyard code as an
 * ErrorInfo reason, the field as a BadRequest violation, `retry-after` as a RetryInfo.
 */
export function renderGoogleError(error: RelayErrorView): RenderedError {
  const status = STATUS[error.kind] ?? error.status;
  const retryAfter = Number(error.headers?.['retry-after']);
  const body = googleErrorBody({
    status,
    message: error.message,
    reason: error.reason ?? error.code,
    ...(error.param === undefined ? {} : { field: error.param }),
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
  });
  return jsonError(status, body, error.headers);
}

/** The SSE event that fails a Google stream of either dialect, for a kind. */
export function googleStreamError(kind: ErrorKind, message: string, at?: StreamBreak): Buffer {
  const status = STREAM_STATUS[kind] ?? 500;
  if (at?.framing !== 'json-array') return googleStreamErrorEvent(status, message);
  // A streamed JSON array: an upstream array that ended cleanly is closed already (its bytes
  // stand as they are); one that broke off gets the error as its last element, and is closed.
  if (at.endedCleanly) return Buffer.alloc(0);
  const element = JSON.stringify({ error: googleErrorObject({ status, message }) });
  return Buffer.from(at.started ? `,\r\n${element}\r\n]` : `[${element}]`, 'utf8');
}
