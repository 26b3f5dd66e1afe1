import type { AccountCredentials, AccountType } from 'src/modules/accounts/account.types';
import type { CodexOAuthCredentials } from 'src/modules/accounts/types/codex-oauth';

export type { CodexOAuthCredentials } from 'src/modules/accounts/types/codex-oauth';

export const CODEX_OAUTH_TYPE = 'codex-oauth' as const satisfies AccountType;

/** The account's credentials when they are Codex OAuth ones, else null. */
export function codexCredentialsOf(credentials: AccountCredentials): CodexOAuthCredentials | null {
  return credentials.type === 'codex-oauth' ? credentials : null;
}

/** Codex OAuth credentials where the accounts module takes any type's. */
export function asAccountCredentials(credentials: CodexOAuthCredentials): AccountCredentials {
  return credentials;
}

export function isCodexOAuthType(type: string): boolean {
  return type === 'codex-oauth';
}
