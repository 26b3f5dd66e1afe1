/**
 * What the audit trail stores of an object: a copy with every secret removed. Two nets:
 * - by name: a field whose name looks secret (password, secret, token, apiKey, privateKey,
 *   credentials, authorization, cookie, key digest …), at any depth, is replaced by REDACTED
 *   (null and booleans stay: `hasRefreshToken: true` or `refreshToken: null` tell no secret);
 * - by value: in every other string, what looks like a bearer credential (a `Bearer …` header,
 *   a JWT, an `sk-…` key, a PEM private key) is replaced, and a URL's password is masked.
 * The trail never stores request bodies: snapshots are the admin API's public views and its
 * answers, which pass through here too.
 */

export const REDACTED = '[REDACTED]';

/** Deeper than this is cut off (admin objects are shallow; this bounds hostile input). */
const MAX_DEPTH = 12;
/** Array items kept per array. */
const MAX_ARRAY_ITEMS = 500;

/** Names are compared lower-cased with every non-alphanumeric removed: `client_secret` → `clientsecret`. */
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'credential',
  'authorization',
  'cookie',
  'privatekey',
  'pepper',
  'signature',
];
const SECRET_ENDINGS = [
  'token',
  'apikey',
  'accesskey',
  'sessionkey',
  'signingkey',
  'encryptionkey',
  'masterkey',
  'jwt',
  'digest',
  'hash',
];

/** Whether a field of this name holds a secret (see the module comment). */
export function isSecretField(name: string): boolean {
  const n = name.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (n === 'pass' || n === 'pwd') return true;
  return SECRET_PARTS.some((part) => n.includes(part)) || SECRET_ENDINGS.some((e) => n.endsWith(e));
}

const TEXT_SECRETS: [RegExp, string][] = [
  // PEM blocks (service-account and signing keys).
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // JWTs (three base64url parts, the first a JSON header).
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  // API keys in the common `sk-…` shape (Anthropic, OpenAI, Switchyard's own), Google's `AIza…`,
  // GitHub's `ghp_…`, Slack's `xox?-…`.
  [/\b(sk|rk|pk)-[A-Za-z0-9_-]{16,}/g, REDACTED],
  [/\bAIza[A-Za-z0-9_-]{30,}/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{20,}/g, REDACTED],
  [/\bxox[abposr]-[A-Za-z0-9-]{10,}/g, REDACTED],
  // user:password@ in URLs (proxies, base URLs).
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s@/?#]*@/gi, `$1:${REDACTED}@`],
];

/** A string with every credential-looking piece replaced. */
export function maskSecretText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of TEXT_SECRETS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * A JSON-safe, secret-free copy of `value`. Dates become ISO strings, functions and symbols go,
 * bigint becomes a string, cycles and depth past MAX_DEPTH become `[…]`.
 */
export function sanitize(value: unknown): unknown {
  return copy(value, 0, new WeakSet());
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (value === null || value === undefined) return value ?? null;
  switch (typeof value) {
    case 'string':
      return maskSecretText(value);
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
    case 'undefined':
      return null;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return REDACTED;
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      return value.slice(0, MAX_ARRAY_ITEMS).map((item) => copy(item, depth + 1, seen) ?? null);
    }
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (isSecretField(key)) {
        out[key] =
          item === null || item === undefined || typeof item === 'boolean'
            ? (item ?? null)
            : REDACTED;
        continue;
      }
      const copied = copy(item, depth + 1, seen);
      if (copied !== undefined) out[key] = copied;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
