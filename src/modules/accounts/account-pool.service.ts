import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { createHash } from 'node:crypto';
import { appLogger } from 'src/common/logging/app-logger';
import type { Platform } from 'src/common/platform';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountCredentials, AccountStatus, RoutableAccount } from './account.types';
import { AccountCodec } from './account-codec';
import { accountKeys } from './account-coordination.keys';
import { AccountsRepository, type AccountRecord } from './accounts.repository';

export interface AccountPoolOptions {
  /** Invalidations arriving within this window cause one reload. */
  reloadDebounceMs: number;
  /**
   * Reload this often even without an invalidation: heals messages lost while Redis reconnected
   * and picks up changes made by a process that shares the database but not the coordinator
   * (the CLI next to an embedded server). Unchanged data does not bump the version.
   */
  safetyReloadMs: number;
  /** last_used_at is written to SQL at most this often, off the request path. */
  lastUsedFlushMs: number;
}

export const ACCOUNT_POOL_OPTIONS = Symbol('ACCOUNT_POOL_OPTIONS');

const DEFAULT_OPTIONS: AccountPoolOptions = {
  reloadDebounceMs: 50,
  safetyReloadMs: 60_000,
  lastUsedFlushMs: 30_000,
};

/** Shared empty result; frozen so a careless caller cannot fill it for everyone. */
const NONE: RoutableAccount[] = Object.freeze([]) as unknown as RoutableAccount[];

function byPreference(a: RoutableAccount, b: RoutableAccount): number {
  return a.priority - b.priority || a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
}

/** A digest of everything a reload would rebuild from (last_used_at aside: it is usage). */
function fingerprintOf(records: AccountRecord[], groups: Map<string, string[]>): string {
  const hash = createHash('sha256');
  for (const { last_used_at: _lastUsedAt, ...rest } of records) hash.update(JSON.stringify(rest));
  for (const [accountId, groupIds] of groups) hash.update(`${accountId}>${groupIds.join(',')}`);
  return hash.digest('base64');
}

/**
 * Every account, decrypted, in memory: the scheduler and the relay never read accounts from SQL
 * per request. Loaded at start, reloaded (debounced) when any instance publishes an account
 * invalidation. The arrays returned are shared and replaced (never edited) on reload: callers
 * must not modify them.
 */
@Injectable()
export class AccountPool implements OnModuleInit, OnModuleDestroy {
  private readonly options: AccountPoolOptions;
  private accounts: RoutableAccount[] = NONE;
  private byId = new Map<string, RoutableAccount>();
  private byPlatform = new Map<Platform, RoutableAccount[]>();
  private byGroup = new Map<string, RoutableAccount[]>();
  private currentVersion = 0;
  private fingerprint: string | null = null;
  private initialLoad: Promise<void> | undefined;
  private loading: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private readonly lastUsed = new Map<string, number>();
  /** Refreshed credentials not yet in SQL, by account: basis is the sealed value SQL still has. */
  private readonly held = new Map<string, { credentials: AccountCredentials; basis: string }>();
  private readonly listeners = new Set<(version: number) => void>();
  private destroyed = false;

  constructor(
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(ACCOUNT_POOL_OPTIONS) options?: Partial<AccountPoolOptions>,
  ) {
    this.options = { ...DEFAULT_OPTIONS, ...options };
  }

  async onModuleInit(): Promise<void> {
    try {
      this.unsubscribe = await this.coordinator.subscribe(accountKeys.channels.invalidation, () =>
        this.scheduleReload(),
      );
    } catch (error) {
      // The safety reload still converges; refusing to start over pub/sub would be worse.
      appLogger.error({ err: error }, 'account pool could not subscribe to invalidations');
    }
    await this.ensureLoaded();
    this.safetyTimer = setInterval(() => this.scheduleReload(), this.options.safetyReloadMs);
    this.safetyTimer.unref();
    this.flushTimer = setInterval(() => {
      this.flushLastUsed().catch(() => undefined);
    }, this.options.lastUsedFlushMs);
    this.flushTimer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    this.destroyed = true;
    for (const timer of [this.debounceTimer, this.safetyTimer, this.flushTimer]) {
      if (timer !== null) clearTimeout(timer);
    }
    this.debounceTimer = this.safetyTimer = this.flushTimer = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.().catch(() => undefined);
    await this.loading?.catch(() => undefined);
    await this.flushLastUsed();
  }

  /** Increments whenever a reload changed anything; lets readers cache derived structures. */
  get version(): number {
    return this.currentVersion;
  }

  /** Every account, including disabled, unschedulable and unhealthy ones. */
  all(): RoutableAccount[] {
    return this.accounts;
  }

  get(id: string): RoutableAccount | undefined {
    return this.byId.get(id);
  }

  /**
   * Candidates of a platform for the shared pool: enabled and schedulable, preferred first
   * (priority ascending, then name). Health is not applied here: ask AccountHealthService.
   */
  forPlatform(platform: Platform): RoutableAccount[] {
    return this.byPlatform.get(platform) ?? NONE;
  }

  /** Enabled, schedulable members of a group, preferred first. */
  groupMembers(groupId: string): RoutableAccount[] {
    return this.byGroup.get(groupId) ?? NONE;
  }

  /** Resolves once the first load has completed (starting it when nobody has yet). */
  ensureLoaded(): Promise<void> {
    this.initialLoad ??= this.reload().catch((error: unknown) => {
      this.initialLoad = undefined;
      throw error;
    });
    return this.initialLoad;
  }

  /**
   * Reloads from SQL now. Calls made while a reload runs share one follow-up reload, so the
   * caller always sees data read after its call.
   */
  reload(): Promise<void> {
    if (this.loading === null) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.followUp ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.followUp = null;
        return this.reload();
      });
    return this.followUp;
  }

  /** Notified after each reload that changed the pool. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Records a use: in memory now, in SQL with the next throttled flush. */
  markUsed(id: string, at: number = Date.now()): void {
    const account = this.byId.get(id);
    if (account === undefined) return;
    account.lastUsedAt = at;
    this.lastUsed.set(id, at);
  }

  /** Writes pending last-used times; failures are logged and the times retried next flush. */
  async flushLastUsed(): Promise<void> {
    if (this.lastUsed.size === 0) return;
    const entries = [...this.lastUsed].map(([id, at]) => ({ id, at }));
    this.lastUsed.clear();
    try {
      await this.accountsRepository.touchLastUsed(entries);
    } catch (error) {
      appLogger.warn({ err: error }, 'could not persist account last-used times');
      for (const { id, at } of entries) {
        if ((this.lastUsed.get(id) ?? 0) < at) this.lastUsed.set(id, at);
      }
    }
  }

  /**
   * Applies a status change to this instance at once (the next pick must not wait for the
   * debounced reload). The caller writes SQL and publishes the invalidation for the others.
   */
  applyStatus(id: string, status: AccountStatus, reason: string | null): void {
    const account = this.byId.get(id);
    if (account === undefined) return;
    account.status = status;
    account.statusReason = status === 'active' ? null : reason;
  }

  /** Applies refreshed credentials to this instance at once (a retry follows immediately). */
  applyCredentials(id: string, credentials: AccountCredentials): void {
    const account = this.byId.get(id);
    if (account !== undefined && account.type === credentials.type) {
      account.credentials = credentials;
    }
  }

  /**
   * Applies refreshed credentials that could not be saved yet, and keeps them over reloads while
   * SQL still holds `basis` (the sealed value they replace): a reload must not bring back a
   * token the provider has already rotated away. A different value in SQL (an admin entered new
   * credentials) wins and ends the hold.
   */
  holdCredentials(id: string, credentials: AccountCredentials, basis: string): void {
    this.held.set(id, { credentials, basis });
    this.applyCredentials(id, credentials);
  }

  /** Ends a hold (the credentials were saved, or superseded). */
  releaseCredentials(id: string): void {
    this.held.delete(id);
  }

  private scheduleReload(): void {
    if (this.debounceTimer !== null || this.destroyed) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = null;
      this.reload().catch(() => undefined);
    }, this.options.reloadDebounceMs);
    this.debounceTimer.unref();
  }

  private async load(): Promise<void> {
    let records: AccountRecord[];
    let groups: Map<string, string[]>;
    try {
      [records, groups] = await Promise.all([
        this.accountsRepository.listAll(),
        this.accountsRepository.groupIdsByAccount(),
      ]);
    } catch (error) {
      appLogger.error({ err: error }, 'account pool reload failed; keeping the previous pool');
      throw error;
    }
    const fingerprint = fingerprintOf(records, groups);
    if (fingerprint === this.fingerprint) return;

    const accounts = records.map((record) => {
      const account = this.codec.toRoutable(record, groups.get(record.id) ?? []);
      if (AccountCodec.isUnreadable(account)) {
        // Ids and names only: sealed values are useless in a log and stay out of it.
        appLogger.error(
          { accountId: account.id, accountName: account.name, reason: account.statusReason },
          'account cannot be used until its secrets are entered again',
        );
      } else if (AccountCodec.isRefused(account)) {
        appLogger.error(
          { accountId: account.id, accountName: account.name, reason: account.statusReason },
          'account is not routed: its base URL or proxy is refused by the upstream host policy',
        );
      }
      const held = this.held.get(account.id);
      if (held !== undefined) {
        if (record.credentials === held.basis && account.type === held.credentials.type) {
          account.credentials = held.credentials;
        } else {
          this.held.delete(account.id);
        }
      }
      // A use recorded in memory but not yet flushed is newer than the stored one.
      const previous = this.byId.get(account.id)?.lastUsedAt ?? null;
      if (previous !== null && (account.lastUsedAt === null || previous > account.lastUsedAt)) {
        account.lastUsedAt = previous;
      }
      return account;
    });
    accounts.sort(byPreference);

    const byId = new Map<string, RoutableAccount>();
    const byPlatform = new Map<Platform, RoutableAccount[]>();
    const byGroup = new Map<string, RoutableAccount[]>();
    for (const account of accounts) {
      byId.set(account.id, account);
      if (!account.enabled || !account.schedulable) continue;
      const platformList = byPlatform.get(account.platform);
      if (platformList === undefined) byPlatform.set(account.platform, [account]);
      else platformList.push(account);
      for (const groupId of account.groupIds) {
        const groupList = byGroup.get(groupId);
        if (groupList === undefined) byGroup.set(groupId, [account]);
        else groupList.push(account);
      }
    }

    this.accounts = accounts;
    this.byId = byId;
    this.byPlatform = byPlatform;
    this.byGroup = byGroup;
    this.fingerprint = fingerprint;
    this.currentVersion += 1;
    for (const listener of this.listeners) {
      try {
        listener(this.currentVersion);
      } catch (error) {
        appLogger.error({ err: error }, 'account pool reload listener failed');
      }
    }
  }
}
