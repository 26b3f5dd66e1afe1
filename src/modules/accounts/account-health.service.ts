import {
  Inject,
  Injectable,
  Optional,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import type {
  AccountStatus,
  HealthEvent,
  HealthState,
  RoutableAccount,
  UpstreamOutcome,
} from './account.types';
import { accountKeys } from './account-coordination.keys';
import { AccountHealthEventsRepository } from './account-health-events.repository';
import { AccountPool } from './account-pool.service';
import { AccountsRepository } from './accounts.repository';
import type { ResponseHeaders, UsageWindow } from './types/account-type.descriptor';
import { accountTypeDescriptors, descriptorOf } from './types/account-types.registry';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { NotificationEventInput } from 'src/infra/outbox/outbox.types';
import {
  recoveredNotification,
  statusNotification,
  timedNotification,
} from './account-notifications';

/** A state that ends by itself: held in the coordinator with a TTL and mirrored in memory. */
interface TimedEntry {
  state: 'cooling' | 'rate_limited';
  /** 'account' or a model family. */
  scope: string;
  until: number;
  reason: string;
  /** When it was entered. */
  at: number;
}

type HealthMessage =
  | { t: 'set'; id: string; entry: TimedEntry; from: string }
  | { t: 'clear'; id: string; expiredOnly: boolean; from: string };

export type Routability = { ok: true } | { ok: false; state: HealthState };

/** A current non-ok state as the admin API shows it. */
export interface HealthStateView {
  state: Exclude<HealthState['state'], 'ok'>;
  scope: string | null;
  until: number | null;
  reason: string;
}

export interface AccountHealthOptions {
  /** Clock in epoch ms; tests move it. */
  now: () => number;
}

export const ACCOUNT_HEALTH_OPTIONS = Symbol('ACCOUNT_HEALTH_OPTIONS');

/** The usage windows one response reported, and when. */
interface ObservedUsage {
  at: number;
  windows: UsageWindow[];
}

/**
 * An account's usage windows are written to the coordinator at most this often (the last reading
 * of a burst follows when the interval ends): responses arrive many times a second, and the
 * admin view needs the latest figure, not every one.
 */
export const USAGE_SHARE_INTERVAL_MS = 10_000;
const USAGE_TTL_MIN_MS = 60_000;
const USAGE_TTL_DEFAULT_MS = 86_400_000;
const USAGE_TTL_MAX_MS = 8 * 86_400_000;

function parseUsage(value: string | null): ObservedUsage | null {
  if (value === null) return null;
  try {
    const parsed = JSON.parse(value) as Partial<ObservedUsage>;
    if (typeof parsed.at !== 'number' || !Array.isArray(parsed.windows)) return null;
    const windows = parsed.windows.filter(
      (w): w is UsageWindow =>
        typeof w === 'object' &&
        w !== null &&
        typeof w.name === 'string' &&
        typeof w.usedPercent === 'number' &&
        (w.resetsAt === null || typeof w.resetsAt === 'number') &&
        (w.windowMinutes === null || typeof w.windowMinutes === 'number'),
    );
    return { at: parsed.at, windows };
  } catch {
    // Written by an incompatible version: ignore it, it expires by itself.
    return null;
  }
}

/** Windows whose reset has passed say nothing about now: they are left out until reported again. */
function currentWindows(observed: ObservedUsage | null | undefined, now: number): UsageWindow[] {
  return (observed?.windows ?? []).filter((w) => w.resetsAt === null || w.resetsAt > now);
}

/** 'account' and every model family of every account type: the scopes a state can have. */
export const HEALTH_SCOPES: readonly string[] = [
  ...new Set(['account', ...accountTypeDescriptors().flatMap((d) => d.modelFamilies)]),
];

/**
 * Resolves the scope an outcome names ('account', a family, or 'model') for one model, with the
 * model families of the account's type.
 */
export function resolveRateLimitScope(
  scope: string,
  model: string | undefined,
  modelFamily: (model: string) => string,
): string {
  if (scope === 'account') return 'account';
  if (scope === 'model') return model === undefined ? 'account' : modelFamily(model);
  return scope;
}

/** The scopes that decide whether the account serves this model: its own and the model's family. */
function scopesFor(account: RoutableAccount, model: string | undefined): string[] {
  return model === undefined
    ? ['account']
    : ['account', descriptorOf(account.type).modelFamily(model)];
}

const ROUTABLE: Routability = Object.freeze({ ok: true });
const OK: HealthState = Object.freeze({ state: 'ok' });

const DEFAULT_STATUS_REASON: Record<Exclude<AccountStatus, 'active'>, string> = {
  auth_failed: 'authentication failed',
  blocked: 'blocked by the upstream',
};

function toHealthState(entry: TimedEntry): HealthState {
  return entry.state === 'cooling'
    ? { state: 'cooling', until: entry.until, reason: entry.reason }
    : { state: 'rate_limited', until: entry.until, scope: entry.scope, reason: entry.reason };
}

function parseEntry(value: string): TimedEntry | null {
  try {
    const entry = JSON.parse(value) as Partial<TimedEntry>;
    if (
      (entry.state === 'cooling' || entry.state === 'rate_limited') &&
      typeof entry.scope === 'string' &&
      typeof entry.until === 'number' &&
      typeof entry.reason === 'string'
    ) {
      return {
        state: entry.state,
        scope: entry.scope,
        until: entry.until,
        reason: entry.reason,
        at: typeof entry.at === 'number' ? entry.at : entry.until,
      };
    }
  } catch {
    // A value written by an incompatible version: ignore it, it expires by itself.
  }
  return null;
}

/**
 * One health state machine per account.
 *
 * - ok → cooling(until, reason) after a 529, a 5xx, a timeout or a connect error, for the
 *   configured duration of that reason.
 * - ok → rate_limited(until, scope) after a 429, for the whole account or one model family, until
 *   the upstream's reset (else the configured fallback).
 * - → auth_failed / blocked: persistent, in the SQL status column, until an admin resets the
 *   account or enters new credentials.
 *
 * Time-bound states live in the coordinator with TTL = until − now, so every instance agrees and
 * recovery needs no job: a state whose `until` has passed is simply ok. Each instance mirrors them
 * in memory from a pub/sub channel, so `routable()` is synchronous and does no I/O. Transitions
 * (entering a state, recovery observed on the first success after it, admin reset) go to the
 * per-account history, written off the request path and trimmed to ACCOUNT_HEALTH_HISTORY.
 */
@Injectable()
export class AccountHealthService implements OnModuleInit, OnModuleDestroy {
  private readonly now: () => number;
  /** account id → scope → entry (expired entries stay until a success records the recovery). */
  private readonly timed = new Map<string, Map<string, TimedEntry>>();
  private readonly queue: AccountHealthEventRecordInput[] = [];
  /** Notifications raised without a history row of their own. */
  private readonly notifyQueue: NotificationEventInput[] = [];
  private writing: Promise<void> | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private stopListening: (() => void) | null = null;
  /** account id → the latest usage windows this instance saw. */
  private readonly usage = new Map<string, ObservedUsage>();
  /** account id → when its windows were last written to the coordinator. */
  private readonly usageSharedAt = new Map<string, number>();
  /** account id → the pending write of the last reading of a burst. */
  private readonly usageTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly events: AccountHealthEventsRepository,
    private readonly config: ConfigService,
    private readonly settings: RuntimeSettings,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Optional() @Inject(ACCOUNT_HEALTH_OPTIONS) options?: Partial<AccountHealthOptions>,
    /** Where transitions are raised as notifications; absent in tests that need none. */
    @Optional() private readonly notifications?: NotificationOutbox,
  ) {
    this.now = options?.now ?? Date.now;
  }

  async onModuleInit(): Promise<void> {
    try {
      this.unsubscribe = await this.coordinator.subscribe(accountKeys.channels.health, (message) =>
        this.onMessage(message),
      );
    } catch (error) {
      appLogger.error({ err: error }, 'account health could not subscribe to transitions');
    }
    await this.pool.ensureLoaded();
    await this.resync();
    // A reload may bring new accounts, and follows missed messages after a reconnect.
    this.stopListening = this.pool.onReload(() => {
      this.resync().catch(() => undefined);
    });
  }

  async onModuleDestroy(): Promise<void> {
    for (const timer of this.usageTimers.values()) clearTimeout(timer);
    this.usageTimers.clear();
    this.stopListening?.();
    this.stopListening = null;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = null;
    await unsubscribe?.().catch(() => undefined);
    await this.flush();
  }

  /**
   * Feeds one upstream outcome into the account's state machine and returns the state that
   * results. A success on an account with nothing recorded returns at once without any I/O.
   * Never rejects: a coordinator or database failure is logged, and this instance still applies
   * the state in memory.
   */
  async record(
    account: RoutableAccount,
    outcome: UpstreamOutcome,
    model?: string,
  ): Promise<HealthState> {
    if (outcome.kind === 'success') {
      return this.timed.has(account.id) ? this.onSuccess(account, model) : OK;
    }
    const settings = this.settings;
    const now = this.now();
    switch (outcome.kind) {
      case 'overloaded':
        return this.enterTimed(account, {
          state: 'cooling',
          scope: 'account',
          until: now + settings.get('accountCooldownOverloadedMs'),
          reason: `overloaded (${outcome.status})`,
          at: now,
        });
      case 'server_error':
        return this.enterTimed(account, {
          state: 'cooling',
          scope: 'account',
          until: now + settings.get('accountCooldownServerErrorMs'),
          reason: `server error (${outcome.status})`,
          at: now,
        });
      case 'timeout':
        return this.enterTimed(account, {
          state: 'cooling',
          scope: 'account',
          until: now + settings.get('accountCooldownTimeoutMs'),
          reason: outcome.phase === 'connect' ? 'connect timeout' : 'first byte timeout',
          at: now,
        });
      case 'connect_error':
        return this.enterTimed(account, {
          state: 'cooling',
          scope: 'account',
          until: now + settings.get('accountCooldownTimeoutMs'),
          reason: `connect error (${outcome.code})`,
          at: now,
        });
      case 'rate_limited': {
        const descriptor = descriptorOf(account.type);
        const scope = resolveRateLimitScope(outcome.scope, model, (m) => descriptor.modelFamily(m));
        const fallback = outcome.resetAt === null || outcome.resetAt <= now;
        const reason =
          `rate limited${scope === 'account' ? '' : ` for ${scope} models`}` +
          (fallback ? ' (no reset time given)' : '');
        return this.enterTimed(account, {
          state: 'rate_limited',
          scope,
          until: fallback
            ? now + settings.get('accountRateLimitFallbackMs')
            : (outcome.resetAt ?? now),
          reason,
          at: now,
        });
      }
      case 'auth_failed':
        return this.markStatus(account, 'auth_failed', `authentication failed (${outcome.status})`);
      case 'blocked': {
        // Callers may pass the raw error body: keep the upstream's own words, on one short line.
        const reason = descriptorOf(account.type).health.blockedReason(outcome.message);
        return this.markStatus(
          account,
          'blocked',
          reason === '' ? DEFAULT_STATUS_REASON.blocked : reason,
        );
      }
    }
  }

  /**
   * Whether the account may take a request for this model now. Synchronous, memory only.
   * Does not look at `enabled` / `schedulable` (AccountPool.forPlatform already filters them).
   */
  routable(account: RoutableAccount, model?: string, now: number = this.now()): Routability {
    if (account.status !== 'active') {
      return {
        ok: false,
        state: {
          state: account.status,
          reason: account.statusReason ?? DEFAULT_STATUS_REASON[account.status],
        },
      };
    }
    const entries = this.timed.get(account.id);
    if (entries === undefined) return ROUTABLE;
    const whole = entries.get('account');
    if (whole !== undefined && whole.until > now) return { ok: false, state: toHealthState(whole) };
    if (model !== undefined) {
      const family = entries.get(descriptorOf(account.type).modelFamily(model));
      if (family !== undefined && family.until > now) {
        return { ok: false, state: toHealthState(family) };
      }
    }
    return ROUTABLE;
  }

  /**
   * The soonest moment one of these accounts becomes routable again for the model, from their
   * cooling and rate-limit `until`s (for a 429's retry-after when no candidate is routable).
   * null when one is routable now or none will recover by time (auth_failed, blocked).
   */
  earliestRecovery(
    accounts: readonly RoutableAccount[],
    model?: string,
    now: number = this.now(),
  ): number | null {
    let earliest: number | null = null;
    for (const account of accounts) {
      const verdict = this.routable(account, model, now);
      if (verdict.ok) return null;
      const state = verdict.state;
      if (state.state !== 'cooling' && state.state !== 'rate_limited') continue;
      // Both scopes may hold; the account is back when the later of the two has passed.
      const until = Math.max(state.until, this.latestUntil(account, model, now));
      if (earliest === null || until < earliest) earliest = until;
    }
    return earliest;
  }

  /** Every current non-ok state of the account (all scopes), for the admin API. */
  states(account: RoutableAccount, now: number = this.now()): HealthStateView[] {
    const views: HealthStateView[] = [];
    if (account.status !== 'active') {
      views.push({
        state: account.status,
        scope: null,
        until: null,
        reason: account.statusReason ?? DEFAULT_STATUS_REASON[account.status],
      });
    }
    for (const entry of this.timed.get(account.id)?.values() ?? []) {
      if (entry.until > now) {
        views.push({
          state: entry.state,
          scope: entry.scope,
          until: entry.until,
          reason: entry.reason,
        });
      }
    }
    return views;
  }

  /** The accounts with a time-bound state of this kind in force now (any scope). */
  accountIdsIn(state: 'cooling' | 'rate_limited', now: number = this.now()): string[] {
    const ids: string[] = [];
    for (const [accountId, entries] of this.timed) {
      for (const entry of entries.values()) {
        if (entry.state === state && entry.until > now) {
          ids.push(accountId);
          break;
        }
      }
    }
    return ids;
  }

  /**
   * Sets a persistent status (auth_failed, blocked): SQL, this instance's pool at once, the
   * other instances through an invalidation. Recorded in the history.
   */
  async markStatus(
    account: RoutableAccount,
    status: Exclude<AccountStatus, 'active'>,
    reason: string,
  ): Promise<HealthState> {
    const state: HealthState = { state: status, reason };
    if (account.status === status) return { state: status, reason: account.statusReason ?? reason };
    const now = this.now();
    account.status = status;
    account.statusReason = reason;
    this.pool.applyStatus(account.id, status, reason);
    const notifications = this.notifications;
    try {
      if (notifications === undefined) {
        await this.accountsRepository.setStatus(account.id, status, reason, now);
      } else {
        // Raised with the SQL transition, in its transaction: once however many requests (or
        // instances) see the same 401 at the same time.
        await this.accountsRepository.setStatus(account.id, status, reason, now, (trx) =>
          notifications.emit(statusNotification(account, status, reason, now), trx),
        );
      }
      await this.coordinator.publish(accountKeys.channels.invalidation, account.id);
    } catch (error) {
      appLogger.error({ err: error, accountId: account.id, status }, 'could not persist status');
    }
    this.enqueue({
      accountId: account.id,
      at: now,
      state: status,
      scope: null,
      until: null,
      reason,
    });
    return state;
  }

  /**
   * Admin reset: clears every time-bound state (all instances), sets the status back to active,
   * and records 'reset by admin'. The caller checks that the account exists.
   */
  async reset(accountId: string): Promise<void> {
    const now = this.now();
    const ending = this.timed.get(accountId)?.get('account');
    this.timed.delete(accountId);
    await Promise.all(
      HEALTH_SCOPES.map((scope) =>
        this.coordinator.deleteValue(accountKeys.health(accountId, scope)),
      ),
    );
    await this.coordinator.publish(
      accountKeys.channels.health,
      JSON.stringify({
        t: 'clear',
        id: accountId,
        expiredOnly: false,
        from: this.coordinator.instanceId,
      } satisfies HealthMessage),
    );
    const notifications = this.notifications;
    const account = this.pool.get(accountId) ?? { id: accountId };
    if (notifications === undefined) {
      await this.accountsRepository.setStatus(accountId, 'active', null, now);
    } else {
      const fromStatus = this.pool.get(accountId)?.status ?? 'auth_failed';
      const changed = await this.accountsRepository.setStatus(
        accountId,
        'active',
        null,
        now,
        (trx) =>
          notifications.emit(
            recoveredNotification(account, fromStatus, 'reset by admin', now),
            trx,
          ),
      );
      if (!changed && ending !== undefined && ending.until > now) {
        this.notify(recoveredNotification(account, ending.state, 'reset by admin', now, ending));
      }
    }
    this.pool.applyStatus(accountId, 'active', null);
    await this.coordinator.publish(accountKeys.channels.invalidation, accountId);
    this.enqueue({
      accountId,
      at: now,
      state: 'ok',
      scope: null,
      until: null,
      reason: 'reset by admin',
    });
    await this.flush();
  }

  /**
   * Keeps the usage windows a response of the account reports (any status), for the admin view.
   * Synchronous and cheap (a few header reads): the relay calls it on every response. A no-op
   * for types whose rules read no windows, and for responses that report none. The reading is
   * shared through the coordinator at most every USAGE_SHARE_INTERVAL_MS per account, off the
   * response path.
   */
  observeResponse(account: RoutableAccount, headers: ResponseHeaders): void {
    const rules = descriptorOf(account.type).health;
    if (rules.usageWindows === undefined) return;
    const now = this.now();
    const windows = rules.usageWindows(headers, now);
    if (windows === null || windows.length === 0) return;
    this.usage.set(account.id, { at: now, windows });
    this.shareUsage(account.id, now);
  }

  /** The account's usage windows as this instance last saw them (no I/O). */
  localUsageWindows(accountId: string, now: number = this.now()): UsageWindow[] {
    return currentWindows(this.usage.get(accountId), now);
  }

  /**
   * The latest usage windows of these accounts, from whichever instance saw the latest response
   * (this one's memory, else the coordinator). Windows whose reset has passed are left out. A
   * coordinator failure is logged and this instance's readings are answered.
   */
  async usageWindows(accountIds: readonly string[]): Promise<Map<string, UsageWindow[]>> {
    const result = new Map<string, UsageWindow[]>();
    if (accountIds.length === 0) return result;
    let shared: (string | null)[] = [];
    try {
      shared = await this.coordinator.getValues(
        accountIds.map((id) => accountKeys.usageWindows(id)),
      );
    } catch (error) {
      appLogger.warn({ err: error }, 'could not read usage windows from the coordinator');
    }
    const now = this.now();
    accountIds.forEach((id, i) => {
      const local = this.usage.get(id);
      const remote = parseUsage(shared[i] ?? null);
      const latest =
        remote !== null && (local === undefined || remote.at > local.at) ? remote : local;
      result.set(id, currentWindows(latest, now));
    });
    return result;
  }

  /** Drops an account's time-bound states and usage windows (after it was deleted). */
  async forget(accountId: string): Promise<void> {
    this.timed.delete(accountId);
    this.usage.delete(accountId);
    this.usageSharedAt.delete(accountId);
    const timer = this.usageTimers.get(accountId);
    if (timer !== undefined) clearTimeout(timer);
    this.usageTimers.delete(accountId);
    try {
      await Promise.all([
        ...HEALTH_SCOPES.map((scope) =>
          this.coordinator.deleteValue(accountKeys.health(accountId, scope)),
        ),
        this.coordinator.deleteValue(accountKeys.usageWindows(accountId)),
      ]);
    } catch (error) {
      // The values expire with their TTL; nothing reads them for an unknown account.
      appLogger.warn({ err: error, accountId }, 'could not clear health of a deleted account');
    }
  }

  /** Notes a transition that did not come from an upstream outcome (e.g. new credentials). */
  note(accountId: string, event: HealthEvent): void {
    this.enqueue({ accountId, ...event });
  }

  /** Notes that an account is routable again after new credentials replaced a bad status. */
  noteCredentialsReplaced(accountId: string, previousStatus: string, at: number): void {
    const reason = `credentials replaced by admin (was ${previousStatus})`;
    this.enqueue({ accountId, at, state: 'ok', scope: null, until: null, reason });
    const account = this.pool.get(accountId) ?? { id: accountId };
    this.notify(recoveredNotification(account, previousStatus, 'new credentials', at));
  }

  /** The account's transitions, newest first. */
  async history(accountId: string, limit: number): Promise<HealthEvent[]> {
    await this.flush();
    const rows = await this.events.recent(accountId, limit);
    return rows.map((row) => ({
      at: row.at,
      state: row.state as HealthEvent['state'],
      scope: row.scope,
      until: row.until,
      reason: row.reason,
    }));
  }

  /** Resolves when every transition recorded so far is written (tests, shutdown). */
  async flush(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  /** Re-reads every pool account's time-bound states from the coordinator. */
  async resync(): Promise<void> {
    const ids = this.pool.all().map((account) => account.id);
    const keys = ids.flatMap((id) => HEALTH_SCOPES.map((scope) => accountKeys.health(id, scope)));
    let values: (string | null)[];
    try {
      values = await this.coordinator.getValues(keys);
    } catch (error) {
      appLogger.warn({ err: error }, 'could not read account health from the coordinator');
      return;
    }
    const now = this.now();
    const known = new Set(ids);
    for (const id of this.timed.keys()) if (!known.has(id)) this.timed.delete(id);
    ids.forEach((id, i) => {
      HEALTH_SCOPES.forEach((scope, j) => {
        const value = values[i * HEALTH_SCOPES.length + j] ?? null;
        const entry = value === null ? null : parseEntry(value);
        if (entry !== null) {
          this.apply(id, entry);
          return;
        }
        // Gone from the coordinator: reset elsewhere (drop it) or expired (keep it, so the first
        // success still records the recovery).
        const current = this.timed.get(id)?.get(scope);
        if (current !== undefined && current.until > now) this.remove(id, scope);
      });
    });
  }

  private async onSuccess(
    account: RoutableAccount,
    model: string | undefined,
  ): Promise<HealthState> {
    const entries = this.timed.get(account.id);
    if (entries === undefined) return OK;
    const now = this.now();
    const scopes = scopesFor(account, model);
    const recovered: TimedEntry[] = [];
    for (const scope of scopes) {
      const entry = entries.get(scope);
      // An unexpired state stays: this success was most likely in flight when it was entered.
      if (entry !== undefined && entry.until <= now) {
        recovered.push(entry);
        this.remove(account.id, scope);
      }
    }
    if (recovered.length > 0) {
      for (const entry of recovered) {
        this.enqueue({
          accountId: account.id,
          at: now,
          state: 'ok',
          scope: entry.scope,
          until: null,
          reason: `recovered from ${entry.reason}`,
          // Account-wide episodes only: a model family's limit is not the account's health.
          notify:
            entry.scope === 'account'
              ? recoveredNotification(
                  account,
                  entry.state,
                  `recovered from ${entry.reason}`,
                  now,
                  entry,
                )
              : undefined,
        });
      }
      // Other instances drop their expired copies without recording the recovery again.
      this.coordinator
        .publish(
          accountKeys.channels.health,
          JSON.stringify({
            t: 'clear',
            id: account.id,
            expiredOnly: true,
            from: this.coordinator.instanceId,
          } satisfies HealthMessage),
        )
        .catch((error: unknown) => {
          appLogger.warn({ err: error }, 'could not publish an account recovery');
        });
    }
    const verdict = this.routable(account, model, now);
    return verdict.ok ? OK : verdict.state;
  }

  private async enterTimed(account: RoutableAccount, entry: TimedEntry): Promise<HealthState> {
    const now = entry.at;
    const ttl = entry.until - now;
    // A zero duration in config turns that kind of cooldown off.
    if (ttl <= 0) return OK;
    const current = this.timed.get(account.id)?.get(entry.scope);
    const live = current !== undefined && current.until > now ? current : undefined;
    // The later `until` wins: a short cooldown must not cut a long rate limit short.
    if (live !== undefined && live.until >= entry.until) return toHealthState(live);
    this.apply(account.id, entry);
    if (live === undefined || live.state !== entry.state || live.reason !== entry.reason) {
      const episode = live === undefined || live.state !== entry.state;
      this.enqueue({
        accountId: account.id,
        at: now,
        state: entry.state,
        scope: entry.scope,
        until: entry.until,
        reason: entry.reason,
        notify:
          episode && entry.scope === 'account'
            ? timedNotification(account, entry.state, entry.until, entry.reason, now)
            : undefined,
      });
    }
    try {
      await this.coordinator.setValue(
        accountKeys.health(account.id, entry.scope),
        JSON.stringify(entry),
        ttl,
      );
      await this.coordinator.publish(
        accountKeys.channels.health,
        JSON.stringify({
          t: 'set',
          id: account.id,
          entry,
          from: this.coordinator.instanceId,
        } satisfies HealthMessage),
      );
    } catch (error) {
      // This instance keeps the state; the others learn it when they hit the same error.
      appLogger.warn({ err: error, accountId: account.id }, 'could not share an account state');
    }
    return toHealthState(entry);
  }

  /** Writes the account's latest windows now, or when its share interval ends. */
  private shareUsage(accountId: string, now: number): void {
    // A pending write sends whatever is latest when it fires.
    if (this.usageTimers.has(accountId)) return;
    const wait = (this.usageSharedAt.get(accountId) ?? -Infinity) + USAGE_SHARE_INTERVAL_MS - now;
    if (wait <= 0) {
      this.writeUsage(accountId);
      return;
    }
    const timer = setTimeout(() => {
      this.usageTimers.delete(accountId);
      this.writeUsage(accountId);
    }, wait);
    timer.unref();
    this.usageTimers.set(accountId, timer);
  }

  private writeUsage(accountId: string): void {
    const observed = this.usage.get(accountId);
    if (observed === undefined) return;
    const now = this.now();
    this.usageSharedAt.set(accountId, now);
    // Kept until the last window resets (a reading says nothing after that), within bounds.
    const resets = observed.windows
      .map((w) => w.resetsAt)
      .filter((at): at is number => at !== null);
    const ttl =
      resets.length === 0
        ? USAGE_TTL_DEFAULT_MS
        : Math.min(USAGE_TTL_MAX_MS, Math.max(USAGE_TTL_MIN_MS, Math.max(...resets) - now));
    this.coordinator
      .setValue(accountKeys.usageWindows(accountId), JSON.stringify(observed), ttl)
      .catch((error: unknown) => {
        appLogger.warn({ err: error, accountId }, 'could not share usage windows');
      });
  }

  private onMessage(raw: string): void {
    let message: HealthMessage;
    try {
      message = JSON.parse(raw) as HealthMessage;
    } catch {
      return;
    }
    if (message.from === this.coordinator.instanceId) return;
    const now = this.now();
    switch (message.t) {
      case 'set': {
        const entry = parseEntry(JSON.stringify(message.entry));
        if (entry === null) return;
        const current = this.timed.get(message.id)?.get(entry.scope);
        if (current !== undefined && current.until > now && current.until >= entry.until) return;
        this.apply(message.id, entry);
        return;
      }
      case 'clear': {
        const entries = this.timed.get(message.id);
        if (entries === undefined) return;
        for (const [scope, entry] of entries) {
          if (!message.expiredOnly || entry.until <= now) this.remove(message.id, scope);
        }
        return;
      }
    }
  }

  private apply(accountId: string, entry: TimedEntry): void {
    let entries = this.timed.get(accountId);
    if (entries === undefined) {
      entries = new Map();
      this.timed.set(accountId, entries);
    }
    entries.set(entry.scope, entry);
  }

  private remove(accountId: string, scope: string): void {
    const entries = this.timed.get(accountId);
    if (entries === undefined) return;
    entries.delete(scope);
    if (entries.size === 0) this.timed.delete(accountId);
  }

  private latestUntil(account: RoutableAccount, model: string | undefined, now: number): number {
    const entries = this.timed.get(account.id);
    let latest = now;
    for (const scope of scopesFor(account, model)) {
      const entry = entries?.get(scope);
      if (entry !== undefined && entry.until > latest) latest = entry.until;
    }
    return latest;
  }

  private enqueue(event: AccountHealthEventRecordInput): void {
    this.queue.push(event);
    this.writing ??= this.drain().finally(() => {
      this.writing = null;
    });
  }

  /** Writes queued transitions in batches and trims each touched account's history. */
  private async drain(): Promise<void> {
    // Let the caller's request continue first; the write happens on a later tick.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.queue.length > 0 || this.notifyQueue.length > 0) {
      const batch = this.queue.splice(0, this.queue.length);
      if (batch.length > 0) await this.writeHistory(batch);
      // Written behind with the history batch, off the request path; dedupe keys make an
      // episode seen by several instances one event.
      const notifications = [
        ...batch.flatMap((event) => (event.notify === undefined ? [] : [event.notify])),
        ...this.notifyQueue.splice(0, this.notifyQueue.length),
      ];
      for (const notification of notifications) await this.emitQuietly(notification);
    }
  }

  private async writeHistory(batch: AccountHealthEventRecordInput[]): Promise<void> {
    try {
      await this.events.insert(
        batch.map((event) => ({
          id: timeOrderedId(event.at),
          account_id: event.accountId,
          at: event.at,
          state: event.state,
          scope: event.scope,
          until: event.until,
          reason: event.reason.slice(0, 1000),
        })),
      );
      const keep = this.config.env.ACCOUNT_HEALTH_HISTORY;
      for (const accountId of new Set(batch.map((event) => event.accountId))) {
        await this.events.trim(accountId, keep);
      }
    } catch (error) {
      // A deleted account (foreign key) or an unreachable database: the history is advisory.
      appLogger.warn({ err: error }, 'could not write account health history');
    }
  }

  /** Raises a notification off the request path (through the history queue). */
  private notify(notification: NotificationEventInput): void {
    this.notifyQueue.push(notification);
    this.writing ??= this.drain().finally(() => {
      this.writing = null;
    });
  }

  private async emitQuietly(notification: NotificationEventInput): Promise<void> {
    if (this.notifications === undefined) return;
    try {
      await this.notifications.emit(notification);
    } catch (error) {
      appLogger.warn({ err: error, type: notification.type }, 'could not raise a notification');
    }
  }
}

interface AccountHealthEventRecordInput extends HealthEvent {
  accountId: string;
  /** A notification raised with this transition, written behind with it. */
  notify?: NotificationEventInput;
}
