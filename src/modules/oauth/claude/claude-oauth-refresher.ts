import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { ProxyAgent, request, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator, LockHandle } from 'src/infra/coordination/coordinator.port';
import type {
  AccountCredentials,
  AccountSubscription,
  RoutableAccount,
} from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository, type AccountChanges } from 'src/modules/accounts/accounts.repository';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from '../account-dispatcher';
import {
  REFRESH_JOB_INTERVAL_MS,
  type CredentialRefresher,
  type RefreshJobSummary,
  type RefreshResult,
} from '../credential-refresher.port';
import { oauthKeys } from '../oauth-coordination.keys';

export interface ClaudeOAuthRefresherOptions {
  now: () => number;
  /** Refresh tokens that expire within this window. */
  refreshAheadMs: number;
  requestTimeoutMs: number;
  /** How long a refresh waits for another instance's refresh of the same account. */
  lockWaitMs: number;
  lockPollMs: number;
  /** First delay before saving a refreshed token again after a failed write; doubles each time. */
  saveRetryBaseMs: number;
  /** Longest delay between two save attempts (they go on until one succeeds or is superseded). */
  saveRetryMaxMs: number;
}

export const CLAUDE_OAUTH_REFRESHER_OPTIONS = Symbol('CLAUDE_OAUTH_REFRESHER_OPTIONS');

const DEFAULTS: ClaudeOAuthRefresherOptions = {
  now: Date.now,
  refreshAheadMs: 5 * 60_000,
  requestTimeoutMs: 15_000,
  lockWaitMs: 20_000,
  lockPollMs: 200,
  saveRetryBaseMs: 500,
  saveRetryMaxMs: 60_000,
};

/** Longer than one refresh can take (request timeout plus the write). */
const REFRESH_LOCK_TTL_MS = 30_000;
/** Shorter than the job interval, so a crashed holder never blocks the next run. */
const JOB_LOCK_TTL_MS = REFRESH_JOB_INTERVAL_MS - 5_000;

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  scope?: unknown;
  account?: { uuid?: unknown; email_address?: unknown };
  organization?: { uuid?: unknown; name?: unknown };
  error?: unknown;
  error_description?: unknown;
}

/** Refreshed credentials held in memory until SQL accepts them. */
interface PendingSave {
  accountId: string;
  credentials: AccountCredentials;
  /** The sealed credentials SQL held when the refresh read them: the write replaces only those. */
  basis: string;
  changes: AccountChanges;
  attempt: number;
  timer: NodeJS.Timeout | null;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The OAuth error of a refused refresh, short and without secrets (error bodies carry none). */
function refusalDetail(status: number, body: TokenResponse | null): string {
  const code = text(body?.error);
  const description = text(body?.error_description)?.slice(0, 200);
  return [`token endpoint answered ${status}`, code, description].filter(Boolean).join(': ');
}

/** A proxy agent for one refresh when no shared dispatcher factory is bound. */
function temporaryProxyAgent(proxyUrl: string): Dispatcher {
  const url = new URL(proxyUrl);
  return url.protocol === 'socks5:'
    ? new Socks5ProxyAgent(proxyUrl)
    : new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
}

/**
 * Refreshes Claude OAuth access tokens (the CredentialRefresher of claude-oauth accounts): on
 * demand (the relay asks CredentialRefreshService when an OAuth account answers 401, then
 * retries once) and ahead of expiry (the service runs the job every minute). One refresh per
 * account at a time across instances: refresh tokens rotate, so two concurrent refreshes would
 * leave one instance holding a revoked token.
 */
@Injectable()
export class ClaudeOAuthRefresher implements CredentialRefresher, OnModuleDestroy {
  readonly accountType = 'claude-oauth' as const;
  private readonly options: ClaudeOAuthRefresherOptions;
  private readonly pendingSaves = new Map<string, PendingSave>();

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    private readonly health: AccountHealthService,
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional()
    @Inject(CLAUDE_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<ClaudeOAuthRefresherOptions>,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Refreshes the account's access token. True when the account now holds a fresh token (this
   * call refreshed it, or another instance did meanwhile); false when it has no refresh token or
   * the token endpoint refused or could not be reached.
   */
  async refresh(accountId: string): Promise<boolean> {
    return (await this.refreshWithResult(accountId)).ok;
  }

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    const seen = this.pool.get(accountId)?.credentials;
    const seenToken = seen?.type === 'claude-oauth' ? seen.accessToken : undefined;
    let lock: LockHandle | null;
    try {
      lock = await this.acquireRefreshLock(accountId);
    } catch (error) {
      appLogger.warn({ err: error, accountId }, 'oauth refresh: coordinator unavailable');
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
   * tokens that expire within five minutes, on one instance. Returns the ids it refreshed and
   * those it could not.
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
          // The refresh token is dead: the account fails as soon as its access token expires.
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
    const c = account.credentials;
    return (
      c.type === 'claude-oauth' &&
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
    if (record.type !== this.accountType) {
      return {
        ok: false,
        reason: 'wrong_type',
        detail: `${record.type} accounts have no Claude OAuth tokens`,
      };
    }
    let pending = this.pendingSaves.get(accountId);
    if (pending !== undefined && pending.basis !== record.credentials) {
      // Someone saved other credentials meanwhile (an admin): theirs win over the unsaved ones.
      this.dropPending(pending);
      pending = undefined;
    }
    // Tokens refreshed here but not saved yet are newer than SQL's: the old refresh token is spent.
    const stored = pending?.credentials ?? this.codec.openCredentials(record);
    if (stored === null || stored.type !== 'claude-oauth') {
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
    // The refresh token goes through the account's proxy: the same host policy as relay traffic.
    const proxyRefusal =
      proxyUrl === null ? null : this.codec.hostPolicy.refusal(proxyUrl, 'proxy');
    if (proxyRefusal !== null) {
      return { ok: false, reason: 'unavailable', detail: proxyRefusal };
    }
    const exchange = await this.exchange(stored.refreshToken, proxyUrl);
    if (!exchange.ok) {
      appLogger.warn(
        { accountId, reason: exchange.reason, detail: exchange.detail },
        'oauth refresh failed',
      );
      return exchange;
    }

    const body = exchange.body;
    const now = this.options.now();
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
    const credentials: AccountCredentials = {
      type: 'claude-oauth',
      accessToken: exchange.accessToken,
      // The endpoint rotates refresh tokens; keep the old one only when it sends none.
      refreshToken: text(body.refresh_token) ?? stored.refreshToken,
    };
    if (expiresIn !== undefined) credentials.expiresAt = now + Math.round(expiresIn * 1000);
    const subscription = this.mergeSubscription(this.codec.subscription(record), body);
    // Memory first: the provider has rotated the refresh token, so from here on these
    // credentials are the only working ones. The relay retries with them at once; if SQL
    // refuses the write they stay in use (held over reloads) while the save is retried.
    this.pool.holdCredentials(accountId, credentials, record.credentials);
    if (pending !== undefined) this.dropPending(pending, { keepHold: true });
    appLogger.info({ accountId, expiresInSeconds: expiresIn ?? null }, 'oauth token refreshed');
    await this.save({
      accountId,
      credentials,
      basis: record.credentials,
      changes: {
        credentials: this.codec.sealCredentials(accountId, credentials),
        subscription: subscription === null ? record.subscription : JSON.stringify(subscription),
        updated_at: now,
      },
      attempt: 1,
      timer: null,
    });
    const expiresAt = credentials.expiresAt ?? null;
    return { ok: true, expiresAt };
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
          'oauth refresh: shutting down with a rotated token that could not be saved; the ' +
            'account will need its credentials entered again',
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
      'oauth refresh: could not save the rotated token; using it from memory and retrying',
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
        'oauth refresh: saving the rotated token failed',
      );
      return 'failed';
    }
    if (this.pendingSaves.get(save.accountId) === save) this.dropPending(save);
    if (!applied) {
      appLogger.warn(
        { accountId: save.accountId },
        'oauth refresh: the account changed or was deleted before the rotated token was saved; ' +
          'keeping what is stored',
      );
      await this.pool.reload().catch(() => undefined);
      return 'superseded';
    }
    if (save.attempt > 1) {
      appLogger.info(
        { accountId: save.accountId, attempts: save.attempt },
        'oauth refresh: rotated token saved',
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

  private async exchange(
    refreshToken: string,
    proxyUrl: string | null,
  ): Promise<
    | { ok: true; accessToken: string; body: TokenResponse }
    | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number }
  > {
    let temporary: Dispatcher | undefined;
    let dispatcher: Dispatcher | undefined;
    if (proxyUrl !== null) {
      dispatcher = this.dispatcherFactory?.(proxyUrl);
      if (dispatcher === undefined) dispatcher = temporary = temporaryProxyAgent(proxyUrl);
    }
    try {
      const response = await request(this.config.env.CLAUDE_OAUTH_TOKEN_URL, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          grant_type: 'refresh_token',
          refresh_token: refreshToken,
          client_id: this.config.env.CLAUDE_OAUTH_CLIENT_ID,
        }),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      const raw = await response.body.text();
      let body: TokenResponse | null = null;
      try {
        body = JSON.parse(raw) as TokenResponse;
      } catch {
        body = null;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        const accessToken = text(body?.access_token);
        if (body === null || accessToken === undefined) {
          return {
            ok: false,
            reason: 'unavailable',
            detail: 'token endpoint sent no access token',
            status,
          };
        }
        return { ok: true, accessToken, body };
      }
      const retryable = status === 408 || status === 429 || status >= 500;
      return {
        ok: false,
        reason: retryable ? 'unavailable' : 'refused',
        detail: refusalDetail(status, body),
        status,
      };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const name = (error as { name?: unknown }).name;
      return {
        ok: false,
        reason: 'unavailable',
        detail: `token endpoint unreachable (${typeof code === 'string' ? code : String(name)})`,
      };
    } finally {
      await temporary?.close().catch(() => undefined);
    }
  }

  private mergeSubscription(
    current: AccountSubscription | null,
    body: TokenResponse,
  ): AccountSubscription | null {
    const facts: AccountSubscription = {};
    const email = text(body.account?.email_address);
    const accountUuid = text(body.account?.uuid);
    const organizationUuid = text(body.organization?.uuid);
    const organizationName = text(body.organization?.name);
    const scope = text(body.scope);
    if (email !== undefined) facts.email = email;
    if (accountUuid !== undefined) facts.accountUuid = accountUuid;
    if (organizationUuid !== undefined) facts.organizationUuid = organizationUuid;
    if (organizationName !== undefined) facts.organizationName = organizationName;
    if (scope !== undefined) facts.scopes = scope.split(' ').filter((s) => s !== '');
    if (Object.keys(facts).length === 0) return null;
    return { ...current, ...facts };
  }
}
