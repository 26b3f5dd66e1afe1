import { appLogger } from 'src/common/logging/app-logger';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { NotificationEventInput } from 'src/infra/outbox/outbox.types';
import type { BudgetPeriod } from './budget-periods';

/** Share of a cap at which `key.budget_warning` is raised. */
export const BUDGET_WARNING_RATIO = 0.8;
/** Dedupe keys this instance has raised, kept to skip repeat inserts; bounded. */
const MEMORY_LIMIT = 10_000;

export interface BudgetReading {
  period: BudgetPeriod;
  limitMicros: number;
  /** Spent (and reserved by requests in flight) in the period, as the counter holds it. */
  spentMicros: number;
}

function dollars(micros: number): string {
  return `$${(micros / 1e6).toFixed(2)}`;
}

/**
 * The notification a reading calls for: `key.budget_exhausted` at 100 % of a cap,
 * `key.budget_warning` from 80 %, nothing below. The dedupe key
 * `<type>:<key id>:<cap>:<period start>` makes it once per key, cap and budget period, across
 * instances (the outbox stores one event per key).
 */
export function budgetNotification(
  key: { id: string; name: string },
  reading: BudgetReading,
  at: number,
): NotificationEventInput | null {
  const { period, limitMicros, spentMicros } = reading;
  if (limitMicros <= 0) return null;
  const ratio = spentMicros / limitMicros;
  const exhausted = ratio >= 1;
  if (!exhausted && ratio < BUDGET_WARNING_RATIO) return null;
  const type = exhausted ? 'key.budget_exhausted' : 'key.budget_warning';
  const percent = Math.floor(ratio * 100);
  const resets =
    period.resetAtMs === null
      ? 'it never resets'
      : `it resets at ${new Date(period.resetAtMs).toISOString()}`;
  return {
    type,
    severity: exhausted ? 'critical' : 'warning',
    title: exhausted
      ? `API key "${key.name}" used its whole ${period.period} budget`
      : `API key "${key.name}" used ${percent} % of its ${period.period} budget`,
    message:
      `API key "${key.name}" has spent ${dollars(spentMicros)} of its ${period.period} budget of ` +
      `${dollars(limitMicros)}` +
      (exhausted ? '; its requests are refused until the budget resets' : '') +
      `; ${resets}.`,
    subject: { kind: 'api_key', id: key.id, name: key.name },
    data: {
      cap: period.period,
      periodId: period.id,
      limitMicros,
      spentMicros,
      percent,
      resetAt: period.resetAtMs === null ? null : new Date(period.resetAtMs).toISOString(),
    },
    dedupeKey: `${type}:${key.id}:${period.period}:${period.startMs}`,
    at,
  };
}

/**
 * Raises budget notifications from what settle already knows (the counters' values at admit,
 * this request's reservation and its actual cost): no extra SQL or coordinator call on any
 * request, and at most one outbox insert per instance per key, cap, period and threshold. The
 * insert runs after the response, fire and forget.
 */
export class BudgetAlerts {
  private readonly raised = new Set<string>();

  constructor(private readonly outbox?: NotificationOutbox) {}

  check(
    key: { id: string; name: string },
    readings: readonly BudgetReading[],
    at = Date.now(),
  ): void {
    const outbox = this.outbox;
    if (outbox === undefined) return;
    for (const reading of readings) {
      const notification = budgetNotification(key, reading, at);
      if (notification === null) continue;
      const dedupeKey = notification.dedupeKey ?? '';
      if (this.raised.has(dedupeKey)) continue;
      if (this.raised.size >= MEMORY_LIMIT) this.raised.clear();
      this.raised.add(dedupeKey);
      outbox.emit(notification).catch((error: unknown) => {
        // Forgotten, so the next request that sees the crossing tries again.
        this.raised.delete(dedupeKey);
        appLogger.warn({ err: error, keyId: key.id }, 'could not raise a budget notification');
      });
    }
  }
}
