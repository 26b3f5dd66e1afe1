import { Injectable, Optional, type OnApplicationShutdown } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import { LeaseRenewer, type RenewableLease } from 'src/infra/coordination/lease-renewer';
import { BackgroundNotifier } from 'src/infra/outbox/background-notifier';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type {
  AdmitRejection,
  AdmitResult,
  Coordinator,
  CounterOp,
} from 'src/infra/coordination/coordinator.port';
import {
  budgetCaps,
  budgetCounterKey,
  buildAdmissionPlan,
  settleAdjustments,
  wholeAmount,
  windowCounterKey,
  windowMsOf,
  type AdmissionPlan,
  type PlannedCounter,
} from './admission-plan';
import { KeySpendReader } from 'src/modules/usage/key-spend.reader';
import { KeyRejectionCode, type ApiKeyPolicy, type RateLimitInfo } from './api-key.types';
import { ApiKeyException } from './api-keys.exception';
import { BudgetAlerts } from './budget-alerts';
import type { BudgetPeriod } from './budget-periods';
import { ReservationEstimator } from './reservation-estimator';

export interface AdmissionRequest {
  /** Unique per request: the concurrency lease id. */
  requestId: string;
  model: string;
  /**
   * Worst-case cost in the key's billed micro-dollars (price multiplier applied), e.g.
   * `estimateCostMicros({ inputTokens: estimateInputTokens(bytes), maxOutputTokens }, price,
   * policy.priceMultiplier)`. Reserved against every cost cap until settle.
   */
  estimatedCostMicros: number;
  /** The request's max_tokens, named in a budget refusal so the user knows what to lower. */
  maxTokens?: number;
  /**
   * A value to read and touch in the admit's round trip (the conversation's sticky account, so
   * the scheduler needs no round trip of its own). Read only when admission asks the
   * coordinator at all, i.e. when the key has a limit; see Admission.touched.
   */
  touch?: { key: string; ttlMs: number };
}

export interface ActualUsage {
  /** Tokens to count against the window token limit: input + output + cache tokens. */
  tokens: number;
  /** Actual cost in the key's billed micro-dollars (price multiplier applied). */
  costMicros: number;
}

export interface BudgetCapStatus {
  limitMicros: number;
  /** Spent plus reserved by requests in flight. */
  spentMicros: number;
  resetAtMs: number | null;
}

export interface WindowStatus {
  windowMinutes: number;
  /** When the current window ends; null when no window is open (nothing used in it yet). */
  resetAtMs: number | null;
  requests?: { limit: number; used: number };
  /** `used` includes one placeholder token per request in flight. */
  tokens?: { limit: number; used: number };
  costMicros?: { limit: number; used: number };
}

export interface BudgetStatus {
  daily?: BudgetCapStatus;
  weekly?: BudgetCapStatus;
  total?: BudgetCapStatus;
  window?: WindowStatus;
  concurrency?: { limit: number; active: number };
}

/**
 * This instance's admissions whose budget reservations are still open, by budget counter key.
 * When the coordinator has lost a counter, its seed adds their reservations to the recorded
 * spend, so requests in flight here keep counting against the cap.
 */
export class InFlightBudgets {
  private readonly byKey = new Map<string, Set<Admission>>();

  add(admission: Admission, keys: string[]): void {
    for (const key of keys) {
      let set = this.byKey.get(key);
      if (set === undefined) {
        set = new Set();
        this.byKey.set(key, set);
      }
      set.add(admission);
    }
  }

  remove(admission: Admission, keys: string[]): void {
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (set === undefined) continue;
      set.delete(admission);
      if (set.size === 0) this.byKey.delete(key);
    }
  }

  of(key: string): Admission[] {
    return [...(this.byKey.get(key) ?? [])];
  }
}

/** What an admission needs to raise budget notifications when it settles. */
export interface BudgetWatch {
  key: { id: string; name: string };
  /** The admit's counter values, in plan order. */
  values: number[];
  alerts: BudgetAlerts;
}

/** How long a client refused for concurrency should wait: a slot frees when any request ends. */
const CONCURRENCY_RETRY_MS = 1000;

/** The refusal of a request over its key's concurrency limit (429 with `retry-after`). */
export function concurrencyRejection(limit: number, now = Date.now()): ApiKeyException {
  return new ApiKeyException(
    KeyRejectionCode.CONCURRENCY_LIMIT,
    `too many concurrent requests for this API key (limit ${limit}); retry shortly`,
    {
      rateLimit: {
        metric: 'concurrency',
        limit,
        remaining: 0,
        // Leases are renewed while requests live, so their expiry says nothing useful.
        resetAtMs: now + CONCURRENCY_RETRY_MS,
      },
    },
  );
}

function usd(micros: number): string {
  const dollars = (micros / 1_000_000).toFixed(4).replace(/0{1,2}$/, '');
  return `$${dollars}`;
}

/** Dollars as a user reads them: whole cents with two decimals, anything finer with four. */
function dollars(micros: number): string {
  return `$${(micros / 1e6).toFixed(micros % 10_000 === 0 ? 2 : 4)}`;
}

/** What a refused request asked for, to word the refusal. */
interface RefusedRequest {
  policy: ApiKeyPolicy;
  model: string;
  maxTokens?: number;
  /** The request's worst-case cost, whatever the policy reserved. */
  worstMicros: number;
}

/**
 * A budget refusal a user can act on: the cap, what is spent (or reserved by requests in
 * flight), what this request could cost and why, and what to change.
 */
export function budgetRefusal(
  cap: string,
  limitMicros: number,
  currentMicros: number,
  reservedMicros: number,
  request: RefusedRequest,
  resetAtMs: number | null,
): string {
  const left = Math.max(0, limitMicros - currentMicros);
  const spent = `spent ${dollars(Math.max(0, currentMicros))}`;
  const model = request.model.length > 64 ? `${request.model.slice(0, 64)}…` : request.model;
  const why =
    request.maxTokens === undefined ? `on ${model}` : `${request.maxTokens} max_tokens on ${model}`;
  const resets = resetAtMs === null ? 'it never resets' : `it resets at ${iso(resetAtMs)}`;
  if (request.policy.reservationPolicy === 'estimate') {
    return (
      `${cap} budget ${dollars(limitMicros)}: ${spent} (including requests in flight); this ` +
      `request is estimated at ${dollars(reservedMicros)} from the key's recent requests ` +
      `(up to ${dollars(request.worstMicros)} for ${why}), more than the ${dollars(left)} left; ` +
      `${resets}; lower max_tokens or ask an admin for a higher budget`
    );
  }
  const alone = reservedMicros > limitMicros;
  return (
    `${cap} budget ${dollars(limitMicros)}: ${spent} (including requests in flight); this ` +
    `request could cost up to ${dollars(reservedMicros)} (${why}), ` +
    (alone ? 'more than the whole budget' : `more than the ${dollars(left)} left`) +
    `, which the key's strict reservation policy does not allow; ${resets}; lower max_tokens ` +
    'or ask an admin for the estimate policy or a higher budget'
  );
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * One admitted request: holds its lease and its reservations until settled.
 *
 * Callers must end every Admission exactly once, whatever happens, or the reservation stays
 * charged and a renewed lease is never freed:
 *
 * ```ts
 * const admission = await admissionService.admit(policy, { requestId, model, estimatedCostMicros });
 * const stopRenewing = admission.startRenewing();
 * try {
 *   // ... upstream call and streaming; `usage` filled by the usage tap
 * } finally {
 *   stopRenewing();
 *   await admission.settle({ tokens: usage.tokens, costMicros: usage.costMicros });
 *   // or, when nothing reached an upstream: await admission.release();
 * }
 * ```
 *
 * settle never rejects (a coordinator failure is logged; the lease then expires by its TTL and
 * the reservation stays charged, erring on the side of the cap) and is idempotent.
 */
export class Admission implements RenewableLease {
  private done = false;

  constructor(
    private readonly coordinator: Coordinator,
    private readonly plan: AdmissionPlan,
    private readonly admittedResetAtMs: (number | null)[],
    private readonly leaseTtlMs: number,
    readonly requestId: string,
    /** The request window's state after this admit, for `x-ratelimit-*` on success. */
    readonly rateLimit: RateLimitInfo | null,
    /** Renews the leases of admissions that asked for it; shutdown stops it. */
    private readonly renewer: LeaseRenewer,
    /**
     * The value of AdmissionRequest.touch (null when missing); undefined when it was not read
     * because the key has no limit and admission made no coordinator call.
     */
    readonly touched?: string | null,
    /** Seed generations of the budget counters at admit (see Coordinator.seedCounter). */
    private readonly generations?: (string | null)[],
    /** Learns actual/worst-case cost for the estimate policy; absent when nothing to learn. */
    private readonly learn?: { estimator: ReservationEstimator; worstMicros: number },
    /** Budget reservations in flight on this instance, for re-seeding after a loss. */
    private readonly inFlight?: InFlightBudgets,
    /** The budget counters' values at admit, for the 80 % / 100 % notifications at settle. */
    private readonly budgetWatch?: BudgetWatch,
  ) {
    inFlight?.add(this, this.budgetKeys());
  }

  /** Coordinator keys of the budget counters this admission reserved against. */
  budgetKeys(): string[] {
    return this.plan.counters.flatMap((c) => (c.kind === 'budget' ? [c.op.key] : []));
  }

  /**
   * The budget counter under key was seeded again (the coordinator had lost it) with this
   * admission's reservation included: settle corrects it as usual under the new generation.
   */
  rebase(key: string, generation: string): void {
    const generations = this.generations;
    if (generations === undefined) return;
    this.plan.counters.forEach((counter, index) => {
      if (counter.kind === 'budget' && counter.op.key === key) generations[index] = generation;
    });
  }

  get keyId(): string {
    return this.plan.keyId;
  }

  get logContext(): Record<string, string> {
    return { lease: 'key', keyId: this.plan.keyId, requestId: this.requestId };
  }

  /** Micro-dollars reserved against each cost cap until settle. */
  get reservedCostMicros(): number {
    return this.plan.reserveMicros;
  }

  get settled(): boolean {
    return this.done;
  }

  /**
   * Extends the concurrency lease to LEASE_TTL_MS from now. False when the lease is gone (it
   * expired while the process stalled): the request goes on, but no longer counts against the
   * limit. True when the key has no concurrency limit. Rejects on coordinator errors.
   */
  async renew(): Promise<boolean> {
    const lease = this.plan.lease;
    if (lease === undefined) return true;
    if (this.done) return false;
    // A lost lease is logged once, by the renewer, which then stops renewing it.
    return this.coordinator.renewLease(lease.key, lease.leaseId, this.leaseTtlMs);
  }

  /**
   * Renews the lease every third of its TTL until stopped or settled, so a long stream keeps
   * its slot with no fixed maximum lifetime. Returns the stop function; calling it is optional
   * once settle or release runs.
   */
  startRenewing(): () => void {
    if (this.plan.lease === undefined || this.done) return () => undefined;
    this.renewer.add(this);
    return () => this.stopRenewing();
  }

  stopRenewing(): void {
    this.renewer.delete(this);
  }

  /**
   * Turns the reservations into the actual usage and frees the lease, in one coordinator call.
   * A second call does nothing.
   */
  async settle(actual: ActualUsage): Promise<void> {
    if (this.done) return;
    this.done = true;
    this.stopRenewing();
    this.inFlight?.remove(this, this.budgetKeys());
    const usage = {
      tokens: wholeAmount(actual.tokens),
      costMicros: wholeAmount(actual.costMicros),
    };
    if (this.learn !== undefined && usage.tokens > 0) {
      this.learn.estimator.observe(this.keyId, this.learn.worstMicros, usage.costMicros);
    }
    const counters = settleAdjustments(
      this.plan,
      this.admittedResetAtMs,
      usage,
      Date.now(),
      this.generations,
    );
    const lease = this.plan.lease;
    if (counters.length === 0 && lease === undefined) return;
    try {
      await this.coordinator.settle({
        counters,
        lease: lease && { key: lease.key, leaseId: lease.leaseId },
      });
    } catch (error) {
      appLogger.warn(
        { err: error, keyId: this.keyId, requestId: this.requestId },
        'settling an admission failed; its lease will expire by TTL',
      );
    }
    this.watchBudgets(usage.costMicros);
  }

  /**
   * What each budget counter holds now, as far as this request knows (its value at admit, this
   * request's reservation replaced by its cost), handed to the budget notifications. Pure
   * arithmetic: no I/O unless a threshold is crossed.
   */
  private watchBudgets(costMicros: number): void {
    const watch = this.budgetWatch;
    if (watch === undefined) return;
    const readings = this.plan.counters.flatMap((counter, index) =>
      counter.kind === 'budget'
        ? [
            {
              period: counter.period,
              limitMicros: counter.limit,
              spentMicros: (watch.values[index] ?? 0) - this.plan.reserveMicros + costMicros,
            },
          ]
        : [],
    );
    if (readings.length > 0) watch.alerts.check(watch.key, readings);
  }

  /** For a request that never reached an upstream: refunds the reservations, frees the lease. */
  release(): Promise<void> {
    return this.settle({ tokens: 0, costMicros: 0 });
  }
}

const WINDOW_METRIC_WORDS = {
  requests: { name: 'request', unit: 'requests' },
  tokens: { name: 'token', unit: 'tokens' },
  cost: { name: 'cost', unit: 'micro-dollars' },
} as const;

/**
 * Enforces a key's window limits, concurrency and budgets in one coordinator round trip before
 * the upstream call, and settles them in one more when the response ends.
 */
@Injectable()
export class AdmissionService implements OnApplicationShutdown {
  /** Only admissions that renew: an admission nobody settles is not kept alive here. */
  private readonly renewer: LeaseRenewer;
  readonly estimator = new ReservationEstimator();
  private readonly inFlight = new InFlightBudgets();
  /** Seeds in progress by counter key, so concurrent requests of a key read SQL once. */
  private readonly seeding = new Map<string, Promise<void>>();
  private readonly budgetAlerts: BudgetAlerts;
  private readonly notifier: BackgroundNotifier;

  constructor(
    @InjectCoordinator() private readonly coordinator: Coordinator,
    private readonly config: ConfigService,
    /**
     * The SQL record budgets are seeded from when the coordinator has lost them. Without it
     * (unit and coordinator-only tests) budget counters start from the coordinator alone.
     */
    @Optional() private readonly spend?: KeySpendReader,
    /** Where budget and window notifications go; absent in tests that need none. */
    @Optional() outbox?: NotificationOutbox,
  ) {
    this.renewer = new LeaseRenewer(config.env.LEASE_TTL_MS);
    this.budgetAlerts = new BudgetAlerts(outbox);
    this.notifier = new BackgroundNotifier(outbox);
  }

  /**
   * Admits a request or throws ApiKeyException: WINDOW_LIMIT / CONCURRENCY_LIMIT (429, with
   * `rateLimit`) or BUDGET_EXHAUSTED (402, with `budget`). A coordinator failure rejects with
   * its CoordinationException (the relay answers 503). Nothing is applied when refused.
   */
  async admit(policy: ApiKeyPolicy, request: AdmissionRequest): Promise<Admission> {
    const now = Date.now();
    const leaseTtlMs = this.config.env.LEASE_TTL_MS;
    const worstMicros = wholeAmount(request.estimatedCostMicros);
    const estimating = policy.reservationPolicy === 'estimate';
    const reserved = estimating ? this.estimator.reserve(policy.id, worstMicros) : worstMicros;
    const plan = buildAdmissionPlan(
      policy,
      { requestId: request.requestId, estimatedCostMicros: reserved },
      now,
      leaseTtlMs,
      { seedBudgets: this.spend !== undefined },
    );
    let resetAtMs: (number | null)[] = [];
    let rateLimit: RateLimitInfo | null = null;
    let touched: string | null | undefined;
    let generations: (string | null)[] | undefined;
    let values: number[] = [];
    if (plan.counters.length > 0 || plan.lease !== undefined) {
      const admitRequest = {
        counters: plan.counters.map((counter) => counter.op),
        lease: plan.lease,
        touch: request.touch,
      };
      let result = await this.coordinator.admit(admitRequest);
      // A budget counter the coordinator does not hold (first use in its period, a restart of
      // the embedded default, a Redis flush) is seeded from SQL, then admission is retried.
      for (let seeds = 0; !result.ok && result.rejection?.kind === 'unseeded' && seeds < 3;) {
        seeds += 1;
        await this.seedBudgets(plan, now);
        result = await this.coordinator.admit(admitRequest);
      }
      if (!result.ok) {
        this.watchRefusal(policy, plan, result.rejection, now);
        const rejection = result.rejection;
        if (rejection?.kind === 'counter') {
          const counter = plan.counters[rejection.index];
          // Off the hot path: the refusal never waits for (or fails with) the outbox write.
          if (counter?.kind === 'window') {
            void this.notifyWindowLimit(policy, plan, counter, rejection, now);
          }
        }
        throw this.rejection(plan, result.rejection, now, {
          policy,
          model: request.model,
          maxTokens: request.maxTokens,
          worstMicros,
        });
      }
      resetAtMs = result.resetAtMs;
      values = result.values;
      touched = result.touched;
      generations = result.generations;
      const requests = plan.counters.findIndex(
        (c) => c.kind === 'window' && c.metric === 'requests',
      );
      if (requests >= 0) {
        const limit = plan.counters[requests].limit;
        rateLimit = {
          metric: 'requests',
          limit,
          remaining: Math.max(0, limit - (result.values[requests] ?? 0)),
          resetAtMs: resetAtMs[requests] ?? now + (plan.windowMs ?? 0),
        };
      }
    }
    return new Admission(
      this.coordinator,
      plan,
      resetAtMs,
      leaseTtlMs,
      request.requestId,
      rateLimit,
      this.renewer,
      touched,
      generations,
      estimating && plan.reserveMicros > 0
        ? { estimator: this.estimator, worstMicros: Math.max(1, worstMicros) }
        : undefined,
      generations?.some((g) => g !== null) === true ? this.inFlight : undefined,
      plan.counters.some((counter) => counter.kind === 'budget')
        ? { key: { id: policy.id, name: policy.name }, values, alerts: this.budgetAlerts }
        : undefined,
    );
  }

  /** A refusal by a budget whose counter is already at 80 % or more notifies like a settle. */
  private watchRefusal(
    policy: ApiKeyPolicy,
    plan: AdmissionPlan,
    rejection: AdmitRejection | undefined,
    now: number,
  ): void {
    if (rejection?.kind !== 'counter') return;
    const counter = plan.counters[rejection.index];
    if (counter?.kind !== 'budget') return;
    this.budgetAlerts.check(
      { id: policy.id, name: policy.name },
      [{ period: counter.period, limitMicros: rejection.limit, spentMicros: rejection.current }],
      now,
    );
  }

  /**
   * Seeds every budget counter of the plan from what SQL records for its period. Requests in
   * flight when the coordinator lost a counter add their whole cost when they settle (see
   * CounterAdjust.generation), so nothing spent is handed out again.
   */
  private async seedBudgets(plan: AdmissionPlan, now: number): Promise<void> {
    await this.seedCounters(
      plan.keyId,
      plan.counters.flatMap((counter) => (counter.kind === 'budget' ? [counter] : [])),
      now,
    );
  }

  private async seedCounters(
    keyId: string,
    counters: { period: BudgetPeriod; op: CounterOp }[],
    now: number,
  ): Promise<void> {
    const spend = this.spend;
    if (spend === undefined) return;
    await Promise.all(counters.map((counter) => this.seedOnce(spend, keyId, counter, now)));
  }

  private seedOnce(
    spend: KeySpendReader,
    keyId: string,
    counter: { period: BudgetPeriod; op: CounterOp },
    now: number,
  ): Promise<void> {
    const key = counter.op.key;
    let running = this.seeding.get(key);
    if (running === undefined) {
      running = (async () => {
        const { period } = counter;
        let spent: number;
        try {
          spent = await spend.spentMicros(keyId, {
            from: period.startMs,
            to: period.resetAtMs ?? now + 86_400_000,
          });
        } catch (error) {
          appLogger.warn({ err: error, keyId }, 'budget could not be seeded: SQL unavailable');
          throw new ApiKeyException(
            KeyRejectionCode.KEY_STORE_UNAVAILABLE,
            'the budget of this API key cannot be checked right now; retry shortly',
          );
        }
        // Requests in flight here reserved against the lost counter: they count again.
        const pending = this.inFlight.of(key).filter((admission) => !admission.settled);
        const reserved = pending.reduce((sum, a) => sum + a.reservedCostMicros, 0);
        const generation = await this.coordinator.seedCounter(
          key,
          wholeAmount(spent) + reserved,
          counter.op.ttlMs,
        );
        if (generation === null) return;
        for (const admission of pending) admission.rebase(key, generation);
        if (spent > 0 || reserved > 0) {
          appLogger.info(
            {
              keyId,
              period: period.period,
              periodId: period.id,
              spentMicros: spent,
              inFlightMicros: reserved,
            },
            'budget counter seeded from the usage record',
          );
        }
      })().finally(() => this.seeding.delete(key));
      this.seeding.set(key, running);
    }
    return running;
  }

  /**
   * What a key has used of each of its limits, for self-service usage pages. Spend includes
   * reservations of requests in flight. Two round trips at most, run in parallel.
   */
  async getBudgetStatus(policy: ApiKeyPolicy, now = Date.now()): Promise<BudgetStatus> {
    const { id: keyId, limits } = policy;
    const reads: {
      key: string;
      apply: (value: number, resetAtMs: number | null) => void;
      budget?: { period: BudgetPeriod; op: CounterOp };
    }[] = [];
    const status: BudgetStatus = {};

    const windowMs = windowMsOf(limits);
    if (windowMs !== null && limits.windowMinutes !== undefined) {
      const minutes = limits.windowMinutes;
      const window: WindowStatus = { windowMinutes: minutes, resetAtMs: null };
      status.window = window;
      const track = (resetAtMs: number | null): void => {
        if (resetAtMs !== null) window.resetAtMs = Math.max(window.resetAtMs ?? 0, resetAtMs);
      };
      const { windowRequests, windowTokens, windowCostMicros } = limits;
      if (windowRequests !== undefined) {
        reads.push({
          key: windowCounterKey(keyId, 'requests', minutes),
          apply: (used, at) => {
            window.requests = { limit: windowRequests, used };
            track(at);
          },
        });
      }
      if (windowTokens !== undefined) {
        reads.push({
          key: windowCounterKey(keyId, 'tokens', minutes),
          apply: (used, at) => {
            window.tokens = { limit: windowTokens, used };
            track(at);
          },
        });
      }
      if (windowCostMicros !== undefined) {
        reads.push({
          key: windowCounterKey(keyId, 'cost', minutes),
          apply: (used, at) => {
            window.costMicros = { limit: windowCostMicros, used };
            track(at);
          },
        });
      }
    }
    for (const { period, limit } of budgetCaps(limits, now)) {
      const key = budgetCounterKey(keyId, period);
      reads.push({
        key,
        budget: { period, op: { key, amount: 0, ttlMs: period.ttlMs } },
        apply: (spentMicros) => {
          status[period.period] = { limitMicros: limit, spentMicros, resetAtMs: period.resetAtMs };
        },
      });
    }

    // An admit of zero amounts is a read that also returns each window's reset time (plain
    // getCounters has no TTLs); it neither creates nor times a missing counter.
    // Budget counters the coordinator lost (a restart, a flush) are seeded first, so the key's
    // holder sees what the record says was spent rather than zero.
    const seeding = this.spend !== undefined;
    const counters: CounterOp[] = reads.map((read) => ({
      key: read.key,
      amount: 0,
      ...(seeding && read.budget !== undefined && { seeded: true }),
    }));
    const readCounters = async (): Promise<AdmitResult> => {
      const first = await this.coordinator.admit({ counters });
      if (first.ok || first.rejection?.kind !== 'unseeded') return first;
      await this.seedCounters(
        keyId,
        reads.flatMap((read) => (read.budget === undefined ? [] : [read.budget])),
        now,
      );
      return this.coordinator.admit({ counters });
    };
    const [result, active] = await Promise.all([
      counters.length > 0 ? readCounters() : undefined,
      limits.concurrency !== undefined
        ? this.coordinator.countLeases(coordinationKeys.keyLease(keyId))
        : undefined,
    ]);
    reads.forEach((read, i) => read.apply(result?.values[i] ?? 0, result?.resetAtMs[i] ?? null));
    if (limits.concurrency !== undefined) {
      status.concurrency = { limit: limits.concurrency, active: active ?? 0 };
    }
    return status;
  }

  /** Admissions whose lease this instance is renewing (long responses in flight). */
  get renewingCount(): number {
    return this.renewer.size;
  }

  /**
   * Runs once the HTTP server has drained (in-flight responses had SHUTDOWN_TIMEOUT_MS to end).
   * Stops renewing what is left; the coordinator releases this instance's leases when it closes.
   * Their reservations stay charged: their usage is unknown, and over-counting is the safe side
   * of a cap.
   */
  onApplicationShutdown(): void {
    this.renewer.clear();
  }

  /**
   * `key.window_limit`, once per key, metric and window instance: the dedupe key carries the
   * window's start (its reset time minus its length, rounded to 10 s to absorb the store's
   * millisecond jitter; windows last at least a minute, so two never share a start).
   */
  private notifyWindowLimit(
    policy: ApiKeyPolicy,
    plan: AdmissionPlan,
    counter: Extract<PlannedCounter, { kind: 'window' }>,
    rejection: { current: number; limit: number; resetAtMs: number | null },
    now: number,
  ): Promise<void> {
    const windowMs = plan.windowMs ?? 60_000;
    const resetAtMs = rejection.resetAtMs ?? (Math.floor(now / windowMs) + 1) * windowMs;
    const windowStart = Math.round((resetAtMs - windowMs) / 10_000) * 10_000;
    const minutes = windowMs / 60_000;
    const what = WINDOW_METRIC_WORDS[counter.metric];
    const limit =
      counter.metric === 'cost' ? usd(rejection.limit) : `${rejection.limit} ${what.unit}`;
    const resetAt = new Date(resetAtMs).toISOString();
    return this.notifier.emit({
      type: 'key.window_limit',
      dedupeKey: `key.window_limit:${policy.id}:${counter.metric}:${windowStart}`,
      at: now,
      severity: 'warning',
      title: `API key "${policy.name}" reached its ${what.name} limit`,
      message:
        `The key's limit of ${limit} per ${minutes} min is used up; its requests are refused ` +
        `with 429 until the window resets at ${resetAt}. Raise the limit if this is expected traffic.`,
      subject: { kind: 'api_key', id: policy.id, name: policy.name },
      data: {
        metric: counter.metric,
        limit: rejection.limit,
        used: rejection.current,
        windowMinutes: minutes,
        windowStart: new Date(windowStart).toISOString(),
        resetAt,
      },
    });
  }

  private rejection(
    plan: AdmissionPlan,
    rejection: AdmitRejection | undefined,
    now: number,
    request: RefusedRequest,
  ): ApiKeyException {
    if (rejection?.kind === 'unseeded') {
      // Seeding did not stick after retries (the store keeps losing it): fail closed.
      return new ApiKeyException(
        KeyRejectionCode.KEY_STORE_UNAVAILABLE,
        'the budget of this API key cannot be checked right now; retry shortly',
      );
    }
    if (rejection === undefined || rejection.kind === 'lease') {
      return concurrencyRejection(rejection?.limit ?? plan.lease?.limit ?? 0, now);
    }
    const counter = plan.counters[rejection.index];
    const { current, limit } = rejection;
    if (counter.kind === 'budget') {
      const { period } = counter;
      return new ApiKeyException(
        KeyRejectionCode.BUDGET_EXHAUSTED,
        budgetRefusal(period.period, limit, current, plan.reserveMicros, request, period.resetAtMs),
        {
          budget: {
            cap: period.period,
            limitMicros: limit,
            spentMicros: current,
            requestMicros: plan.reserveMicros,
            resetAtMs: period.resetAtMs,
          },
        },
      );
    }
    const resetAtMs = rejection.resetAtMs ?? now + (plan.windowMs ?? 0);
    const minutes = (plan.windowMs ?? 0) / 60_000;
    const rateLimit: RateLimitInfo = {
      metric: counter.metric,
      limit,
      remaining: Math.max(0, limit - current),
      resetAtMs,
    };
    const reset = `resets at ${new Date(resetAtMs).toISOString()}`;
    switch (counter.metric) {
      case 'requests':
        return new ApiKeyException(
          KeyRejectionCode.WINDOW_LIMIT,
          `rate limit reached: ${limit} requests per ${minutes} min; ${reset}`,
          { rateLimit },
        );
      case 'tokens':
        return new ApiKeyException(
          KeyRejectionCode.WINDOW_LIMIT,
          `token limit reached: ${limit} tokens per ${minutes} min; ${reset}`,
          { rateLimit },
        );
      case 'cost':
        return new ApiKeyException(
          KeyRejectionCode.WINDOW_LIMIT,
          `cost limit of ${usd(limit)} per ${minutes} min reached: ${usd(current)} spent or ` +
            `reserved, this request needs up to ${usd(plan.reserveMicros)}; ${reset}`,
          {
            rateLimit,
            budget: {
              cap: 'window',
              limitMicros: limit,
              spentMicros: current,
              requestMicros: plan.reserveMicros,
              resetAtMs,
            },
          },
        );
    }
  }
}
