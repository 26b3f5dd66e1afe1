import { appLogger } from 'src/common/logging/app-logger';
import { LeaseRenewer, type RenewableLease } from './lease-renewer';

function lease(answers: (boolean | Error)[]): RenewableLease & { calls: number } {
  const target = {
    calls: 0,
    logContext: { lease: 'key', keyId: 'k1', requestId: 'r1' },
    renew: () => {
      const answer = answers[Math.min(target.calls, answers.length - 1)];
      target.calls++;
      return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
    },
  };
  return target;
}

describe(LeaseRenewer.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('tick', () => {
    it('should renew every third of the TTL while the lease lives', async () => {
      const renewer = new LeaseRenewer(3000);
      const held = lease([true]);
      renewer.add(held);
      await jest.advanceTimersByTimeAsync(3500);
      expect(held.calls).toBe(3);
      expect(renewer.has(held)).toBe(true);
      renewer.clear();
    });

    it('should stop renewing and log once when the lease is gone', async () => {
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      const renewer = new LeaseRenewer(3000);
      const lost = lease([true, false]);
      renewer.add(lost);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(lost.calls).toBe(2);
      expect(renewer.has(lost)).toBe(false);
      expect(renewer.size).toBe(0);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(
        { lease: 'key', keyId: 'k1', requestId: 'r1' },
        'lease lost before its request ended; renewal stopped',
      );
    });

    it('should keep trying after a coordinator error, since the lease may still be there', async () => {
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      const renewer = new LeaseRenewer(3000);
      const flaky = lease([new Error('redis down'), true]);
      renewer.add(flaky);
      await jest.advanceTimersByTimeAsync(3500);
      expect(flaky.calls).toBe(3);
      expect(renewer.has(flaky)).toBe(true);
      expect(warn).toHaveBeenCalledTimes(1);
      renewer.clear();
    });
  });
});
