import type { IncomingHttpHeaders } from 'node:http';

/** RFC 9110 hop-by-hop headers, plus ones the relay sets itself. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
]);

/** Client credentials for Switchyard: never forwarded upstream. */
const CLIENT_CREDENTIALS = new Set([
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
]);

/** Client-side infrastructure headers with no meaning upstream. */
const CLIENT_ONLY = new Set([
  'accept-encoding',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'x-request-id',
]);

/** Upstream headers that describe the account, not the caller's request. */
const ACCOUNT_PRIVATE =
  /^(anthropic-ratelimit-|anthropic-organization-id$|set-cookie$|x-envoy-|cf-ray$|server$|via$|alt-svc$)/;

/** Client request headers never passed upstream: hop-by-hop, credentials, client infrastructure. */
const DROPPED_REQUEST = new Set([...HOP_BY_HOP, ...CLIENT_CREDENTIALS, ...CLIENT_ONLY]);
const NONE_LISTED: ReadonlySet<string> = new Set();

function connectionListed(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): ReadonlySet<string> {
  const value = headers.connection;
  if (value === undefined) return NONE_LISTED;
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter((s) => s.length > 0),
  );
}

/** Client request headers to pass upstream: everything but hop-by-hop, credentials and client infrastructure. */
export function forwardableRequestHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const listed = connectionListed(headers);
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (DROPPED_REQUEST.has(lower) || listed.has(lower)) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  // Bytes pass through unchanged and the usage tap reads them: ask for no compression.
  out['accept-encoding'] = 'identity';
  return out;
}

/** Upstream response headers to pass to the client. */
export function forwardableResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  options: { keepContentLength: boolean },
): Record<string, string | string[]> {
  const listed = connectionListed(headers);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (lower === 'content-length' && options.keepContentLength) {
      out[lower] = value;
      continue;
    }
    if (
      HOP_BY_HOP.has(lower) ||
      listed.has(lower) ||
      ACCOUNT_PRIVATE.test(lower) ||
      lower === 'x-request-id'
    )
      continue;
    out[lower] = value;
  }
  return out;
}

export function headerValue(
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
