/**
 * Redaction for DEBUG_HTTP_TRAFFIC: what a traced upstream exchange may show of its headers, URL
 * and bodies. Pure functions; everything here runs only for traced requests, never on the plain
 * hot path. The rule is to over-redact: a diagnostic log loses a little, a leaked credential is
 * a rotation.
 */

export const REDACTED = '[redacted]';

/** Credential headers of every provider and of the client side (exact names, lower case). */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
]);

/**
 * Any other header whose name says it carries a credential. Not `token` alone: the rate-limit
 * headers (`anthropic-ratelimit-tokens-remaining`) are what one diagnoses with.
 */
const SECRET_HEADER_PATTERN =
  /api[-_]?key|secret|cookie|authori[sz]ation|(access|refresh|id|session|security|auth|bearer)[-_]?token|password|signature|credential/i;

/**
 * Body fields and query parameters that hold credentials, compared without case, `-` or `_`
 * (`access_token`, `accessToken` and `Access-Token` are one name).
 */
const SECRET_FIELDS = new Set(
  [
    'access_token',
    'refresh_token',
    'id_token',
    'session_token',
    'client_secret',
    'code_verifier',
    'api_key',
    'apikey',
    'x-api-key',
    'x-goog-api-key',
    'key',
    'token',
    'secret',
    'password',
    'passwd',
    'authorization',
    'secret_access_key',
    'aws_secret_access_key',
    'private_key',
    'assertion',
    'entra_token',
    'bearer_token',
    'x-amz-security-token',
    'x-amz-signature',
    'x-amz-credential',
    'sig',
    'signature',
  ].map(normalise),
);

/** `code` is an OAuth authorization code only beside these; elsewhere it is an error's code. */
const OAUTH_CODE_SIBLINGS = ['grant_type', 'code_verifier', 'redirect_uri'].map(normalise);

function normalise(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

function isSecretField(name: string): boolean {
  const n = normalise(name);
  return (
    SECRET_FIELDS.has(n) || n.endsWith('token') || n.endsWith('secret') || n.endsWith('apikey')
  );
}

export function isSecretHeader(name: string): boolean {
  const lower = name.toLowerCase();
  return SECRET_HEADERS.has(lower) || SECRET_HEADER_PATTERN.test(lower);
}

/** Replaces every occurrence of a known secret value (longest first) in text. */
export function scrubValues(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

type HeaderValue = string | string[] | number | undefined;

/** Headers with every credential header's value replaced; other values scrubbed of secrets. */
export function redactHeaders(
  headers: Record<string, HeaderValue> | undefined,
  secrets: readonly string[] = [],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (headers === undefined) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (isSecretHeader(name)) {
      out[name] = REDACTED;
    } else if (Array.isArray(value)) {
      out[name] = value.map((v) => scrubValues(String(v), secrets));
    } else {
      out[name] = scrubValues(String(value), secrets);
    }
  }
  return out;
}

/** A URL with its user info and every credential query parameter (`key=`, `sig=`, …) redacted. */
export function redactUrl(raw: string, secrets: readonly string[] = []): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return scrubValues(raw, secrets);
  }
  if (url.username !== '' || url.password !== '') {
    url.username = REDACTED;
    url.password = '';
  }
  const query = url.search === '' ? '' : redactQuery(url.search.slice(1));
  const base = `${url.protocol}//${url.username === '' ? '' : `${url.username}@`}${url.host}${url.pathname}`;
  return scrubValues(`${base}${query === '' ? '' : `?${query}`}${url.hash}`, secrets);
}

/** `a=1&key=…` with credential parameters' values replaced; the rest kept as sent. */
function redactQuery(query: string): string {
  const params = new URLSearchParams(query);
  const hasOAuthCode = [...params.keys()].some((k) => OAUTH_CODE_SIBLINGS.includes(normalise(k)));
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decodeSafely(eq === -1 ? pair : pair.slice(0, eq));
      const secret = isSecretField(name) || (hasOAuthCode && normalise(name) === 'code');
      return secret && eq !== -1 ? `${pair.slice(0, eq)}=${REDACTED}` : pair;
    })
    .join('&');
}

function decodeSafely(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** A parsed JSON value with every credential field replaced, at any depth. */
export function redactJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactJson);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const hasOAuthCode = entries.some(([k]) => OAUTH_CODE_SIBLINGS.includes(normalise(k)));
  const out: Record<string, unknown> = {};
  for (const [name, field] of entries) {
    const secret =
      (isSecretField(name) && (typeof field === 'string' || typeof field === 'number')) ||
      (hasOAuthCode && normalise(name) === 'code');
    out[name] = secret ? REDACTED : redactJson(field);
  }
  return out;
}

/**
 * `"name": "value"` pairs in text that is not one JSON document (SSE events, a body cut at the
 * bound): each credential field's string value replaced.
 */
const JSON_STRING_FIELD = /"((?:[^"\\]|\\.){1,64})"(\s*:\s*)"((?:[^"\\]|\\.)*)"/g;

function redactJsonLikeText(text: string): string {
  const oauth = /"(grant_type|code_verifier|redirect_uri)"/.test(text);
  return text.replace(JSON_STRING_FIELD, (whole, name: string, colon: string) =>
    isSecretField(name) || (oauth && normalise(name) === 'code')
      ? `"${name}"${colon}"${REDACTED}"`
      : whole,
  );
}

/**
 * A body as text for the log: JSON re-serialised with credential fields redacted, a form body
 * with credential parameters redacted, anything else (SSE, a truncated body) with credential
 * `"name":"value"` pairs redacted; then every known secret value scrubbed wherever it is.
 */
export function redactBody(
  body: Buffer,
  contentType: string | undefined,
  secrets: readonly string[] = [],
  complete = true,
): string {
  const text = body.toString('utf8');
  const type = (contentType ?? '').toLowerCase();
  let out: string;
  if (type.includes('application/x-www-form-urlencoded')) {
    out = redactQuery(text);
  } else {
    out = redactJsonLikeText(text);
    if (complete && (type.includes('json') || /^\s*[[{]/.test(text))) {
      try {
        out = JSON.stringify(redactJson(JSON.parse(text)));
      } catch {
        // Not one JSON document: the text-level redaction above stands.
      }
    }
  }
  return scrubValues(out, secrets);
}

/**
 * The secret values of a credentials object (strings under a credential-like field name, at any
 * depth) and of a proxy URL's user info, longest first so a secret containing another is
 * replaced whole. Short strings are skipped: replacing `us-east-1` everywhere helps no one.
 */
export function secretValuesOf(credentials: unknown, proxyUrl?: string | null): string[] {
  const found = new Set<string>();
  const walk = (value: unknown, name: string): void => {
    if (typeof value === 'string') {
      if (value.length >= 8 && /token|secret|key|password|credential|cookie/i.test(name)) {
        found.add(value);
      }
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) walk(v, k);
  };
  walk(credentials, '');
  if (proxyUrl) {
    try {
      const url = new URL(proxyUrl);
      const password = decodeSafely(url.password);
      if (password.length >= 4) found.add(password);
    } catch {
      // Not a URL: nothing to take from it.
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

/**
 * The credential a client sent Switchyard (its Switchyard key), wherever clients put it, so it is
 * scrubbed from the traced exchange even if a header or body were to carry it upstream.
 */
export function inboundSecretValues(
  headers: Record<string, HeaderValue>,
  url: string | undefined,
): string[] {
  const found: string[] = [];
  for (const name of ['authorization', 'x-api-key', 'x-goog-api-key', 'api-key']) {
    const value = headers[name];
    if (typeof value !== 'string') continue;
    const token = value.replace(/^(Bearer|Basic)\s+/i, '').trim();
    if (token.length >= 8) found.push(token);
  }
  const query = url?.indexOf('?') ?? -1;
  if (url !== undefined && query !== -1) {
    const key = new URLSearchParams(url.slice(query + 1)).get('key');
    if (key !== null && key.length >= 8) found.push(key);
  }
  return found;
}
