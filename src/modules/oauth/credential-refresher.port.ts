import type { AccountType } from 'src/modules/accounts/account.types';

/**
 * The CredentialRefresher port: renews the short-lived credentials of one account type (Claude
 * OAuth today; Codex and Google OAuth next). CredentialRefreshService dispatches to the refresher
 * of an account's type; the relay, the admin API and the refresh-ahead job never name a type.
 *
 * Semantics every implementation keeps:
 * - One refresh per account at a time across instances (a coordinator lock): providers rotate
 *   refresh tokens, so two concurrent refreshes would leave one instance with a revoked token.
 *   A refresh that finds the account already refreshed elsewhere adopts those credentials.
 * - When `refreshWithResult` answers ok, this instance's AccountPool already holds the new
 *   credentials (the relay retries with them at once); other instances reload on the account
 *   invalidation the refresher publishes once SQL holds them. Rotated credentials that SQL
 *   refuses stay in use from memory while the save is retried.
 * - Never rejects for an upstream, network or coordinator failure: those are results.
 *   'refused' means the provider said no (the refresh token is dead: a final state); the
 *   others are worth trying again later.
 * - Secrets never appear in a result's detail or in a log line.
 */

export type RefreshFailure =
  | 'not_found'
  /** The account is of another type than the refresher's. */
  | 'wrong_type'
  /** No refresher is registered for the account's type (CredentialRefreshService). */
  | 'no_refresher'
  | 'unreadable'
  | 'no_refresh_token'
  /** The token endpoint said no (4xx): the refresh token is revoked or expired. */
  | 'refused'
  /** Network error, timeout, 429/5xx, or the coordinator is down: worth trying again later. */
  | 'unavailable';

export type RefreshResult =
  | { ok: true; expiresAt: number | null }
  | { ok: false; reason: RefreshFailure; detail: string; status?: number };

/** One run of a refresher's refresh-ahead job: the accounts it refreshed and those it could not. */
export interface RefreshJobSummary {
  refreshed: string[];
  failed: string[];
}

/** How often CredentialRefreshService runs every refresher's job, on every instance. */
export const REFRESH_JOB_INTERVAL_MS = 60_000;

export interface CredentialRefresher {
  /** The account type whose credentials this refresher renews; one refresher per type. */
  readonly accountType: AccountType;

  /** Renews the credentials of one account of `accountType` now (an admin, or a 401). */
  refreshWithResult(accountId: string): Promise<RefreshResult>;

  /**
   * The refresh-ahead job, called every REFRESH_JOB_INTERVAL_MS on every instance: renews the
   * enabled, active accounts whose credentials expire soon, on one instance at a time (a job
   * lock that expires before the next run), and marks auth_failed those whose refresh was
   * refused. Rejects only when the job could not start (the coordinator is down).
   */
  runRefreshJob(): Promise<RefreshJobSummary>;
}

/** Injects every registered CredentialRefresher (an array; OAuthModule lists them). */
export const CREDENTIAL_REFRESHERS = Symbol('CREDENTIAL_REFRESHERS');
