import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { routableAccount } from '../../../test/factories/account.factory';
import { Scheduler, type PickRequest } from './scheduler.service';
import { schedulerHarness, type SchedulerHarness } from './testing/scheduler-harness';

const MODEL = 'claude-sonnet-4-5';

function request(overrides: Partial<PickRequest> = {}): PickRequest & { exclude: Set<string> } {
  return {
    platform: 'claude',
    model: MODEL,
    apiKeyId: 'key-1',
    binding: undefined,
    session: null,
    ...overrides,
    exclude: new Set(overrides.exclude),
  };
}

const lease = (account: RoutableAccount): string => coordinationKeys.accountLease(account.id);

describe(Scheduler.name, () => {
  let a: RoutableAccount;
  let b: RoutableAccount;
  let h: SchedulerHarness;
  /** A second instance sharing the coordinator's store, holding leases of its own. */
  let other: LocalCoordinator;

  beforeEach(async () => {
    a = routableAccount({ id: 'acct-a', priority: 1, concurrencyLimit: 1 });
    b = routableAccount({ id: 'acct-b', priority: 2, concurrencyLimit: 1 });
    h = await schedulerHarness([a, b]);
    other = new LocalCoordinator({ instanceId: 'instance-b', store: h.store });
  });

  afterEach(async () => {
    await other.close();
    await h.close();
    jest.restoreAllMocks();
  });

  /** Fills an account's cross-instance lease from the other instance. */
  async function fillLease(account: RoutableAccount): Promise<void> {
    const result = await other.admit({
      counters: [],
      lease: { key: lease(account), leaseId: 'elsewhere', limit: 1, ttlMs: 60_000 },
    });
    expect(result.ok).toBe(true);
  }

  describe('reserve', () => {
    it("should reserve the next account and exclude the full one when an account's lease is full", async () => {
      await fillLease(a);
      const admit = jest.spyOn(h.coordinator, 'admit');
      const releaseLease = jest.spyOn(h.coordinator, 'releaseLease');
      const pick = request();

      const reserved = await h.scheduler.reserve(pick, 'req-1');

      if (!reserved.ok) throw new Error(`expected a reservation, got ${reserved.reason}`);
      expect(reserved.reservation.account.id).toBe('acct-b');
      expect(reserved.reservation.upstreamModel).toBe(MODEL);
      expect([...pick.exclude]).toEqual(['acct-a', 'acct-b']);
      expect(admit.mock.calls.map(([call]) => call.lease?.key)).toEqual([lease(a), lease(b)]);
      await expect(admit.mock.results[0].value).resolves.toMatchObject({ ok: false });
      expect(h.scheduler.inFlightOf('acct-a')).toBe(0);
      expect(h.scheduler.inFlightOf('acct-b')).toBe(1);
      // The full lease is untouched; this instance holds one on acct-b only.
      expect(await h.coordinator.countLeases(lease(a))).toBe(1);
      expect(await h.coordinator.countLeases(lease(b))).toBe(1);

      reserved.reservation.release();

      expect(releaseLease).toHaveBeenCalledTimes(1);
      expect(releaseLease).toHaveBeenCalledWith(lease(b), 'req-1');
      expect(h.scheduler.inFlightOf('acct-b')).toBe(0);
      expect(await h.coordinator.countLeases(lease(b))).toBe(0);
      expect(await h.coordinator.countLeases(lease(a))).toBe(1);

      reserved.reservation.release();

      expect(releaseLease).toHaveBeenCalledTimes(1);
      expect(h.scheduler.inFlightOf('acct-b')).toBe(0);
    });

    it("should not give back another request's in-flight count when release is called twice", async () => {
      a.concurrencyLimit = null;
      const first = await h.scheduler.reserve(request(), 'req-1');
      const second = await h.scheduler.reserve(request(), 'req-2');
      if (!first.ok || !second.ok) throw new Error('expected two reservations');
      expect(second.reservation.account.id).toBe('acct-a');
      expect(h.scheduler.inFlightOf('acct-a')).toBe(2);

      first.reservation.release();
      first.reservation.release();

      expect(h.scheduler.inFlightOf('acct-a')).toBe(1);
      second.reservation.release();
      expect(h.scheduler.inFlightOf('acct-a')).toBe(0);
    });

    it('should take no lease when the account has no concurrency limit', async () => {
      a.concurrencyLimit = null;
      const admit = jest.spyOn(h.coordinator, 'admit');
      const releaseLease = jest.spyOn(h.coordinator, 'releaseLease');

      const reserved = await h.scheduler.reserve(request(), 'req-1');
      if (!reserved.ok) throw new Error('expected a reservation');
      reserved.reservation.release();

      expect(reserved.reservation.account.id).toBe('acct-a');
      expect(admit).not.toHaveBeenCalled();
      expect(releaseLease).not.toHaveBeenCalled();
    });

    it('should answer unavailable and hold nothing when every lease is full', async () => {
      await fillLease(a);
      await fillLease(b);
      const pick = request();

      const reserved = await h.scheduler.reserve(pick, 'req-1');

      expect(reserved).toEqual({ ok: false, reason: 'unavailable', retryAtMs: null });
      expect([...pick.exclude]).toEqual(['acct-a', 'acct-b']);
      expect(h.scheduler.inFlightOf('acct-a')).toBe(0);
      expect(h.scheduler.inFlightOf('acct-b')).toBe(0);
      expect(await h.coordinator.countLeases(lease(a))).toBe(1);
      expect(await h.coordinator.countLeases(lease(b))).toBe(1);
    });

    it('should return the failure result when no account serves the model', async () => {
      a.models = ['claude-haiku-4-5'];
      b.models = ['claude-haiku-4-5'];
      const admit = jest.spyOn(h.coordinator, 'admit');

      const reserved = await h.scheduler.reserve(request(), 'req-1');

      expect(reserved).toEqual({ ok: false, reason: 'unavailable', retryAtMs: null });
      expect(admit).not.toHaveBeenCalled();
    });

    it('should answer rate_limited with the earliest reset when every account is rate-limited', async () => {
      const now = Date.now();
      await h.health.record(a, { kind: 'rate_limited', resetAt: now + 40_000, scope: 'account' });
      await h.health.record(b, { kind: 'rate_limited', resetAt: now + 20_000, scope: 'account' });

      const reserved = await h.scheduler.reserve(request(), 'req-1');

      expect(reserved).toEqual({ ok: false, reason: 'rate_limited', retryAtMs: now + 20_000 });
    });

    it('should use the pick already under way instead of picking again', async () => {
      const pick = request();
      const picked = h.scheduler.pick({ ...pick, exclude: new Set(['acct-a']) });
      const pickSpy = jest.spyOn(h.scheduler, 'pick');

      const reserved = await h.scheduler.reserve(pick, 'req-1', picked);

      if (!reserved.ok) throw new Error('expected a reservation');
      expect(reserved.reservation.account.id).toBe('acct-b');
      expect(pickSpy).not.toHaveBeenCalled();
      reserved.reservation.release();
    });
  });

  describe('report', () => {
    it('should keep the next pick off an account whose attempt failed', async () => {
      const reserved = await h.scheduler.reserve(request(), 'req-1');
      if (!reserved.ok) throw new Error('expected a reservation');

      await h.scheduler.report(reserved.reservation, { kind: 'server_error', status: 500 });
      reserved.reservation.release();

      const next = await h.scheduler.pick(request());
      expect(next.ok && next.account.id).toBe('acct-b');
    });

    it('should not reject when the health state cannot be recorded', async () => {
      jest.spyOn(appLogger, 'warn').mockImplementation(() => appLogger);
      jest.spyOn(h.health, 'record').mockRejectedValue(new Error('coordinator down'));
      const reserved = await h.scheduler.reserve(request(), 'req-1');
      if (!reserved.ok) throw new Error('expected a reservation');

      await expect(
        h.scheduler.report(reserved.reservation, { kind: 'overloaded', status: 529 }),
      ).resolves.toBeUndefined();
      expect(appLogger.warn).toHaveBeenCalled();
      reserved.reservation.release();
    });
  });
});
