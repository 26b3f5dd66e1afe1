import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type { Coordinator, LockHandle } from 'src/infra/coordination/coordinator.port';
import { BackgroundNotifier } from 'src/infra/outbox/background-notifier';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type {
  AccountCredentials,
  AccountSubscription,
  AccountType,
  RoutableAccount,
} from 'src/modules/accounts/account.types';
import type { AccountCodec } from 'src/modules/accounts/account-codec';
import type { AccountHealthService } from 'src/modules/accounts/account-health.service';
import type { AccountPool } from 'src/modules/accounts/account-pool.service';
import type {
  AccountChanges,
  AccountRecord,
  AccountsRepository,
} from 'src/modules/accounts/accounts.repository';
import {
  REFRESH_JOB_INTERVAL_MS,
  type RefreshFailure,
  type RefreshJobSummary,
  type RefreshResult,
} from './credential-refresher.port';
import { oauthKeys } from './oauth-coordination.keys';

/** The timing every OAuth refresher shares (each adds its own, such as request timeouts). */
export interface RefreshDisciplineOptions {
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

export const REFRESH_DISCIPLINE_DEFAULTS: RefreshDisciplineOptions = {
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

/** What every OAuth family's credentials hold that a refresh reads. */
export interface RefreshableCredentials {
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
}

/** What a refresher hands the discipline: its collaborators and how it names itself. */
export interface RefreshDisciplineSetup<C extends RefreshableCredentials> {
  accountType: AccountType;
  /** The types whose accounts the refresher renews (default: `accountType` alone). */
  isAccountType?: (type: string) => boolean;
  /** Names the tokens in a wrong_type detail (`Claude OAuth`). */
  tokenLabel: string;
  pool: AccountPool;
  accountsRepository: AccountsRepository;
  codec: AccountCodec;
  health: AccountHealthService;
  coordinator: Coordinator;
  options: RefreshDisciplineOptions;
  /** Leads the refresher's log lines (`oauth refresh`, `codex refresh`). */
  logPrefix: string;
  /** What the admin must do when a rotated token is lost at shutdown (ends a log line). */
  lostTokenRemedy: string;
  /** Raises `account.refresh_failed` (absent in unit-built refreshers: nothing is raised). */
  notifications?: NotificationOutbox;
  /** The refresher's credentials as the pool holds them. */
  toAccountCredentials: (credentials: C) => AccountCredentials;
  /** An account's credentials when they are the refresher's kind, else null. */
  credentialsOf: (credentials: AccountCredentials) => C | null;
}

/** The account a refresh renews, as SQL holds it, with what the token call needs. */
export interface RefreshSubject<C> {
  accountId: string;
  record: AccountRecord;
  /** The credentials to renew: SQL's, or newer ones refreshed here and not saved yet. */
  stored: C;
  refreshToken: string;
  /** The account's proxy: the refresh token goes through it, as relay traffic does. */
  proxyUrl: string | null;
}

/** A token endpoint call as the refreshers' clients answer it. */
export type RefreshCall<T> =
  | ({ ok: true } & T)
  | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number };

/** Refreshed credentials held in memory until SQL accepts them. */
interface PendingSave<C> {
  accountId: string;
  credentials: C;
  /** The sealed credentials SQL held when the refresh read them: the write replaces only those. */
  basis: string;
  changes: AccountChanges;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

/** Failures of the account's own refresh; not_found / wrong_type are a caller's mistake. */
const NOTIFIED_FAILURES = new Set<RefreshFailure>([
  'refused',
  'unavailable',
  'unreadable',
  'no_refresh_token',
]);
const HOUR_MS = 3_600_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The locking and saving every CredentialRefresher keeps (see credential-refresher.port.ts), so
 * that each refresher only says how its provider renews a token:
 *
 * - one refresh per account across instances (a coordinator lock, waited for, bounded), and one
 *   run of a type's refresh-ahead job (a job lock that expires before the next run);
 * - memory first: refreshed credentials go to the pool at once, then to SQL by compare-and-set
 *   against the sealed credentials the refresh read; a failed write is retried with backoff
 *   (under the account's lock, so it never races a newer refresh) until saved or superseded,
 *   and the credentials are held in the pool meanwhile; a saved one is published to the other
 *   instances; at shutdown each unsaved one gets a last attempt.
 */
export class RefreshDiscipline<C extends RefreshableCredentials> {
  private readonly pendingSaves = new Map<string, PendingSave<C>>();
  private readonly notifier: BackgroundNotifier;

  constructor(private readonly setup: RefreshDisciplineSetup<C>) {
    this.notifier = new BackgroundNotifier(setup.notifications);
  }

  get now(): number {
    return this.setup.options.now();
  }

  /** Tokens refreshed but not yet saved to SQL (held in memory, save retried with backoff). */
  get unsavedAccountIds(): string[] {
    return [...this.pendingSaves.keys()];
  }

  /**
   * One refresh of an account, as every OAuth family runs it: with the account's lock held
   * (withAccountLock), SQL read (another instance may have refreshed a moment ago), credentials
   * another instance refreshed adopted instead of refreshed again, the proxy checked against the
   * host policy; then `renew` calls the provider and commits (callFailed, commitRefreshed).
   */
  async refresh(
    accountId: string,
    renew: (subject: RefreshSubject<C>) => Promise<RefreshResult>,
  ): Promise<RefreshResult> {
    const seen = this.setup.pool.get(accountId)?.credentials;
    const seenToken = seen === undefined ? undefined : this.setup.credentialsOf(seen)?.accessToken;
    return this.withAccountLock(accountId, async () => {
      const subject = await this.subjectOf(accountId, seenToken);
      const result = 'ok' in subject ? subject : await renew(subject);
      // Inside the lock only: a refresh that never ran (lock busy, coordinator down) is not the
      // account's failure.
      if (!result.ok && NOTIFIED_FAILURES.has(result.reason)) {
        void this.notifyFailure(accountId, result);
      }
      return result;
    });
  }

  /**
   * `account.refresh_failed`, at most once per account and hour (the dedupe key carries the
   * hour): the refresh-ahead job retries a failing account every minute, and one notice per
   * episode is what a person acts on. Written in the background: a refresh never waits for it.
   * The status transition to auth_failed raises its own `account.auth_failed`.
   */
  private notifyFailure(
    accountId: string,
    failure: Extract<RefreshResult, { ok: false }>,
  ): Promise<void> {
    const now = this.now;
    const name = this.setup.pool.get(accountId)?.name;
    const label = name === undefined ? accountId : `"${name}"`;
    const refused = failure.reason === 'refused';
    return this.notifier.emit({
      type: 'account.refresh_failed',
      dedupeKey: `account.refresh_failed:${accountId}:${Math.floor(now / HOUR_MS)}`,
      at: now,
      severity: refused ? 'critical' : 'warning',
      title: `Token refresh failed for account ${label}`,
      message: refused
        ? `The ${this.setup.tokenLabel} token endpoint refused the refresh token ` +
          `(${failure.detail}). The account stops working when its access token expires; ` +
          'log in again to give it new credentials.'
        : `The ${this.setup.tokenLabel} token could not be refreshed (${failure.detail}). ` +
          'The refresh is retried every minute; no action is needed if this clears.',
      subject: { kind: 'account', id: accountId, ...(name !== undefined && { name }) },
      data: {
        accountType: this.setup.accountType,
        reason: failure.reason,
        detail: failure.detail.slice(0, 300),
        status: failure.status ?? null,
      },
    });
  }

  /** The refresh-ahead job (runJob) over the accounts whose tokens expire before the horizon. */
  runRefreshJob(
    refresh: (accountId: string) => Promise<RefreshResult>,
  ): Promise<RefreshJobSummary> {
    return this.runJob((account, horizon) => this.isDue(account, horizon), refresh);
  }

  /** A failed token call, logged (its detail carries no secret) and answered as the result. */
  callFailed(
    accountId: string,
    call: { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number },
  ): RefreshResult {
    appLogger.warn(
      { accountId, reason: call.reason, detail: call.detail },
      `${this.setup.logPrefix} failed`,
    );
    return call;
  }

  /**
   * Puts refreshed credentials in use and saves them (commit): the row's sealed credentials,
   * its subscription when the refresher derives one (null keeps the stored one), updated_at.
   */
  async commitRefreshed(
    subject: RefreshSubject<C>,
    credentials: C,
    row: { subscription?: AccountSubscription | null; updatedAt?: number } = {},
  ): Promise<RefreshResult> {
    const { accountId, record } = subject;
    const { subscription } = row;
    await this.commit(accountId, credentials, record.credentials, {
      credentials: this.setup.codec.sealCredentials(
        accountId,
        this.setup.toAccountCredentials(credentials),
      ),
      ...(subscription !== undefined
        ? {
            subscription:
              subscription === null ? record.subscription : JSON.stringify(subscription),
          }
        : {}),
      updated_at: row.updatedAt ?? this.now,
    });
    return { ok: true, expiresAt: credentials.expiresAt ?? null };
  }

  private isDue(account: RoutableAccount, horizon: number): boolean {
    const c = this.setup.credentialsOf(account.credentials);
    return (
      c !== null &&
      account.enabled &&
      account.status === 'active' &&
      c.refreshToken !== undefined &&
      c.expiresAt !== undefined &&
      c.expiresAt <= horizon
    );
  }

  /** The steps before a token call; a result when the refresh ends there. */
  private async subjectOf(
    accountId: string,
    seenToken: string | undefined,
  ): Promise<RefreshSubject<C> | RefreshResult> {
    const { accountsRepository, codec, pool, accountType, tokenLabel } = this.setup;
    const isAccountType = this.setup.isAccountType ?? ((type: string) => type === accountType);
    // Read SQL, not the pool: another instance may have rotated the tokens a moment ago.
    const record = await accountsRepository.findById(accountId);
    if (record === undefined) return { ok: false, reason: 'not_found', detail: 'no such account' };
    if (!isAccountType(record.type)) {
      return {
        ok: false,
        reason: 'wrong_type',
        detail: `${record.type} accounts have no ${tokenLabel} tokens`,
      };
    }
    // Tokens refreshed here but not saved yet are newer than SQL's: the old refresh token is spent
    // (unless someone, an admin or a new login, saved other credentials meanwhile: theirs win).
    const pending = this.unsaved(accountId, record.credentials);
    const opened = codec.openCredentials(record);
    const stored = pending ?? (opened === null ? null : this.setup.credentialsOf(opened));
    if (stored === null) {
      return { ok: false, reason: 'unreadable', detail: 'credentials cannot be decrypted' };
    }
    if (pending === undefined && seenToken !== undefined && stored.accessToken !== seenToken) {
      // Refreshed elsewhere while this instance still held the old token: adopt the new one.
      pool.applyCredentials(accountId, this.setup.toAccountCredentials(stored));
      return { ok: true, expiresAt: stored.expiresAt ?? null };
    }
    if (stored.refreshToken === undefined) {
      return { ok: false, reason: 'no_refresh_token', detail: 'the account has no refresh token' };
    }
    const proxyUrl = codec.openProxy(record);
    if (proxyUrl === undefined) {
      return { ok: false, reason: 'unreadable', detail: 'proxy cannot be decrypted' };
    }
    // The refresh token goes through the account's proxy: the same host policy as relay traffic.
    const proxyRefusal = proxyUrl === null ? null : codec.hostPolicy.refusal(proxyUrl, 'proxy');
    if (proxyRefusal !== null) return { ok: false, reason: 'unavailable', detail: proxyRefusal };
    return { accountId, record, stored, refreshToken: stored.refreshToken, proxyUrl };
  }

  /**
   * Runs one refresh of an account with its lock held, waiting (bounded) while another
   * instance holds it. A coordinator failure, or a lock still held at the deadline, is an
   * `unavailable` result.
   */
  async withAccountLock(
    accountId: string,
    refresh: () => Promise<RefreshResult>,
  ): Promise<RefreshResult> {
    let lock: LockHandle | null;
    try {
      lock = await this.acquireRefreshLock(accountId);
    } catch (error) {
      appLogger.warn({ err: error, accountId }, `${this.setup.logPrefix}: coordinator unavailable`);
      return { ok: false, reason: 'unavailable', detail: 'coordinator unavailable' };
    }
    if (lock === null) {
      return { ok: false, reason: 'unavailable', detail: 'another refresh is still running' };
    }
    try {
      return await refresh();
    } finally {
      await this.setup.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  /**
   * One run of the refresh-ahead job, on one instance: refreshes the accounts `isDue` picks
   * (their tokens expire before the horizon) and marks auth_failed those whose refresh was
   * refused (the refresh token is dead: the account fails as soon as its access token expires).
   */
  async runJob(
    isDue: (account: RoutableAccount, horizon: number) => boolean,
    refresh: (accountId: string) => Promise<RefreshResult>,
  ): Promise<RefreshJobSummary> {
    const { coordinator, options, pool, health } = this.setup;
    const summary: RefreshJobSummary = { refreshed: [], failed: [] };
    const jobLock = await coordinator.acquireLock(
      oauthKeys.refreshJobLock(this.setup.accountType),
      JOB_LOCK_TTL_MS,
    );
    if (jobLock === null) return summary;
    try {
      const horizon = options.now() + options.refreshAheadMs;
      for (const account of pool.all().filter((a) => isDue(a, horizon))) {
        const result = await refresh(account.id);
        if (result.ok) {
          summary.refreshed.push(account.id);
          continue;
        }
        summary.failed.push(account.id);
        if (result.reason === 'refused') {
          await health.markStatus(
            account,
            'auth_failed',
            `token refresh refused (${result.detail})`,
          );
        }
      }
    } finally {
      await coordinator.releaseLock(jobLock).catch(() => undefined);
    }
    return summary;
  }

  /**
   * Credentials refreshed here but not saved yet, which are newer than SQL's (their refresh
   * token is the live one); dropped, and undefined answered, when SQL now holds other
   * credentials than those they replace (an admin or a new login saved some: theirs win).
   * Call with the account's lock held.
   */
  unsaved(accountId: string, sealedInSql: string): C | undefined {
    const pending = this.pendingSaves.get(accountId);
    if (pending === undefined) return undefined;
    if (pending.basis === sealedInSql) return pending.credentials;
    this.dropPending(pending);
    return undefined;
  }

  /**
   * Puts refreshed credentials in use, memory first: the provider has rotated the refresh
   * token, so from here on they are the only working ones. The relay retries with them at once;
   * if SQL refuses the write they stay in use (held over reloads) while the save is retried.
   * Call with the account's lock held.
   *
   * @param basis the sealed credentials SQL held when the refresh read them
   * @param changes the row's new values (sealed credentials, subscription, updated_at)
   */
  async commit(
    accountId: string,
    credentials: C,
    basis: string,
    changes: AccountChanges,
  ): Promise<void> {
    this.setup.pool.holdCredentials(accountId, this.setup.toAccountCredentials(credentials), basis);
    const superseded = this.pendingSaves.get(accountId);
    if (superseded !== undefined) this.dropPending(superseded, { keepHold: true });
    await this.save({ accountId, credentials, basis, changes, attempt: 1, timer: null });
  }

  /** Saves can still be pending at shutdown: one last attempt each, loudly if it fails. */
  async flush(): Promise<void> {
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
          `${this.setup.logPrefix}: shutting down with a rotated token that could not be saved; ` +
            `the account will need ${this.setup.lostTokenRemedy}`,
        );
      }
    }
    this.pendingSaves.clear();
  }

  private async acquireRefreshLock(accountId: string): Promise<LockHandle | null> {
    const name = oauthKeys.refreshLock(accountId);
    const deadline = Date.now() + this.setup.options.lockWaitMs;
    for (;;) {
      const lock = await this.setup.coordinator.acquireLock(name, REFRESH_LOCK_TTL_MS);
      if (lock !== null || Date.now() >= deadline) return lock;
      await sleep(this.setup.options.lockPollMs);
    }
  }

  /**
   * One attempt now; on a failed write, more with exponential backoff until saved or superseded.
   * Called with the account's refresh lock held, as are the retries: a save never races a
   * refresh of the same account (whose newer tokens it would otherwise overwrite).
   */
  private async save(save: PendingSave<C>): Promise<void> {
    this.pendingSaves.set(save.accountId, save);
    const outcome = await this.trySave(save);
    if (outcome !== 'failed' || this.pendingSaves.get(save.accountId) !== save) return;
    this.scheduleRetry(save);
  }

  private scheduleRetry(save: PendingSave<C>): void {
    const { saveRetryBaseMs, saveRetryMaxMs } = this.setup.options;
    const delay = Math.min(saveRetryBaseMs * 2 ** (save.attempt - 1), saveRetryMaxMs);
    appLogger.warn(
      { accountId: save.accountId, attempt: save.attempt, retryInMs: delay },
      `${this.setup.logPrefix}: could not save the rotated token; using it from memory and retrying`,
    );
    save.attempt += 1;
    save.timer = setTimeout(() => {
      save.timer = null;
      void this.retry(save);
    }, delay);
    save.timer.unref();
  }

  private async retry(save: PendingSave<C>): Promise<void> {
    if (this.pendingSaves.get(save.accountId) !== save) return;
    const { coordinator } = this.setup;
    let lock: LockHandle | null = null;
    try {
      lock = await coordinator.acquireLock(
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
      await coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  private async trySave(save: PendingSave<C>): Promise<'saved' | 'superseded' | 'failed'> {
    const { accountsRepository, coordinator, pool, logPrefix } = this.setup;
    let applied: boolean;
    try {
      // Compare-and-set: credentials an admin entered meanwhile are never overwritten.
      applied = await accountsRepository.updateIfSealed(
        save.accountId,
        { credentials: save.basis },
        save.changes,
      );
    } catch (error) {
      // The error of the write, never the credentials (they are not part of it).
      appLogger.warn(
        { accountId: save.accountId, attempt: save.attempt, err: error },
        `${logPrefix}: saving the rotated token failed`,
      );
      return 'failed';
    }
    if (this.pendingSaves.get(save.accountId) === save) this.dropPending(save);
    if (!applied) {
      appLogger.warn(
        { accountId: save.accountId },
        `${logPrefix}: the account changed or was deleted before the rotated token was saved; ` +
          'keeping what is stored',
      );
      await pool.reload().catch(() => undefined);
      return 'superseded';
    }
    if (save.attempt > 1) {
      appLogger.info(
        { accountId: save.accountId, attempts: save.attempt },
        `${logPrefix}: rotated token saved`,
      );
    }
    await coordinator
      .publish(coordinationKeys.channels.accountInvalidation, save.accountId)
      .catch((error: unknown) =>
        appLogger.warn({ err: error }, 'could not publish a token refresh'),
      );
    return 'saved';
  }

  private dropPending(save: PendingSave<C>, options: { keepHold?: boolean } = {}): void {
    if (save.timer !== null) clearTimeout(save.timer);
    save.timer = null;
    if (this.pendingSaves.get(save.accountId) === save) this.pendingSaves.delete(save.accountId);
    if (options.keepHold !== true) this.setup.pool.releaseCredentials(save.accountId);
  }
}
