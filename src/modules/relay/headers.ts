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

/**
 * Client request headers no provider's allowlist may name: hop-by-hop ones; `expect` (this
 * server already answered `100-continue`, and undici refuses the header outright); Switchyard's
 * own credentials; where the client is (its address, proxies and CDN in front of the relay);
 * `accept-encoding` (the relay asks for identity), `x-request-id` (the relay's own) and the
 * client's W3C trace context (with tracing on, the relay names its own span instead).
 */
const NEVER_FORWARDED = new Set([
  ...HOP_BY_HOP,
  'expect',
  'authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'forwarded',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'fastly-client-ip',
  'accept-encoding',
  'x-request-id',
  // Trace context: the relay sends its own (the attempt's span) where the provider takes one.
  'traceparent',
  'tracestate',
]);
const NEVER_FORWARDED_PREFIXES = ['x-forwarded-', 'cf-', 'proxy-'];

/** Upstream response headers that describe the account, not the caller's request. */
const ACCOUNT_PRIVATE = new Set([
  'anthropic-organization-id',
  'openai-organization',
  'openai-project',
  'set-cookie',
  'cf-ray',
  'server',
  'via',
  'alt-svc',
  // Switchyard sets its own.
  'x-request-id',
]);
const ACCOUNT_PRIVATE_PREFIXES = ['anthropic-ratelimit-', 'x-envoy-', 'x-ratelimit-', 'x-codex-'];

const NONE_LISTED: ReadonlySet<string> = new Set();

/**
 * The client request headers one provider's upstream receives. Built once per provider with
 * `requestHeaderAllowlist`; checking a header costs a Set lookup and, for the few prefixes, a
 * `startsWith` each.
 */
export interface RequestHeaderAllowlist {
  readonly names: ReadonlySet<string>;
  readonly prefixes: readonly string[];
}

/**
 * An allowlist of lowercase header names and name prefixes (`x-stainless-`). Throws when it would
 * let through a header that must never reach an upstream, so a provider cannot declare one by
 * mistake.
 */
export function requestHeaderAllowlist(
  names: readonly string[],
  prefixes: readonly string[] = [],
): RequestHeaderAllowlist {
  for (const name of names) {
    if (name !== name.toLowerCase()) throw new Error(`header allowlist: ${name} is not lowercase`);
    if (NEVER_FORWARDED.has(name) || NEVER_FORWARDED_PREFIXES.some((p) => name.startsWith(p))) {
      throw new Error(`header allowlist: ${name} must never be forwarded`);
    }
  }
  for (const prefix of prefixes) {
    if (prefix !== prefix.toLowerCase() || prefix.length < 3) {
      throw new Error(`header allowlist: bad prefix ${prefix}`);
    }
    const covers = (name: string): boolean => name.startsWith(prefix);
    if (
      [...NEVER_FORWARDED].some(covers) ||
      NEVER_FORWARDED_PREFIXES.some((p) => covers(p) || prefix.startsWith(p))
    ) {
      throw new Error(`header allowlist: prefix ${prefix} covers a header never forwarded`);
    }
  }
  return { names: new Set(names), prefixes: [...prefixes] };
}

function isAllowed(allow: RequestHeaderAllowlist, name: string): boolean {
  if (allow.names.has(name)) return true;
  for (const prefix of allow.prefixes) if (name.startsWith(prefix)) return true;
  return false;
}

/**
 * Header names the `Connection` header declares hop-by-hop. Clients nearly always send only
 * `keep-alive` or `close`, which name no end-to-end header: those cost no Set.
 */
function connectionListed(
  headers: IncomingHttpHeaders | Record<string, string | string[] | undefined>,
): ReadonlySet<string> {
  const value = headers.connection;
  if (value === undefined) return NONE_LISTED;
  const text = Array.isArray(value) ? value.join(',') : value;
  const lower = text.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return NONE_LISTED;
  return new Set(
    lower
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );
}

/**
 * The client request headers to pass upstream: those the provider's allowlist names, minus any
 * the client's `Connection` header lists, plus `accept-encoding: identity`. Names are read as
 * Node delivers them (lowercase); anything else is dropped.
 */
export function forwardableRequestHeaders(
  headers: IncomingHttpHeaders,
  allow: RequestHeaderAllowlist,
): Record<string, string> {
  const listed = connectionListed(headers);
  const out: Record<string, string> = {};
  for (const name in headers) {
    if (!isAllowed(allow, name) || (listed !== NONE_LISTED && listed.has(name))) continue;
    const value = headers[name];
    if (value === undefined) continue;
    out[name] = typeof value === 'string' ? value : value.join(', ');
  }
  // Bytes pass through unchanged and the usage tap reads them: ask for no compression.
  out['accept-encoding'] = 'identity';
  return out;
}

function isAccountPrivate(name: string): boolean {
  if (ACCOUNT_PRIVATE.has(name)) return true;
  for (const prefix of ACCOUNT_PRIVATE_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
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
    if (HOP_BY_HOP.has(lower) || listed.has(lower) || isAccountPrivate(lower)) continue;
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
