/**
 * Budget periods of a key, all in UTC. Each period has an id that becomes part of its counter key
 * (`coordinationKeys.keyBudget(keyId, period, id)`), so a new period simply starts a new counter;
 * nothing has to be reset at midnight. Old counters expire by TTL.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const WEEK_MS = 7 * DAY_MS;

export type BudgetPeriodName = 'daily' | 'weekly' | 'total';

export interface BudgetPeriod {
  period: BudgetPeriodName;
  /** Part of the counter key: `2025-01-31` (daily), `2025-01-27T00` (weekly), `all` (total). */
  id: string;
  /** Epoch ms when the next period starts; null for the total cap, which never resets. */
  resetAtMs: number | null;
  /**
   * TTL of the counter, set when its first reservation creates it. Longer than the period, so a
   * request that settles after the period ended still finds its counter.
   */
  ttlMs: number | undefined;
}

export const DEFAULT_WEEKLY_RESET_DAY = 1;
export const DEFAULT_WEEKLY_RESET_HOUR = 0;

/** `YYYY-MM-DD` of a UTC instant. */
function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dailyPeriod(now: number): BudgetPeriod {
  const start = Math.floor(now / DAY_MS) * DAY_MS;
  return { period: 'daily', id: isoDate(start), resetAtMs: start + DAY_MS, ttlMs: 2 * DAY_MS };
}

/** Start (epoch ms) of the week containing `now`, weeks starting on resetDay at resetHour UTC. */
export function weekStart(
  now: number,
  resetDay = DEFAULT_WEEKLY_RESET_DAY,
  resetHour = DEFAULT_WEEKLY_RESET_HOUR,
): number {
  const dayStart = Math.floor(now / DAY_MS) * DAY_MS;
  const weekday = new Date(dayStart).getUTCDay();
  const daysBack = (weekday - resetDay + 7) % 7;
  let start = dayStart - daysBack * DAY_MS + resetHour * HOUR_MS;
  // On the reset day but before the reset hour, the week began seven days earlier.
  if (start > now) start -= WEEK_MS;
  return start;
}

export function weeklyPeriod(now: number, resetDay?: number, resetHour?: number): BudgetPeriod {
  const start = weekStart(now, resetDay, resetHour);
  const id = new Date(start).toISOString().slice(0, 13);
  return { period: 'weekly', id, resetAtMs: start + WEEK_MS, ttlMs: 8 * DAY_MS };
}

export function totalPeriod(): BudgetPeriod {
  return { period: 'total', id: 'all', resetAtMs: null, ttlMs: undefined };
}
