import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator, LockHandle } from 'src/infra/coordination/coordinator.port';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository, type AccountChanges } from 'src/modules/accounts/accounts.repository';
import {
  REFRESH_JOB_INTERVAL_MS,
  type CredentialRefresher,
  type RefreshJobSummary,
  type RefreshResult,
} from '../credential-refresher.port';
import { oauthKeys } from '../oauth-coordination.keys';
import {
  asAccountCredentials,
  CODEX_OAUTH_TYPE,
  codexCredentialsOf,
  isCodexOAuthType,
  type CodexOAuthCredentials,
} from './codex-oauth.credentials';
import { credentialsFromTokens, subscriptionFrom, tokensFromResponse } from './codex-oauth.tokens';
import { CodexTokenClient } from './codex-token.client';

export interface CodexOAuthRefresherOptions {
  now: () => number;
  /** Refresh tokens that expire within this window. */
  refreshAheadMs: number;
  /** How long a refresh waits for another instance's refresh of the same account. */
  lockWaitMs: number;
  lockPollMs: number;
  /** First delay before saving a refreshed token again after a failed write; doubles each time. */
  saveRetryBaseMs: number;
  /** Longest delay between two save attempts (they go on until one succeeds or is superseded). */
  saveRetryMaxMs: number;
}

export const CODEX_OAUTH_REFRESHER_OPTIONS = Symbol('CODEX_OAUTH_REFRESHER_OPTIONS');

const DEFAULTS: CodexOAuthRefresherOptions = {
  now: Date.now,
  refreshAheadMs: 5 * 60_000,
  lockWaitMs: 20_000,
  lockPollMs: 200,
  saveRetryBaseMs: 500,
  saveRetryMaxMs: 60_000,
};

/** Longer than one refresh can take (the token call's timeout plus the write). */
const REFRESH_LOCK_TTL_MS = 30_000;
/** Shorter than the job interval, so a crashed holder never blocks the next run. */
const JOB_LOCK_TTL_MS = REFRESH_JOB_INTERVAL_MS - 5_000;

/** Refreshed credentials held in memory until SQL accepts them. */
interface PendingSave {
  accountId: string;
  credentials: CodexOAuthCredentials;
  /** The sealed credentials SQL held when the refresh read them: the write replaces only those. */
  basis: string;
  changes: AccountChanges;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Refreshes the ChatGPT tokens of codex-oauth accounts (their CredentialRefresher) as Codex CLI
 * does: `grant_type=refresh_token` at CODEX_OAUTH_TOKEN_URL. On demand (the relay asks
 * CredentialRefreshService when an account answers 401, then retries once) and ahead of expiry
 * (the service runs the job every minute). Same discipline as the Claude refresher: one refresh
 * per account at a time across instances (OpenAI rotates refresh tokens and refuses a reused one
 * for good), memory first, saves retried until SQL takes them, the account's proxy for the call.
 */
@Injectable()
export class CodexOAuthRefresher implements CredentialRefresher, OnModuleDestroy {
  readonly accountType = CODEX_OAUTH_TYPE;
  private readonly options: CodexOAuthRefresherOptions;
  private readonly pendingSaves = new Map<string, PendingSave>();

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly health: AccountHealthService,
    private readonly tokenClient: CodexTokenClient,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional()
    @Inject(CODEX_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<CodexOAuthRefresherOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    const seen = this.pool.get(accountId)?.credentials;
    const seenToken = seen === undefined ? undefined : codexCredentialsOf(seen)?.accessToken;
    let lock: LockHandle | null;
    try {
      lock = await this.acquireRefreshLock(accountId);
    } catch (error) {
      appLogger.warn({ err: error, accountId }, 'codex refresh: coordinator unavailable');
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

  /**
   * One run of the refresh-ahead job (CredentialRefreshService runs it every minute): refreshes
   * tokens that expire within five minutes, on one instance; an account whose refresh is refused
   * is marked auth_failed (its refresh token is dead).
   */
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
    const c = codexCredentialsOf(account.credentials);
    return (
      c !== null &&
      account.enabled &&
      account.status === 'active' &&
      c.refreshToken !== undefined &&
      c.expiresAt !== undefined &&
      c.expiresAt <= horizon
    );
  }

  /** Takes the per-account lock, waiting (bounded) while another instance holds it. */
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
    // Read SQL, not the pool: another instance may have rotated the tokens a moment ago.
    const record = await this.accountsRepository.findById(accountId);
    if (record === undefined) return { ok: false, reason: 'not_found', detail: 'no such account' };
    if (!isCodexOAuthType(record.type)) {
      return {
        ok: false,
        reason: 'wrong_type',
        detail: `${record.type} accounts have no Codex OAuth tokens`,
      };
    }
    let pending = this.pendingSaves.get(accountId);
    if (pending !== undefined && pending.basis !== record.credentials) {
      // Someone saved other credentials meanwhile (an admin, a new login): theirs win.
      this.dropPending(pending);
      pending = undefined;
    }
    // Tokens refreshed here but not saved yet are newer than SQL's: the old refresh token is spent.
    const opened = this.codec.openCredentials(record);
    const stored = pending?.credentials ?? (opened === null ? null : codexCredentialsOf(opened));
    if (stored === null) {
      return { ok: false, reason: 'unreadable', detail: 'credentials cannot be decrypted' };
    }
    if (pending === undefined && seenToken !== undefined && stored.accessToken !== seenToken) {
      // Refreshed elsewhere while this instance still held the old token: adopt the new one.
      this.pool.applyCredentials(accountId, asAccountCredentials(stored));
      return { ok: true, expiresAt: stored.expiresAt ?? null };
    }
    if (stored.refreshToken === undefined) {
      return { ok: false, reason: 'no_refresh_token', detail: 'the account has no refresh token' };
    }

    const proxyUrl = this.codec.openProxy(record);
    if (proxyUrl === undefined) {
      return { ok: false, reason: 'unreadable', detail: 'proxy cannot be decrypted' };
    }
    // The refresh token goes through the account's proxy: the same host policy as relay traffic.
    const proxyRefusal =
      proxyUrl === null ? null : this.codec.hostPolicy.refusal(proxyUrl, 'proxy');
    if (proxyRefusal !== null) {
      return { ok: false, reason: 'unavailable', detail: proxyRefusal };
    }
    const call = await this.tokenClient.refresh(stored.refreshToken, proxyUrl);
    if (!call.ok) {
      appLogger.warn(
        { accountId, reason: call.reason, detail: call.detail },
        'codex refresh failed',
      );
      return call;
    }
    const tokens = tokensFromResponse(call.body);
    if (tokens === null) {
      return { ok: false, reason: 'unavailable', detail: 'token endpoint sent no access token' };
    }
    const now = this.options.now();
    const outcome = credentialsFromTokens(tokens, stored, now);
    if (!outcome.ok) return { ok: false, reason: 'unavailable', detail: outcome.detail };
    const credentials = outcome.credentials;
    const subscription = subscriptionFrom(outcome.identity, this.codec.subscription(record));

    // Memory first: the endpoint has rotated the refresh token, so from here on these
    // credentials are the only working ones. The relay retries with them at once; if SQL
    // refuses the write they stay in use (held over reloads) while the save is retried.
    this.pool.holdCredentials(accountId, asAccountCredentials(credentials), record.credentials);
    if (pending !== undefined) this.dropPending(pending, { keepHold: true });
    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'codex oauth token refreshed',
    );
    await this.save({
      accountId,
      credentials,
      basis: record.credentials,
      changes: {
        credentials: this.codec.sealCredentials(accountId, asAccountCredentials(credentials)),
        subscription: subscription === null ? record.subscription : JSON.stringify(subscription),
        updated_at: now,
      },
      attempt: 1,
      timer: null,
    });
    return { ok: true, expiresAt: credentials.expiresAt ?? null };
  }

  /** Saves can still be pending at shutdown: one last attempt each, loudly if it fails. */
  async onModuleDestroy(): Promise<void> {
    const pending = [...this.pendingSaves.values()];
    for (const save of pending) {
      if (save.timer !== null) clearTimeout(save.timer);
      save.timer = null;
    }
    for (const save of pending) {
      const saved = await this.trySave(save);
      if (saved === 'failed') {
        appLogger.error(
          { accountId: save.accountId },
          'codex refresh: shutting down with a rotated token that could not be saved; the ' +
            'account will need a new login',
        );
      }
    }
    this.pendingSaves.clear();
  }

  /** Tokens refreshed but not yet saved to SQL (held in memory, save retried with backoff). */
  get unsavedAccountIds(): string[] {
    return [...this.pendingSaves.keys()];
  }

  /**
   * One attempt now; on a failed write, more with exponential backoff until saved or superseded.
   * Called with the account's refresh lock held, as are the retries: a save never races a
   * refresh of the same account (whose newer tokens it would otherwise overwrite).
   */
  private async save(save: PendingSave): Promise<void> {
    this.pendingSaves.set(save.accountId, save);
    const outcome = await this.trySave(save);
    if (outcome !== 'failed' || this.pendingSaves.get(save.accountId) !== save) return;
    this.scheduleRetry(save);
  }

  private scheduleRetry(save: PendingSave): void {
    const delay = Math.min(
      this.options.saveRetryBaseMs * 2 ** (save.attempt - 1),
      this.options.saveRetryMaxMs,
    );
    appLogger.warn(
      { accountId: save.accountId, attempt: save.attempt, retryInMs: delay },
      'codex refresh: could not save the rotated token; using it from memory and retrying',
    );
    save.attempt += 1;
    save.timer = setTimeout(() => {
      save.timer = null;
      void this.retry(save);
    }, delay);
    save.timer.unref();
  }

  private async retry(save: PendingSave): Promise<void> {
    if (this.pendingSaves.get(save.accountId) !== save) return;
    let lock: LockHandle | null = null;
    try {
      lock = await this.coordinator.acquireLock(
        oauthKeys.refreshLock(save.accountId),
        REFRESH_LOCK_TTL_MS,
      );
    } catch {
      lock = null;
    }
    if (lock === null) {
      // A refresh of this account is running (it takes this save over) or the coordinator is
      // down: try again later.
      if (this.pendingSaves.get(save.accountId) === save) this.scheduleRetry(save);
      return;
    }
    try {
      if (this.pendingSaves.get(save.accountId) === save) await this.save(save);
    } finally {
      await this.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  private async trySave(save: PendingSave): Promise<'saved' | 'superseded' | 'failed'> {
    let applied: boolean;
    try {
      // Compare-and-set: credentials an admin entered meanwhile are never overwritten.
      applied = await this.accountsRepository.updateIfSealed(
        save.accountId,
        { credentials: save.basis },
        save.changes,
      );
    } catch (error) {
      // The error of the write, never the credentials (they are not part of it).
      appLogger.warn(
        { accountId: save.accountId, attempt: save.attempt, err: error },
        'codex refresh: saving the rotated token failed',
      );
      return 'failed';
    }
    if (this.pendingSaves.get(save.accountId) === save) this.dropPending(save);
    if (!applied) {
      appLogger.warn(
        { accountId: save.accountId },
        'codex refresh: the account changed or was deleted before the rotated token was saved; ' +
          'keeping what is stored',
      );
      await this.pool.reload().catch(() => undefined);
      return 'superseded';
    }
    if (save.attempt > 1) {
      appLogger.info(
        { accountId: save.accountId, attempts: save.attempt },
        'codex refresh: rotated token saved',
      );
    }
    await this.coordinator
      .publish(coordinationKeys.channels.accountInvalidation, save.accountId)
      .catch((error: unknown) =>
        appLogger.warn({ err: error }, 'could not publish a token refresh'),
      );
    return 'saved';
  }

  private dropPending(save: PendingSave, options: { keepHold?: boolean } = {}): void {
    if (save.timer !== null) clearTimeout(save.timer);
    save.timer = null;
    if (this.pendingSaves.get(save.accountId) === save) this.pendingSaves.delete(save.accountId);
    if (options.keepHold !== true) this.pool.releaseCredentials(save.accountId);
  }
}
