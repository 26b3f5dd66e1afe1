/**
 * Budget periods of a key, all in UTC. Each period has an id that becomes part of its counter key
 * (`coordinationKeys.keyBudget(keyId, period, id)`), so a new period simply starts a new counter;
 * nothing has to be reset at midnight. Old counters expire by TTL.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

export type BudgetPeriodName = 'daily' | 'weekly' | 'total';

/** Shared between requests (periods are memoised): never modify one. */
export interface BudgetPeriod {
  readonly period: BudgetPeriodName;
  /** Part of the counter key: `2025-01-31` (daily), `2025-01-27T00` (weekly), `all` (total). */
  readonly id: string;
  /** Epoch ms when this period started (0 for the total cap). */
  readonly startMs: number;
  /** Epoch ms when the next period starts; null for the total cap, which never resets. */
  readonly resetAtMs: number | null;
  /**
   * TTL of the counter, set when its first reservation creates it. Longer than the period, so a
   * request that settles after the period ended still finds its counter.
   */
  readonly ttlMs: number | undefined;
}

export const DEFAULT_WEEKLY_RESET_DAY = 1;
export const DEFAULT_WEEKLY_RESET_HOUR = 0;

/** `YYYY-MM-DD` of a UTC instant. */
function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

// Every admission asks for its key's periods; they change once a day or week, so the last one
// computed is kept instead of formatting dates on every request.
let lastDaily: BudgetPeriod | undefined;
const lastWeekly = new Map<number, BudgetPeriod>();
const TOTAL: BudgetPeriod = Object.freeze({
  period: 'total',
  id: 'all',
  startMs: 0,
  resetAtMs: null,
  ttlMs: undefined,
});

export function dailyPeriod(now: number): BudgetPeriod {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  if (lastDaily !== undefined && lastDaily.resetAtMs === start + DAY_MS) return lastDaily;
  lastDaily = Object.freeze({
    period: 'daily',
    id: isoDate(start),
    startMs: start,
    resetAtMs: start + DAY_MS,
    ttlMs: 2 * DAY_MS,
  });
  return lastDaily;
}

/** Start (epoch ms) of the week containing `now`, weeks starting on resetDay at resetHour UTC. */
export function weekStart(
  now: number,
  resetDay = DEFAULT_WEEKLY_RESET_DAY,
  resetHour = DEFAULT_WEEKLY_RESET_HOUR,
): number {
  const day = Math.floor(now / DAY_MS);
  const dayStart = day * DAY_MS;
  // 1970-01-01 was a Thursday (4); getUTCDay() numbering, without a Date per call.
  const weekday = (((day + 4) % 7) + 7) % 7;
  const daysBack = (weekday - resetDay + 7) % 7;
  let start = dayStart - daysBack * DAY_MS + resetHour * HOUR_MS;
  // On the reset day but before the reset hour, the week began seven days earlier.
  if (start > now) start -= WEEK_MS;
  return start;
}

export function weeklyPeriod(
  now: number,
  resetDay = DEFAULT_WEEKLY_RESET_DAY,
  resetHour = DEFAULT_WEEKLY_RESET_HOUR,
): BudgetPeriod {
  const start = weekStart(now, resetDay, resetHour);
  const slot = resetDay * 24 + resetHour;
  const last = lastWeekly.get(slot);
  if (last !== undefined && last.resetAtMs === start + WEEK_MS) return last;
  const id = new Date(start).toISOString().slice(0, 13);
  const period: BudgetPeriod = Object.freeze({
    period: 'weekly',
    id,
    startMs: start,
    resetAtMs: start + WEEK_MS,
    ttlMs: 8 * DAY_MS,
  });
  // Keys carry whole days and hours, so this holds at most 7 x 24 entries.
  lastWeekly.set(slot, period);
  return period;
}

export function totalPeriod(): BudgetPeriod {
  return TOTAL;
}
