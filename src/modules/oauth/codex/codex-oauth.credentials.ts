import type { AccountCredentials, AccountType } from 'src/modules/accounts/account.types';

/**
 * The credentials of a `codex-oauth` account (a ChatGPT subscription reached with Codex CLI's
 * OAuth tokens), as the account type's descriptor defines them.
 *
 * PROVISIONAL: the descriptor (src/modules/accounts/types/codex-oauth.ts) lands from another
 * branch. Until then `codex-oauth` is not part of AccountType, so this file is the one bridge
 * between the Codex OAuth code and the accounts module's types. Once the descriptor is in the
 * registry: import CodexOAuthCredentials from it, make CODEX_OAUTH_TYPE `'codex-oauth' as const`,
 * and reduce the three helpers below to plain narrowing (no casts).
 */
export interface CodexOAuthCredentials {
  type: 'codex-oauth';
  accessToken: string;
  /** Rotated by the token endpoint on every refresh. */
  refreshToken?: string;
  /** The OpenID token: plan, email and ChatGPT account id are read from it. */
  idToken?: string;
  /** The ChatGPT account (workspace) id, sent upstream as `chatgpt-account-id`. */
  accountId: string;
  /** When the access token expires, epoch ms. */
  expiresAt?: number;
}

export const CODEX_OAUTH_TYPE = 'codex-oauth' as unknown as AccountType;

/** The account's credentials when they are Codex OAuth ones, else null. */
export function codexCredentialsOf(credentials: AccountCredentials): CodexOAuthCredentials | null {
  const typed = credentials as { type: string };
  return typed.type === 'codex-oauth' ? (credentials as unknown as CodexOAuthCredentials) : null;
}

/** Codex OAuth credentials where the accounts module takes any type's. */
export function asAccountCredentials(credentials: CodexOAuthCredentials): AccountCredentials {
  return credentials as unknown as AccountCredentials;
}

export function isCodexOAuthType(type: string): boolean {
  return type === 'codex-oauth';
}
