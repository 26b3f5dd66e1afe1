import { backoffDelayMs, nextAttemptAt } from './delivery-backoff';

const POLICY = { baseMs: 5000, maxMs: 900_000, maxAttempts: 5, maxAgeMs: 3_600_000 };

describe('delivery backoff', () => {
  describe(backoffDelayMs.name, () => {
    it('should double from the base per attempt when jitter is centred', () => {
      const centre = (): number => 0.5;
      expect([1, 2, 3, 4].map((n) => backoffDelayMs(n, POLICY, centre))).toEqual([
        5000, 10_000, 20_000, 40_000,
      ]);
    });

    it('should never wait longer than the cap, even at the top of the jitter', () => {
      expect(backoffDelayMs(30, POLICY, () => 0.999)).toBe(900_000);
      expect(backoffDelayMs(1000, POLICY, () => 0.5)).toBe(900_000);
    });

    it('should spread retries within ±20 % of the delay', () => {
      expect(backoffDelayMs(2, POLICY, () => 0)).toBe(8000);
      expect(backoffDelayMs(2, POLICY, () => 1)).toBe(12_000);
    });
  });

  describe(nextAttemptAt.name, () => {
    const centre = (): number => 0.5;

    it('should schedule the next attempt after a retryable failure', () => {
      expect(nextAttemptAt(1, 0, 1000, true, POLICY, centre)).toBe(6000);
    });

    it('should give up when the failure is final', () => {
      expect(nextAttemptAt(1, 0, 1000, false, POLICY, centre)).toBeNull();
    });

    it('should give up after the last attempt', () => {
      expect(nextAttemptAt(4, 0, 1000, true, POLICY, centre)).not.toBeNull();
      expect(nextAttemptAt(5, 0, 1000, true, POLICY, centre)).toBeNull();
    });

    it('should give up when the next attempt would fall past the maximum age', () => {
      expect(nextAttemptAt(1, 0, 3_598_000, true, POLICY, centre)).toBeNull();
    });
  });
});
