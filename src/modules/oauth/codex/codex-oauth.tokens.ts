import type { AccountSubscription } from 'src/modules/accounts/account.types';
import type { CodexOAuthCredentials } from './codex-oauth.credentials';
import { codexIdentity, jwtExpiresAt, type CodexIdentity } from './codex-oauth.protocol';

/** The tokens of one login or refresh, whatever they came from (token endpoint, auth.json). */
export interface CodexTokens {
  accessToken: string;
  refreshToken?: string;
  idToken?: string;
  /** The ChatGPT account id when the source names it (auth.json's tokens.account_id). */
  accountId?: string;
  /** Seconds, when the token endpoint says. */
  expiresIn?: number;
}

/** A token endpoint answer as codex-rs reads it (RefreshResponse, ExchangedTokens). */
export interface CodexTokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  id_token?: unknown;
  expires_in?: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The tokens in a token endpoint answer; null when it carries no access token. */
export function tokensFromResponse(body: CodexTokenResponse): CodexTokens | null {
  const accessToken = text(body.access_token);
  if (accessToken === undefined) return null;
  const tokens: CodexTokens = { accessToken };
  const refreshToken = text(body.refresh_token);
  const idToken = text(body.id_token);
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (idToken !== undefined) tokens.idToken = idToken;
  if (typeof body.expires_in === 'number' && Number.isFinite(body.expires_in)) {
    tokens.expiresIn = body.expires_in;
  }
  return tokens;
}

export type CredentialsOutcome =
  | { ok: true; credentials: CodexOAuthCredentials; identity: CodexIdentity }
  | { ok: false; detail: string };

/**
 * The credentials after a login or refresh. A refresh answer may leave out the refresh token and
 * the id_token (codex-rs keeps the old ones then), so `previous` fills them; the account id comes
 * from the new tokens' claims, else the source's own, else the previous credentials. The expiry
 * is the access token's own `exp` (as the codex-oauth descriptor reads it back, and as codex-rs
 * judges staleness), else `expires_in` when the endpoint sends it.
 */
export function credentialsFromTokens(
  tokens: CodexTokens,
  previous: CodexOAuthCredentials | null,
  now: number,
): CredentialsOutcome {
  const idToken = tokens.idToken ?? previous?.idToken;
  const identity = codexIdentity({ accessToken: tokens.accessToken, idToken });
  const accountId = identity.chatgptAccountId ?? tokens.accountId ?? previous?.accountId;
  if (accountId === undefined) {
    return {
      ok: false,
      detail: 'the tokens name no ChatGPT account (no chatgpt_account_id claim)',
    };
  }
  const credentials: CodexOAuthCredentials = {
    type: 'codex-oauth',
    accessToken: tokens.accessToken,
    accountId,
  };
  // The endpoint rotates refresh tokens; keep the old one only when it sends none.
  const refreshToken = tokens.refreshToken ?? previous?.refreshToken;
  if (refreshToken !== undefined) credentials.refreshToken = refreshToken;
  if (idToken !== undefined) credentials.idToken = idToken;
  const expiresAt =
    jwtExpiresAt(tokens.accessToken) ??
    (tokens.expiresIn === undefined ? undefined : now + Math.round(tokens.expiresIn * 1000));
  if (expiresAt !== undefined) credentials.expiresAt = expiresAt;
  return { ok: true, credentials, identity };
}

/**
 * The subscription facts of a login (not secret; shown to admins): the plan and email, the
 * ChatGPT user as the account and the ChatGPT account (workspace) as the organisation. Merged
 * over `current`, so a refresh whose tokens say less keeps what was known.
 */
export function subscriptionFrom(
  identity: CodexIdentity,
  current: AccountSubscription | null,
): AccountSubscription | null {
  const facts: AccountSubscription = {};
  if (identity.plan !== undefined) facts.plan = identity.plan;
  if (identity.email !== undefined) facts.email = identity.email;
  if (identity.chatgptUserId !== undefined) facts.accountUuid = identity.chatgptUserId;
  if (identity.chatgptAccountId !== undefined) facts.organizationUuid = identity.chatgptAccountId;
  if (Object.keys(facts).length === 0) return current;
  return { ...current, ...facts };
}
