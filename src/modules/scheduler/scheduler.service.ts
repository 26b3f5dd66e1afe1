import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import { LeaseRenewer, type RenewableLease } from 'src/infra/coordination/lease-renewer';
import type {
  HealthState,
  RoutableAccount,
  UpstreamOutcome,
} from 'src/modules/accounts/account.types';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import type { ApiKeyBinding } from 'src/modules/api-keys/api-key.types';
import { isSchedulable, rankCandidates, upstreamModelFor } from './account-selection';

export interface PickRequest {
  platform: Platform;
  model: string;
  apiKeyId: string;
  binding: ApiKeyBinding | undefined;
  session: string | null;
  /** Accounts already tried for this request. */
  exclude: ReadonlySet<string>;
}

export type PickResult =
  | { ok: true; account: RoutableAccount; upstreamModel: string; sticky: boolean }
  | {
      ok: false;
      /** Every capable account is rate-limited: retry at the earliest recovery. */
      reason: 'rate_limited' | 'unavailable' | 'binding_unavailable';
      retryAtMs: number | null;
    };

/** An account held for one attempt: call release() once, when the attempt is over. */
export interface Reservation {
  account: RoutableAccount;
  /** The model name to send upstream (the account's mapping applied). */
  upstreamModel: string;
  sticky: boolean;
  release(): void;
}

export type ReserveResult =
  { ok: true; reservation: Reservation } | Extract<PickResult, { ok: false }>;

/**
 * Picks the upstream account for a request: the key's dedicated account or group first; then the
 * conversation's sticky account while it stays healthy; then the pool's best priority tier, spread
 * by in-flight requests, weight and least recent use. The pool and health live in memory; the
 * only coordination round trip is the sticky lookup (and its write on a new pick), and the caller
 * can save that one by reading the value in its own round trip (stickyTouch, then pick's
 * stickyRead).
 */
@Injectable()
export class Scheduler implements OnApplicationShutdown {
  private readonly inFlight = new Map<string, number>();
  /** Renews the account leases of the reservations held on this instance. */
  private readonly leases: LeaseRenewer;

  constructor(
    private readonly pool: AccountPool,
    private readonly health: AccountHealthService,
    private readonly config: ConfigService,
    private readonly settings: RuntimeSettings,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
  ) {
    this.leases = new LeaseRenewer(config.env.LEASE_TTL_MS);
  }

  onApplicationShutdown(): void {
    this.leases.clear();
  }

  /**
   * Picks an account and holds it for one attempt: the in-process in-flight count (for
   * spreading) and, when the account has a concurrency limit, its cross-instance lease, renewed
   * by the shared renewer until release(). An account whose lease is full is skipped (added to
   * request.exclude) and the next one picked.
   *
   * @param picked a pick already under way for this request (started while admission ran)
   */
  async reserve(
    request: PickRequest & { exclude: Set<string> },
    leaseId: string,
    picked?: Promise<PickResult>,
  ): Promise<ReserveResult> {
    let next = picked ?? this.pick(request);
    for (;;) {
      const chosen = await next;
      if (!chosen.ok) return chosen;
      const { account } = chosen;
      request.exclude.add(account.id);
      const releaseLease = await this.acquireLease(account, leaseId);
      if (releaseLease === false) {
        next = this.pick(request);
        continue;
      }
      const endInFlight = this.begin(account.id);
      let released = false;
      return {
        ok: true,
        reservation: {
          account,
          upstreamModel: chosen.upstreamModel,
          sticky: chosen.sticky,
          release: () => {
            if (released) return;
            released = true;
            endInFlight();
            releaseLease?.();
          },
        },
      };
    }
  }

  /** Records what an attempt on a reserved account came to, on the account's health. */
  async report(reservation: Reservation, outcome: UpstreamOutcome): Promise<void> {
    try {
      await this.health.record(reservation.account, outcome, reservation.upstreamModel);
    } catch (error) {
      appLogger.warn(
        { err: error, accountId: reservation.account.id },
        'could not record account health',
      );
    }
  }

  /** Reads what a response's headers say of the account (usage windows); cheap, never throws. */
  observe(reservation: Reservation, headers: Record<string, string | string[] | undefined>): void {
    try {
      this.health.observeResponse(reservation.account, headers);
    } catch (error) {
      appLogger.warn(
        { err: error, accountId: reservation.account.id },
        'could not read usage windows',
      );
    }
  }

  /** The account as the pool holds it now (after a credential refresh, say). */
  current(account: RoutableAccount): RoutableAccount {
    return this.pool.get(account.id) ?? account;
  }

  /** Cross-instance concurrency limit of an account; false when it is full. */
  private async acquireLease(
    account: RoutableAccount,
    leaseId: string,
  ): Promise<(() => void) | null | false> {
    if (account.concurrencyLimit === null) return null;
    const key = coordinationKeys.accountLease(account.id);
    const ttlMs = this.config.env.LEASE_TTL_MS;
    const result = await this.coordinator.admit({
      counters: [],
      lease: { key, leaseId, limit: account.concurrencyLimit, ttlMs },
    });
    if (!result.ok) return false;
    const coordinator = this.coordinator;
    const lease: RenewableLease = {
      renew: () => coordinator.renewLease(key, leaseId, ttlMs),
      logContext: { lease: 'account', accountId: account.id, leaseId },
    };
    this.leases.add(lease);
    return () => {
      this.leases.delete(lease);
      coordinator
        .releaseLease(key, leaseId)
        .catch((error: unknown) => appLogger.warn({ err: error }, 'account lease release failed'));
    };
  }

  /**
   * The sticky-session value pick() would read for this request, for a caller that can read it
   * in a round trip it makes anyway (admission) and hand it to pick(); null when pick() would
   * not read one (no session, or the key is bound to an account or group).
   */
  stickyTouch(request: PickRequest): { key: string; ttlMs: number } | null {
    if (request.session === null || request.binding !== undefined) return null;
    return {
      key: coordinationKeys.sticky(request.apiKeyId, request.session),
      ttlMs: this.settings.get('stickySessionTtlSeconds') * 1000,
    };
  }

  /**
   * @param stickyRead the sticky value already read and touched through stickyTouch(), so the
   *   pick makes no round trip of its own; omit it to let pick() read the value itself.
   */
  async pick(request: PickRequest, stickyRead?: { value: string | null }): Promise<PickResult> {
    const bound = this.boundCandidates(request.binding);
    if (bound !== null) {
      const result = this.choose(bound, request);
      if (result.ok || !this.settings.get('bindingFallbackToPool')) {
        return result.ok
          ? result
          : {
              ...result,
              reason: result.reason === 'rate_limited' ? 'rate_limited' : 'binding_unavailable',
            };
      }
    }
    const candidates = this.pool.forPlatform(request.platform);
    const sticky = await this.stickyAccount(request, candidates, stickyRead);
    if (sticky !== null) return sticky;
    const result = this.choose(candidates, request);
    if (result.ok && request.session !== null) this.remember(request, result.account.id);
    return result;
  }

  /** Counts a request in flight on an account (for spreading); call the returned function once. */
  begin(accountId: string): () => void {
    this.inFlight.set(accountId, (this.inFlight.get(accountId) ?? 0) + 1);
    this.pool.markUsed(accountId);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.inFlight.get(accountId) ?? 1) - 1;
      if (n <= 0) this.inFlight.delete(accountId);
      else this.inFlight.set(accountId, n);
    };
  }

  private boundCandidates(binding: ApiKeyBinding | undefined): RoutableAccount[] | null {
    if (binding === undefined) return null;
    if ('accountId' in binding) {
      const account = this.pool.get(binding.accountId);
      return account === undefined ? [] : [account];
    }
    return this.pool.groupMembers(binding.groupId);
  }

  private async stickyAccount(
    request: PickRequest,
    candidates: RoutableAccount[],
    stickyRead: { value: string | null } | undefined,
  ): Promise<PickResult | null> {
    if (request.session === null) return null;
    let accountId: string | null;
    if (stickyRead !== undefined) {
      accountId = stickyRead.value;
    } else {
      const key = coordinationKeys.sticky(request.apiKeyId, request.session);
      try {
        accountId = await this.coordinator.getValueAndTouch(
          key,
          this.settings.get('stickySessionTtlSeconds') * 1000,
        );
      } catch (error) {
        // Stickiness is an optimisation: without the coordinator, route from the pool.
        appLogger.warn({ err: error }, 'sticky session lookup failed');
        return null;
      }
    }
    if (accountId === null || request.exclude.has(accountId)) return null;
    const account = candidates.find((a) => a.id === accountId);
    if (account === undefined || !this.usable(account, request.model)) return null;
    const upstreamModel = upstreamModelFor(account.models, request.model);
    return upstreamModel === null ? null : { ok: true, account, upstreamModel, sticky: true };
  }

  private choose(candidates: RoutableAccount[], request: PickRequest): PickResult {
    const now = Date.now();
    const capable = candidates.filter(
      (a) =>
        !request.exclude.has(a.id) &&
        isSchedulable(a) &&
        upstreamModelFor(a.models, request.model) !== null,
    );
    const healthy: RoutableAccount[] = [];
    const blocked: HealthState[] = [];
    for (const account of capable) {
      const verdict = this.health.routable(account, request.model, now);
      if (verdict.ok && !this.atConcurrencyLimit(account)) healthy.push(account);
      else if (!verdict.ok) blocked.push(verdict.state);
    }
    const [best] = rankCandidates(healthy, (id) => this.inFlight.get(id) ?? 0);
    if (best !== undefined) {
      return {
        ok: true,
        account: best,
        upstreamModel: upstreamModelFor(best.models, request.model) ?? request.model,
        sticky: false,
      };
    }
    const limited = blocked.filter(
      (s): s is Extract<HealthState, { state: 'rate_limited' }> => s.state === 'rate_limited',
    );
    if (
      limited.length > 0 &&
      limited.length === blocked.length &&
      blocked.length === capable.length
    ) {
      return {
        ok: false,
        reason: 'rate_limited',
        retryAtMs: Math.min(...limited.map((s) => s.until)),
      };
    }
    const recoveries = blocked.flatMap((s) => ('until' in s ? [s.until] : []));
    return {
      ok: false,
      reason: 'unavailable',
      retryAtMs: recoveries.length > 0 ? Math.min(...recoveries) : null,
    };
  }

  /**
   * The model names the enabled accounts of a platform serve by name (listed names without
   * wildcards, mapping keys), and whether one of them serves any model (`models: null`).
   */
  servedModels(platform: Platform): { names: string[]; servesAny: boolean } {
    const names = new Set<string>();
    let servesAny = false;
    for (const account of this.pool.forPlatform(platform)) {
      if (!account.enabled) continue;
      const models = account.models;
      if (models === null) servesAny = true;
      else if (Array.isArray(models))
        models.filter((m) => !m.includes('*')).forEach((m) => names.add(m));
      else Object.keys(models).forEach((m) => names.add(m));
    }
    return { names: [...names], servesAny };
  }

  /** Requests this instance has in flight on an account (begin() without its end yet). */
  inFlightOf(accountId: string): number {
    return this.inFlight.get(accountId) ?? 0;
  }

  private usable(account: RoutableAccount, model: string): boolean {
    return (
      isSchedulable(account) &&
      this.health.routable(account, model, Date.now()).ok &&
      !this.atConcurrencyLimit(account)
    );
  }

  /** Local pre-filter; the account's coordinator lease is the authority across instances. */
  private atConcurrencyLimit(account: RoutableAccount): boolean {
    return (
      account.concurrencyLimit !== null &&
      (this.inFlight.get(account.id) ?? 0) >= account.concurrencyLimit
    );
  }

  private remember(request: PickRequest, accountId: string): void {
    if (request.session === null) return;
    const key = coordinationKeys.sticky(request.apiKeyId, request.session);
    // Off the response path: a lost write only costs one cache miss on the next turn.
    this.coordinator
      .setValue(key, accountId, this.settings.get('stickySessionTtlSeconds') * 1000)
      .catch((error: unknown) => appLogger.warn({ err: error }, 'sticky session write failed'));
  }
}
