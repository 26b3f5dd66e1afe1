import { Inject, Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import type { HealthState, RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
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

/**
 * Picks the upstream account for a request: the key's dedicated account or group first; then the
 * conversation's sticky account while it stays healthy; then the pool's best priority tier, spread
 * by in-flight requests, weight and least recent use. The pool and health live in memory; the
 * only coordination round trip is the sticky lookup (and its write on a new pick), and the caller
 * can save that one by reading the value in its own round trip (stickyTouch, then pick's
 * stickyRead).
 */
@Injectable()
export class Scheduler {
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly pool: AccountPool,
    private readonly health: AccountHealthService,
    private readonly config: ConfigService,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
  ) {}

  /**
   * The sticky-session value pick() would read for this request, for a caller that can read it
   * in a round trip it makes anyway (admission) and hand it to pick(); null when pick() would
   * not read one (no session, or the key is bound to an account or group).
   */
  stickyTouch(request: PickRequest): { key: string; ttlMs: number } | null {
    if (request.session === null || request.binding !== undefined) return null;
    return {
      key: coordinationKeys.sticky(request.apiKeyId, request.session),
      ttlMs: this.config.env.STICKY_SESSION_TTL_SECONDS * 1000,
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
      if (result.ok || !this.config.env.BINDING_FALLBACK_TO_POOL) {
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
          this.config.env.STICKY_SESSION_TTL_SECONDS * 1000,
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
      .setValue(key, accountId, this.config.env.STICKY_SESSION_TTL_SECONDS * 1000)
      .catch((error: unknown) => appLogger.warn({ err: error }, 'sticky session write failed'));
  }
}
