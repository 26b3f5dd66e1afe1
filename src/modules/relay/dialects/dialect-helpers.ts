import type { IncomingHttpHeaders } from 'node:http';
import { RelayException, RelayExceptionCode } from 'src/modules/relay/relay.exception';
import type { RenderedError } from 'src/modules/relay/relay.types';
import { MAX_MODEL_NAME_LENGTH } from 'src/modules/usage/pricing.service';

/** What every dialect's parse does first: the body as a JSON object, or a 400. */
export function parseJsonObject(raw: Buffer, notJson: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new RelayException(RelayExceptionCode.INVALID_REQUEST, notJson);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RelayException(
      RelayExceptionCode.INVALID_REQUEST,
      'request body must be a JSON object',
    );
  return body as Record<string, unknown>;
}

/**
 * The body's `model`: present, a string, and short (model names are matched against prices,
 * mappings and patterns on every request).
 */
export function requireModel(body: Record<string, unknown>, missing: string): string {
  const model = body.model;
  const invalid = (message: string): RelayException =>
    new RelayException(RelayExceptionCode.INVALID_REQUEST, message, null, 'model');
  if (model === undefined || model === null || model === '') throw invalid(missing);
  if (typeof model !== 'string') throw invalid('model: must be a string');
  if (model.length > MAX_MODEL_NAME_LENGTH)
    throw invalid(`model: longer than ${MAX_MODEL_NAME_LENGTH} characters`);
  return model;
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function bearerToken(headers: IncomingHttpHeaders): string | null {
  const auth = headers.authorization;
  if (typeof auth !== 'string' || !auth.toLowerCase().startsWith('bearer ')) return null;
  const token = auth.slice(7).trim();
  return token.length > 0 ? token : null;
}

/** A JSON error response: its status, body and the view's headers (retry-after, rate limits). */
export function jsonError(
  status: number,
  body: Buffer,
  headers: Record<string, string> | undefined,
): RenderedError {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      ...headers,
    },
    body,
  };
}
