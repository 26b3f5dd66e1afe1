import { apiKeyPolicy } from '../../../test/factories/api-key-policy.factory';
import { buildAdmissionPlan, windowCounterKey } from './admission-plan';
import { dailyPeriod } from './budget-periods';

const NOW = Date.parse('2025-03-10T12:00:00Z');
const DAY = 86_400_000;

function keysOf(plan: ReturnType<typeof buildAdmissionPlan>): string[] {
  return plan.counters.map((counter) => counter.op.key);
}

describe('buildAdmissionPlan', () => {
  it('should use the window length of each policy object when a key changes its window', () => {
    const before = apiKeyPolicy({ limits: { windowMinutes: 5, windowRequests: 10 } });
    const after = apiKeyPolicy({ limits: { windowMinutes: 1, windowRequests: 10 } });

    const first = buildAdmissionPlan(
      before,
      { requestId: 'r1', estimatedCostMicros: 0 },
      NOW,
      1000,
    );
    const second = buildAdmissionPlan(
      after,
      { requestId: 'r2', estimatedCostMicros: 0 },
      NOW,
      1000,
    );

    expect(keysOf(first)).toEqual([windowCounterKey('key-1', 'requests', 5)]);
    expect(keysOf(second)).toEqual([windowCounterKey('key-1', 'requests', 1)]);
  });

  it('should move the daily budget counter to the next day when the day changes', () => {
    const policy = apiKeyPolicy({ limits: { dailyCostMicros: 1_000_000 } });

    const today = buildAdmissionPlan(
      policy,
      { requestId: 'r1', estimatedCostMicros: 5 },
      NOW,
      1000,
    );
    const tomorrow = buildAdmissionPlan(
      policy,
      { requestId: 'r2', estimatedCostMicros: 5 },
      NOW + DAY,
      1000,
    );

    expect(keysOf(today)[0]).toContain(dailyPeriod(NOW).id);
    expect(keysOf(tomorrow)[0]).toContain(dailyPeriod(NOW + DAY).id);
    expect(keysOf(tomorrow)[0]).not.toBe(keysOf(today)[0]);
  });

  it('should give each request its own lease id on the same lease key', () => {
    const policy = apiKeyPolicy({ limits: { concurrency: 2 } });

    const a = buildAdmissionPlan(policy, { requestId: 'r1', estimatedCostMicros: 0 }, NOW, 1000);
    const b = buildAdmissionPlan(policy, { requestId: 'r2', estimatedCostMicros: 0 }, NOW, 1000);

    expect(a.lease?.key).toBe(b.lease?.key);
    expect([a.lease?.leaseId, b.lease?.leaseId]).toEqual(['r1', 'r2']);
  });
});
