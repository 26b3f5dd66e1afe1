import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';

/**
 * The one formatter of OpenAI-shaped errors: `{"error":{"message","type","param","code"}}`, the
 * body openai-node and openai-python read into `APIError` (`.type`, `.param`, `.code`; the class
 * comes from the status: 400 BadRequestError, 401 AuthenticationError, 429 RateLimitError, ≥500
 * InternalServerError, …). Used for Switchyard's own errors on OpenAI routes and for upstream
 * errors a converter passes through.
 *
 * Types and codes follow what api.openai.com returns: every 4xx about the request is
 * `invalid_request_error` (a bad key too, with code `invalid_api_key`); a rate limit is 429 with
 * code `rate_limit_exceeded` and the limit's kind as type (`requests` or `tokens`); an exhausted
 * quota is 429 with type and code `insufficient_quota`; 5xx is `server_error`.
 */

export interface OpenAIErrorObject {
  message: string;
  type: string;
  param: string | null;
  code: string | null;
}

/** The `type` OpenAI uses for a status. */
export function openAIErrorType(status: number, code: string | null = null): string {
  if (code === 'insufficient_quota') return 'insufficient_quota';
  if (status === 402) return 'insufficient_quota';
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

/** The `code` OpenAI sends for a status when the caller names none. */
export function defaultOpenAIErrorCode(status: number): string | null {
  switch (status) {
    case 401:
      return 'invalid_api_key';
    case 402:
      return 'insufficient_quota';
    case 429:
      return 'rate_limit_exceeded';
    default:
      return null;
  }
}

/** Longest message passed on; an upstream body is not a place for megabytes of text. */
const MAX_MESSAGE_CHARS = 4000;

/**
 * Secrets that must never reach a client through an error message, whatever an upstream put in
 * it: API keys (`sk-…`, Google `AIza…`, AWS `AKIA…`), bearer tokens, JWTs and `key=value` pairs
 * whose key names a credential.
 */
const CREDENTIAL_PATTERNS: [RegExp, string][] = [
  [/\bsk-[A-Za-z0-9][A-Za-z0-9_-]{7,}/g, 'sk-[redacted]'],
  [/\bAIza[0-9A-Za-z_-]{20,}/g, '[redacted]'],
  [/\bAKIA[0-9A-Z]{12,}/g, '[redacted]'],
  [/\beyJ[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]*/g, '[redacted]'],
  [/\b(bearer)\s+[A-Za-z0-9._~+/-]{8,}=*/gi, '$1 [redacted]'],
  [
    /\b(x-api-key|api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret|secret|password|authorization|token)(["']?\s*[:=]\s*["']?)(?!\[redacted\])[^\s"',;}]+/gi,
    '$1$2[redacted]',
  ],
];

/** `text` with anything that looks like a credential replaced, cut to a sane length. */
export function redactCredentials(text: string): string {
  let out = text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
  for (const [pattern, replacement] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The error object; `code` undefined means the status's default, null means none. */
export function openAIErrorObject(
  status: number,
  message: string,
  code?: string | null,
  param: string | null = null,
  type?: string,
): OpenAIErrorObject {
  const resolvedCode = code === undefined ? defaultOpenAIErrorCode(status) : code;
  return {
    message: redactCredentials(message),
    type: type ?? openAIErrorType(status, resolvedCode),
    param,
    code: resolvedCode,
  };
}

/** The bytes of an OpenAI error response body for `status`. */
export function openAIErrorBody(
  status: number,
  message: string,
  code?: string | null,
  param: string | null = null,
  type?: string,
): Buffer {
  return Buffer.from(
    JSON.stringify({ error: openAIErrorObject(status, message, code, param, type) }),
    'utf8',
  );
}

/**
 * The bytes that fail an OpenAI stream after its headers went out: a `data:` line whose JSON has
 * an `error` object, which openai-node's and openai-python's stream readers raise as `APIError`.
 * No `event:` line, as OpenAI sends it. JSON.stringify escapes CR and LF, so the payload stays on
 * one line.
 */
export function openAIStreamErrorEvent(
  message: string,
  type = 'server_error',
  code: string | null = null,
): Buffer {
  const error: OpenAIErrorObject = { message: redactCredentials(message), type, param: null, code };
  return Buffer.from(`data: ${JSON.stringify({ error })}\n\n`, 'utf8');
}

/**
 * A request OpenAI clients may send that Switchyard cannot honour for the chosen provider: a 400
 * (RelayExceptionCode.INVALID_REQUEST) naming OpenAI's `param` and its fine-grained `code`
 * (`reason` on the RelayException, rendered by the OpenAI dialect). The message names the
 * parameter too, for dialects that only show messages.
 */
export class OpenAIRequestException extends RelayException {
  override readonly details: { param: string | null; openAICode: string | null };

  constructor(
    param: string | null,
    message: string,
    readonly openAICode: string | null = 'invalid_value',
  ) {
    super(RelayExceptionCode.INVALID_REQUEST, message, null, param, openAICode);
    this.name = 'OpenAIRequestException';
    this.details = { param, openAICode };
  }
}
