import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator, LockHandle } from 'src/infra/coordination/coordinator.port';
import type { AccountCredentials, RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { GeminiOAuthCredentials } from 'src/modules/accounts/types/gemini-oauth';
import {
  REFRESH_JOB_INTERVAL_MS,
  type CredentialRefresher,
  type RefreshJobSummary,
  type RefreshResult,
} from '../credential-refresher.port';
import { oauthKeys } from '../oauth-coordination.keys';
import { GoogleTokenClient } from './google-token.client';

export interface GoogleOAuthRefresherOptions {
  now: () => number;
  /** Refresh tokens that expire within this window. */
  refreshAheadMs: number;
  /** How long a refresh waits for another instance's refresh of the same account. */
  lockWaitMs: number;
  lockPollMs: number;
}

export const GOOGLE_OAUTH_REFRESHER_OPTIONS = Symbol('GOOGLE_OAUTH_REFRESHER_OPTIONS');

const DEFAULTS: GoogleOAuthRefresherOptions = {
  now: Date.now,
  refreshAheadMs: 5 * 60_000,
  lockWaitMs: 20_000,
  lockPollMs: 200,
};

const REFRESH_LOCK_TTL_MS = 30_000;
const JOB_LOCK_TTL_MS = REFRESH_JOB_INTERVAL_MS - 5_000;

function geminiCredentialsOf(credentials: AccountCredentials): GeminiOAuthCredentials | null {
  return credentials.type === 'gemini-oauth' ? credentials : null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Refreshes the Google access tokens of gemini-oauth accounts (their CredentialRefresher) with
 * google-auth-library's refresh grant at GOOGLE_OAUTH_TOKEN_URL: after a 401 (the relay asks
 * CredentialRefreshService, then retries once) and ahead of expiry (the job every minute). One
 * refresh per account at a time across instances; a refresh that finds the account already
 * refreshed elsewhere adopts those credentials. Google keeps the refresh token (a refresh
 * answer names none), so a failed save loses nothing: the new access token serves from memory
 * and SQL's refresh token still works for the next refresh.
 */
@Injectable()
export class GoogleOAuthRefresher implements CredentialRefresher {
  readonly accountType = 'gemini-oauth' as const;
  private readonly options: GoogleOAuthRefresherOptions;

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly health: AccountHealthService,
    private readonly tokenClient: GoogleTokenClient,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional()
    @Inject(GOOGLE_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<GoogleOAuthRefresherOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    const seen = this.pool.get(accountId)?.credentials;
    const seenToken = seen === undefined ? undefined : geminiCredentialsOf(seen)?.accessToken;
    let lock: LockHandle | null;
    try {
      lock = await this.acquireRefreshLock(accountId);
    } catch (error) {
      appLogger.warn({ err: error, accountId }, 'google refresh: coordinator unavailable');
      return { ok: false, reason: 'unavailable', detail: 'coordinator unavailable' };
    }
    if (lock === null) {
      return { ok: false, reason: 'unavailable', detail: 'another refresh is still running' };
    }
    try {
      return await this.refreshLocked(accountId, seenToken);
    } finally {
      await this.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  async runRefreshJob(): Promise<RefreshJobSummary> {
    const summary: RefreshJobSummary = { refreshed: [], failed: [] };
    const jobLock = await this.coordinator.acquireLock(
      oauthKeys.refreshJobLock(this.accountType),
      JOB_LOCK_TTL_MS,
    );
    if (jobLock === null) return summary;
    try {
      const horizon = this.options.now() + this.options.refreshAheadMs;
      for (const account of this.pool.all().filter((a) => this.isDue(a, horizon))) {
        const result = await this.refreshWithResult(account.id);
        if (result.ok) {
          summary.refreshed.push(account.id);
          continue;
        }
        summary.failed.push(account.id);
        if (result.reason === 'refused') {
          await this.health.markStatus(
            account,
            'auth_failed',
            `token refresh refused (${result.detail})`,
          );
        }
      }
    } finally {
      await this.coordinator.releaseLock(jobLock).catch(() => undefined);
    }
    return summary;
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

  private async acquireRefreshLock(accountId: string): Promise<LockHandle | null> {
    const name = oauthKeys.refreshLock(accountId);
    const deadline = Date.now() + this.options.lockWaitMs;
    for (;;) {
      const lock = await this.coordinator.acquireLock(name, REFRESH_LOCK_TTL_MS);
      if (lock !== null || Date.now() >= deadline) return lock;
      await sleep(this.options.lockPollMs);
    }
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
    const opened = this.codec.openCredentials(record);
    const stored = opened === null ? null : geminiCredentialsOf(opened);
    if (stored === null) {
      return { ok: false, reason: 'unreadable', detail: 'credentials cannot be decrypted' };
    }
    if (seenToken !== undefined && stored.accessToken !== seenToken) {
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
    this.pool.applyCredentials(accountId, credentials);
    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'google oauth token refreshed',
    );
    await this.save(accountId, record.credentials, credentials);
    return { ok: true, expiresAt: credentials.expiresAt ?? null };
  }

  private async save(
    accountId: string,
    basis: string,
    credentials: GeminiOAuthCredentials,
  ): Promise<void> {
    let applied: boolean;
    try {
      // Compare-and-set: credentials an admin entered meanwhile are never overwritten.
      applied = await this.accountsRepository.updateIfSealed(
        accountId,
        { credentials: basis },
        {
          credentials: this.codec.sealCredentials(accountId, credentials),
          updated_at: this.options.now(),
        },
      );
    } catch (error) {
      appLogger.warn(
        { accountId, err: error },
        'google refresh: saving the new access token failed; it serves from memory',
      );
      return;
    }
    if (!applied) {
      await this.pool.reload().catch(() => undefined);
      return;
    }
    await this.coordinator
      .publish(coordinationKeys.channels.accountInvalidation, accountId)
      .catch((error: unknown) =>
        appLogger.warn({ err: error }, 'could not publish a token refresh'),
      );
  }
}
