import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type {
  CounterAdjust,
  CounterOp,
  LeaseRequest,
} from 'src/infra/coordination/coordinator.port';
import type { ApiKeyLimits, ApiKeyPolicy, RateLimitMetric } from './api-key.types';
import { dailyPeriod, totalPeriod, weeklyPeriod, type BudgetPeriod } from './budget-periods';

/**
 * Which coordinator counters one request of a key touches, and how. Pure, so the exact ops are
 * unit-tested; AdmissionService sends them in one `admit` and one `settle`.
 *
 * - Window requests: +1 against the limit.
 * - Window tokens: the real count is only known at the end, so admit adds a placeholder of 1
 *   against the limit (which rejects once the window is at or over it; an amount of 0 would let
 *   `current == limit` through), and settle adds the real tokens minus that placeholder.
 * - Window cost and every budget: +reservation against the cap, settled by actual − reservation.
 *   A counter holds spent + reserved, so parallel requests can never push spend past a cap.
 * - Concurrency: a lease per request id, renewed while the response lives.
 */

export type PlannedCounter =
  | {
      kind: 'window';
      metric: Exclude<RateLimitMetric, 'concurrency'>;
      limit: number;
      op: CounterOp;
    }
  | { kind: 'budget'; period: BudgetPeriod; limit: number; op: CounterOp };

export interface AdmissionPlan {
  keyId: string;
  counters: PlannedCounter[];
  lease?: LeaseRequest;
  /** Added to every cost counter at admit; 0 when the key has no cost limit. */
  reserveMicros: number;
  windowMs: number | null;
}

export interface PlanOptions {
  /**
   * Budget counters must be seeded from SQL before they count (Coordinator `seeded` ops), so a
   * coordinator that lost them (restart, flush) cannot hand the spent money out again.
   */
  seedBudgets?: boolean;
}

const MINUTE_MS = 60_000;

/** Window length of a key, null when it has no window limits. */
export function windowMsOf(limits: ApiKeyLimits): number | null {
  const { windowMinutes } = limits;
  return windowMinutes !== undefined && windowMinutes > 0 ? windowMinutes * MINUTE_MS : null;
}

/**
 * The window length is part of the key, so shortening a key's window starts a fresh counter
 * instead of leaving the old, longer-lived one in force.
 */
export function windowCounterKey(
  keyId: string,
  metric: Exclude<RateLimitMetric, 'concurrency'>,
  windowMinutes: number,
): string {
  return coordinationKeys.keyWindow(keyId, `${metric}:${windowMinutes}m`);
}

export function budgetCounterKey(keyId: string, period: BudgetPeriod): string {
  return coordinationKeys.keyBudget(keyId, period.period, period.id);
}

/** The budget periods a key has caps for, with their caps, at `now`. */
export function budgetCaps(
  limits: ApiKeyLimits,
  now: number,
): { period: BudgetPeriod; limit: number }[] {
  const caps: { period: BudgetPeriod; limit: number }[] = [];
  if (limits.dailyCostMicros !== undefined) {
    caps.push({ period: dailyPeriod(now), limit: limits.dailyCostMicros });
  }
  if (limits.weeklyCostMicros !== undefined) {
    caps.push({
      period: weeklyPeriod(now, limits.weeklyResetDay, limits.weeklyResetHour),
      limit: limits.weeklyCostMicros,
    });
  }
  if (limits.totalCostMicros !== undefined) {
    caps.push({ period: totalPeriod(), limit: limits.totalCostMicros });
  }
  return caps;
}

function hasCostLimit(limits: ApiKeyLimits, windowMs: number | null): boolean {
  return (
    (windowMs !== null && limits.windowCostMicros !== undefined) ||
    limits.dailyCostMicros !== undefined ||
    limits.weeklyCostMicros !== undefined ||
    limits.totalCostMicros !== undefined
  );
}

/** A usable non-negative integer amount; NaN, negatives and Infinity count as 0. */
export function wholeAmount(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.ceil(value) : 0;
}

/**
 * Coordinator keys of one key's limits, built once per policy object (the authenticator hands out
 * the same object until the key changes) instead of on every request.
 */
interface KeyPlanKeys {
  keyId: string;
  window: Record<Exclude<RateLimitMetric, 'concurrency'>, string>;
  lease: string;
  /** Last budget counter key per period, reused while the period id stays the same. */
  budget: Map<BudgetPeriod['period'], { id: string; key: string }>;
}

const planKeys = new WeakMap<ApiKeyLimits, KeyPlanKeys>();

function keysOf(keyId: string, limits: ApiKeyLimits): KeyPlanKeys {
  let keys = planKeys.get(limits);
  if (keys === undefined || keys.keyId !== keyId) {
    const minutes = limits.windowMinutes ?? 0;
    keys = {
      keyId,
      window: {
        requests: windowCounterKey(keyId, 'requests', minutes),
        tokens: windowCounterKey(keyId, 'tokens', minutes),
        cost: windowCounterKey(keyId, 'cost', minutes),
      },
      lease: coordinationKeys.keyLease(keyId),
      budget: new Map(),
    };
    planKeys.set(limits, keys);
  }
  return keys;
}

function budgetKeyOf(keys: KeyPlanKeys, period: BudgetPeriod): string {
  const last = keys.budget.get(period.period);
  if (last !== undefined && last.id === period.id) return last.key;
  const key = budgetCounterKey(keys.keyId, period);
  keys.budget.set(period.period, { id: period.id, key });
  return key;
}

export function buildAdmissionPlan(
  policy: Pick<ApiKeyPolicy, 'id' | 'limits'>,
  request: { requestId: string; estimatedCostMicros: number },
  now: number,
  leaseTtlMs: number,
  options: PlanOptions = {},
): AdmissionPlan {
  const { id: keyId, limits } = policy;
  const keys = keysOf(keyId, limits);
  const windowMs = windowMsOf(limits);
  // At least 1 micro-dollar, so a cap that is exactly used up refuses even a zero estimate.
  const reserveMicros = hasCostLimit(limits, windowMs)
    ? Math.max(1, wholeAmount(request.estimatedCostMicros))
    : 0;
  const counters: PlannedCounter[] = [];

  if (windowMs !== null) {
    const window = (
      metric: Exclude<RateLimitMetric, 'concurrency'>,
      limit: number,
      amount: number,
    ): PlannedCounter => ({
      kind: 'window',
      metric,
      limit,
      op: { key: keys.window[metric], amount, limit, ttlMs: windowMs },
    });
    if (limits.windowRequests !== undefined) {
      counters.push(window('requests', limits.windowRequests, 1));
    }
    if (limits.windowTokens !== undefined) counters.push(window('tokens', limits.windowTokens, 1));
    if (limits.windowCostMicros !== undefined) {
      counters.push(window('cost', limits.windowCostMicros, reserveMicros));
    }
  }

  for (const { period, limit } of budgetCaps(limits, now)) {
    counters.push({
      kind: 'budget',
      period,
      limit,
      op: {
        key: budgetKeyOf(keys, period),
        amount: reserveMicros,
        limit,
        ttlMs: period.ttlMs,
        ...(options.seedBudgets === true && { seeded: true }),
      },
    });
  }

  const lease: LeaseRequest | undefined =
    limits.concurrency !== undefined
      ? {
          key: keys.lease,
          leaseId: request.requestId,
          limit: limits.concurrency,
          ttlMs: leaseTtlMs,
        }
      : undefined;

  return { keyId, counters, lease, reserveMicros, windowMs };
}

/** Clock skew allowed between this instance and the coordinator's store (Redis TIME). */
const EXPIRY_MARGIN_MS = 2000;

/**
 * Settle adjustments for a finished request. A refund (negative amount) is dropped when the
 * counter's window has already expired (or is about to): the reservation vanished with it, and
 * a refund would open the next window below zero, i.e. hand out credit nobody earned.
 */
export function settleAdjustments(
  plan: AdmissionPlan,
  admittedResetAtMs: (number | null)[],
  actual: { tokens: number; costMicros: number },
  now: number,
  generations?: (string | null)[],
): CounterAdjust[] {
  const adjustments: CounterAdjust[] = [];
  plan.counters.forEach((counter, index) => {
    let amount: number;
    if (counter.kind === 'budget') {
      amount = actual.costMicros - plan.reserveMicros;
      const generation = generations?.[index] ?? null;
      if (generation !== null) {
        // Applied even when it is 0: if the store lost the counter since admit, the full cost
        // must still be added to whatever replaced it.
        adjustments.push({
          key: counter.op.key,
          amount,
          ttlMs: counter.op.ttlMs,
          generation,
          unreserved: actual.costMicros,
        });
        return;
      }
    } else {
      switch (counter.metric) {
        case 'requests':
          return;
        case 'tokens':
          amount = actual.tokens - 1;
          break;
        case 'cost':
          amount = actual.costMicros - plan.reserveMicros;
          break;
      }
    }
    if (amount === 0) return;
    const expiresAt = admittedResetAtMs[index] ?? null;
    if (amount < 0 && expiresAt !== null && now + EXPIRY_MARGIN_MS >= expiresAt) return;
    adjustments.push({ key: counter.op.key, amount, ttlMs: counter.op.ttlMs });
  });
  return adjustments;
}
