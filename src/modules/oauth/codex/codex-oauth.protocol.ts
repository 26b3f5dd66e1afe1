import { generatePkcePair, type PkcePair } from '../oauth-pkce';

/**
 * The OAuth flow of Codex CLI against auth.openai.com, as codex-rs does it
 * (github.com/openai/codex: codex-rs/login/src/server.rs, pkce.rs, token_data.rs,
 * auth/manager.rs). Pure functions: no I/O, no clock but what is passed in.
 */

/**
 * The only redirect URI registered for Codex's client id: Codex CLI listens there during a login.
 * Switchyard does not: the browser lands on it (nothing answers) and the admin pastes the URL back.
 */
export const CODEX_REDIRECT_URI = 'http://localhost:1455/auth/callback';

/** Codex's scopes; offline_access is what makes the endpoint issue a refresh token. */
export const CODEX_SCOPES =
  'openid profile email offline_access api.connectors.read api.connectors.invoke';

/** The `originator` Codex CLI names itself with (codex-rs DEFAULT_ORIGINATOR). */
export const CODEX_ORIGINATOR = 'codex_cli_rs';

/** The JWT claim object that carries the ChatGPT account, user and plan. */
const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';

export { generateState, isWellFormedState, pkceChallenge, type PkcePair } from '../oauth-pkce';

/** 64 random bytes as the verifier (86 characters, within RFC 7636's 43..128), as Codex does. */
export function generatePkce(): PkcePair {
  return generatePkcePair(64);
}

export interface AuthorizeParams {
  authorizeUrl: string;
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  state: string;
}

/** The URL the admin opens to sign in: Codex CLI's query, parameter for parameter. */
export function buildAuthorizeUrl(params: AuthorizeParams): string {
  const url = new URL(params.authorizeUrl);
  const query: [string, string][] = [
    ['response_type', 'code'],
    ['client_id', params.clientId],
    ['redirect_uri', params.redirectUri],
    ['scope', CODEX_SCOPES],
    ['code_challenge', params.codeChallenge],
    ['code_challenge_method', 'S256'],
    ['id_token_add_organizations', 'true'],
    ['codex_cli_simplified_flow', 'true'],
    ['state', params.state],
    ['originator', CODEX_ORIGINATOR],
  ];
  for (const [name, value] of query) url.searchParams.set(name, value);
  return url.toString();
}

/** What the authorization server put on the redirect URI. */
export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * The parameters of a pasted callback: the whole URL the browser landed on
 * (`http://localhost:1455/auth/callback?code=…&state=…`), its query string alone (`?code=…` or
 * `code=…&state=…`), or null when the text is neither.
 */
export function parseCallbackUrl(text: string): CallbackParams | null {
  const trimmed = text.trim();
  let search: URLSearchParams;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      search = new URL(trimmed).searchParams;
    } catch {
      return null;
    }
  } else if (/^\??[^\s=&]+=/.test(trimmed)) {
    search = new URLSearchParams(trimmed.replace(/^\?/, ''));
  } else {
    return null;
  }
  const params: CallbackParams = {};
  const code = nonEmpty(search.get('code'));
  const state = nonEmpty(search.get('state'));
  const error = nonEmpty(search.get('error'));
  const errorDescription = nonEmpty(search.get('error_description'));
  if (code !== undefined) params.code = code;
  if (state !== undefined) params.state = state;
  if (error !== undefined) params.error = error;
  if (errorDescription !== undefined) params.errorDescription = errorDescription;
  return params;
}

/** A pasted answer: a callback URL (or its query), else the bare authorization code. */
export function parsePastedCallback(text: string): CallbackParams {
  const parsed = parseCallbackUrl(text);
  if (parsed !== null) return parsed;
  const code = text.trim();
  return code === '' ? {} : { code };
}

/**
 * The payload of a JWT as a JSON object, or null when it is not one. The signature is not
 * checked: the tokens come straight from the token endpoint over TLS (or from the admin's own
 * Codex login), and are only read for facts the upstream checks again.
 */
export function decodeJwtPayload(jwt: string): Record<string, unknown> | null {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((part) => part === '')) return null;
  const payload = parts[1] ?? '';
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(payload)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function objectAt(claims: Record<string, unknown> | null, key: string): Record<string, unknown> {
  const value = claims?.[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** When a JWT expires (its `exp`, epoch ms), undefined when it does not say. */
export function jwtExpiresAt(jwt: string): number | undefined {
  const exp = decodeJwtPayload(jwt)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) && exp > 0 ? exp * 1000 : undefined;
}

/** Who a login belongs to, read from its tokens' claims. */
export interface CodexIdentity {
  email?: string;
  /** chatgpt_plan_type: free, plus, pro, team, business, enterprise, edu … */
  plan?: string;
  chatgptUserId?: string;
  /** The ChatGPT account (workspace) id, sent upstream as `chatgpt-account-id`. */
  chatgptAccountId?: string;
}

/**
 * The identity in a login's tokens, as Codex reads it: the id_token's `email` (else its profile
 * claim's) and its `https://api.openai.com/auth` claim (chatgpt_plan_type, chatgpt_user_id or
 * user_id, chatgpt_account_id). The access token carries the same auth claim; it fills what an
 * id_token lacks (or when there is none, as in an auth.json written from external tokens).
 */
export function codexIdentity(tokens: { idToken?: string; accessToken?: string }): CodexIdentity {
  const id = tokens.idToken === undefined ? null : decodeJwtPayload(tokens.idToken);
  const access = tokens.accessToken === undefined ? null : decodeJwtPayload(tokens.accessToken);
  const idAuth = objectAt(id, AUTH_CLAIM);
  const accessAuth = objectAt(access, AUTH_CLAIM);
  const identity: CodexIdentity = {};
  const email = text(id?.email) ?? text(objectAt(id, PROFILE_CLAIM).email);
  const plan = text(idAuth.chatgpt_plan_type) ?? text(accessAuth.chatgpt_plan_type);
  const chatgptUserId =
    text(idAuth.chatgpt_user_id) ??
    text(idAuth.user_id) ??
    text(accessAuth.chatgpt_user_id) ??
    text(accessAuth.user_id);
  const chatgptAccountId = text(idAuth.chatgpt_account_id) ?? text(accessAuth.chatgpt_account_id);
  if (email !== undefined) identity.email = email;
  if (plan !== undefined) identity.plan = plan;
  if (chatgptUserId !== undefined) identity.chatgptUserId = chatgptUserId;
  if (chatgptAccountId !== undefined) identity.chatgptAccountId = chatgptAccountId;
  return identity;
}

/** A token endpoint error, short and without secrets (error bodies carry none). */
export function tokenErrorDetail(status: number, body: unknown): string {
  const { code, message } = tokenErrorFields(body);
  return [`token endpoint answered ${status}`, code, message?.slice(0, 200)]
    .filter(Boolean)
    .join(': ');
}

/**
 * The error code and message of a token endpoint answer. OpenAI answers either OAuth's
 * `{ error, error_description }` or `{ error: { code, message } }`; codex-rs reads both
 * (extract_refresh_token_error_code, parse_token_endpoint_error).
 */
export function tokenErrorFields(body: unknown): { code?: string; message?: string } {
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const error = record.error;
  const nested =
    typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
  const code = text(error) ?? text(nested.code) ?? text(record.code);
  const message = text(record.error_description) ?? text(nested.message);
  const fields: { code?: string; message?: string } = {};
  if (code !== undefined) fields.code = code;
  if (message !== undefined) fields.message = message;
  return fields;
}

/**
 * Error codes OpenAI answers for a refresh token that will never work again (codex-rs
 * classify_refresh_token_failure): final whatever the status.
 */
const DEAD_REFRESH_TOKEN_CODES = new Set([
  'refresh_token_expired',
  'refresh_token_reused',
  'refresh_token_invalidated',
]);

/**
 * Whether a token endpoint's error status is final ('refused': the grant is dead, or the request
 * is wrong) or worth trying again later ('unavailable': 408, 429, 5xx), as the CredentialRefresher
 * port distinguishes them. A dead refresh token's own error code is final whatever the status.
 */
export function classifyTokenFailure(status: number, body: unknown): 'refused' | 'unavailable' {
  const code = tokenErrorFields(body).code?.toLowerCase();
  if (code !== undefined && DEAD_REFRESH_TOKEN_CODES.has(code)) return 'refused';
  return status === 408 || status === 429 || status >= 500 ? 'unavailable' : 'refused';
}
