import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountCredentials, RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { GeminiOAuthCredentials } from 'src/modules/accounts/types/gemini-oauth';
import type {
  CredentialRefresher,
  RefreshJobSummary,
  RefreshResult,
} from '../credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  RefreshDiscipline,
  type RefreshDisciplineOptions,
} from '../refresh-discipline';
import { GoogleTokenClient } from './google-token.client';

export type GoogleOAuthRefresherOptions = RefreshDisciplineOptions;

export const GOOGLE_OAUTH_REFRESHER_OPTIONS = Symbol('GOOGLE_OAUTH_REFRESHER_OPTIONS');

function geminiCredentialsOf(credentials: AccountCredentials): GeminiOAuthCredentials | null {
  return credentials.type === 'gemini-oauth' ? credentials : null;
}

/**
 * Refreshes the Google access tokens of gemini-oauth accounts (their CredentialRefresher) with
 * google-auth-library's refresh grant at GOOGLE_OAUTH_TOKEN_URL: after a 401 (the relay asks
 * CredentialRefreshService, then retries once) and ahead of expiry (the job every minute). The
 * lock, job and save discipline is the one the Claude and Codex refreshers share
 * (RefreshDiscipline): one refresh per account at a time across instances, a refresh that finds
 * the account already refreshed elsewhere adopts those credentials, memory first and saves
 * retried until SQL takes them. Google keeps the refresh token (a refresh answer names none), so
 * an unsaved access token loses nothing: SQL's refresh token still works for the next refresh.
 */
@Injectable()
export class GoogleOAuthRefresher implements CredentialRefresher, OnModuleDestroy {
  readonly accountType = 'gemini-oauth' as const;
  /** The lock and save-with-retry discipline shared with the other refreshers. */
  private readonly discipline: RefreshDiscipline<GeminiOAuthCredentials>;

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    health: AccountHealthService,
    private readonly tokenClient: GoogleTokenClient,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional()
    @Inject(GOOGLE_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<GoogleOAuthRefresherOptions>,
  ) {
    this.discipline = new RefreshDiscipline<GeminiOAuthCredentials>({
      accountType: this.accountType,
      pool,
      accountsRepository,
      health,
      coordinator,
      options: { ...REFRESH_DISCIPLINE_DEFAULTS, ...options },
      logPrefix: 'google refresh',
      // Google does not rotate the refresh token: the next refresh gets a new access token.
      lostTokenRemedy: 'another refresh (the stored refresh token still works)',
      toAccountCredentials: (credentials) => credentials,
    });
  }

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    const seen = this.pool.get(accountId)?.credentials;
    const seenToken = seen === undefined ? undefined : geminiCredentialsOf(seen)?.accessToken;
    return this.discipline.withAccountLock(accountId, () =>
      this.refreshLocked(accountId, seenToken),
    );
  }

  /**
   * One run of the refresh-ahead job (CredentialRefreshService runs it every minute): refreshes
   * tokens that expire within five minutes, on one instance; an account whose refresh is refused
   * is marked auth_failed (its refresh token is dead).
   */
  runRefreshJob(): Promise<RefreshJobSummary> {
    return this.discipline.runJob(
      (account, horizon) => this.isDue(account, horizon),
      (accountId) => this.refreshWithResult(accountId),
    );
  }

  private isDue(account: RoutableAccount, horizon: number): boolean {
    const c = geminiCredentialsOf(account.credentials);
    return (
      c !== null &&
      account.enabled &&
      account.status === 'active' &&
      c.refreshToken !== undefined &&
      c.expiresAt !== undefined &&
      c.expiresAt <= horizon
    );
  }

  private async refreshLocked(
    accountId: string,
    seenToken: string | undefined,
  ): Promise<RefreshResult> {
    // Read SQL, not the pool: another instance may have refreshed a moment ago.
    const record = await this.accountsRepository.findById(accountId);
    if (record === undefined) return { ok: false, reason: 'not_found', detail: 'no such account' };
    if (record.type !== this.accountType) {
      return {
        ok: false,
        reason: 'wrong_type',
        detail: `${record.type} accounts have no Google OAuth tokens`,
      };
    }
    // A token refreshed here but not saved yet is newer than SQL's (unless someone, an admin or
    // a new login, saved other credentials meanwhile: theirs win).
    const pending = this.discipline.unsaved(accountId, record.credentials);
    const opened = this.codec.openCredentials(record);
    const stored = pending ?? (opened === null ? null : geminiCredentialsOf(opened));
    if (stored === null) {
      return { ok: false, reason: 'unreadable', detail: 'credentials cannot be decrypted' };
    }
    if (pending === undefined && seenToken !== undefined && stored.accessToken !== seenToken) {
      // Refreshed elsewhere while this instance still held the old token: adopt the new one.
      this.pool.applyCredentials(accountId, stored);
      return { ok: true, expiresAt: stored.expiresAt ?? null };
    }
    if (stored.refreshToken === undefined) {
      return { ok: false, reason: 'no_refresh_token', detail: 'the account has no refresh token' };
    }
    const proxyUrl = this.codec.openProxy(record);
    if (proxyUrl === undefined) {
      return { ok: false, reason: 'unreadable', detail: 'proxy cannot be decrypted' };
    }
    const proxyRefusal =
      proxyUrl === null ? null : this.codec.hostPolicy.refusal(proxyUrl, 'proxy');
    if (proxyRefusal !== null) return { ok: false, reason: 'unavailable', detail: proxyRefusal };

    const call = await this.tokenClient.refresh(stored.refreshToken, proxyUrl);
    if (!call.ok) {
      appLogger.warn(
        { accountId, reason: call.reason, detail: call.detail },
        'google refresh failed',
      );
      return call;
    }
    const credentials: GeminiOAuthCredentials = {
      ...stored,
      accessToken: call.tokens.accessToken,
      refreshToken: call.tokens.refreshToken ?? stored.refreshToken,
    };
    if (call.tokens.expiresAt !== undefined) credentials.expiresAt = call.tokens.expiresAt;
    else delete credentials.expiresAt;
    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'google oauth token refreshed',
    );
    await this.discipline.commit(accountId, credentials, record.credentials, {
      credentials: this.codec.sealCredentials(accountId, credentials),
      updated_at: this.discipline.now,
    });
    return { ok: true, expiresAt: credentials.expiresAt ?? null };
  }

  /** Saves can still be pending at shutdown: one last attempt each, loudly if it fails. */
  onModuleDestroy(): Promise<void> {
    return this.discipline.flush();
  }

  /** Tokens refreshed but not yet saved to SQL (held in memory, save retried with backoff). */
  get unsavedAccountIds(): string[] {
    return this.discipline.unsavedAccountIds;
  }
}
