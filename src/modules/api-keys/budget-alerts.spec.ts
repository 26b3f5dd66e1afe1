import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { BudgetAlerts, budgetNotification } from './budget-alerts';
import { dailyPeriod } from './budget-periods';

const KEY = { id: 'key-1', name: 'ci' };
const NOW = Date.UTC(2026, 0, 15, 12);
const DAY = dailyPeriod(NOW);

describe(BudgetAlerts.name, () => {
  describe('budgetNotification', () => {
    it('should raise nothing below 80 %', () => {
      expect(
        budgetNotification(KEY, { period: DAY, limitMicros: 100, spentMicros: 79 }, NOW),
      ).toBeNull();
    });

    it('should warn from 80 % and exhaust at 100 %, keyed per key, cap and period start', () => {
      const warning = budgetNotification(
        KEY,
        { period: DAY, limitMicros: 100, spentMicros: 80 },
        NOW,
      );
      expect(warning).toMatchObject({
        type: 'key.budget_warning',
        dedupeKey: `key.budget_warning:key-1:daily:${DAY.startMs}`,
        data: { percent: 80, cap: 'daily' },
      });
      const exhausted = budgetNotification(
        KEY,
        { period: DAY, limitMicros: 100, spentMicros: 130 },
        NOW,
      );
      expect(exhausted).toMatchObject({
        type: 'key.budget_exhausted',
        severity: 'critical',
        dedupeKey: `key.budget_exhausted:key-1:daily:${DAY.startMs}`,
      });
    });
  });

  describe('check', () => {
    it('should insert once per dedupe key on this instance however many settles cross it', async () => {
      const emit = jest.fn().mockResolvedValue(true);
      const alerts = new BudgetAlerts({ emit } as unknown as NotificationOutbox);
      for (let i = 0; i < 50; i++) {
        alerts.check(KEY, [{ period: DAY, limitMicros: 100, spentMicros: 100 + i }], NOW);
      }
      await Promise.resolve();
      expect(emit).toHaveBeenCalledTimes(1);
    });

    it('should try again after a failed insert', async () => {
      const emit = jest.fn().mockRejectedValueOnce(new Error('db down')).mockResolvedValue(true);
      const alerts = new BudgetAlerts({ emit } as unknown as NotificationOutbox);
      alerts.check(KEY, [{ period: DAY, limitMicros: 100, spentMicros: 100 }], NOW);
      await new Promise((resolve) => setImmediate(resolve));
      alerts.check(KEY, [{ period: DAY, limitMicros: 100, spentMicros: 100 }], NOW);
      expect(emit).toHaveBeenCalledTimes(2);
    });
  });
});
