import { setLogLevel } from 'src/common/logging/app-logger';
import type { ConfigService } from 'src/config/config.service';
import { LocalCoordinator } from 'src/infra/coordination/local.coordinator';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { LOGIN_WINDOW_MS, LoginThrottle, REFUSAL_DELAY_MS, addressBlock } from './login-throttle';

function throttle(
  env: Partial<ConfigService['env']> = {},
  notifications?: NotificationOutbox,
): LoginThrottle {
  const config = {
    env: {
      LOGIN_MAX_FAILURES_PER_USERNAME: 5,
      LOGIN_MAX_FAILURES_PER_ADDRESS: 20,
      LOGIN_CONCURRENT_CHECKS: 4,
      ...env,
    },
  } as unknown as ConfigService;
  return new LoginThrottle(config, new LocalCoordinator({ instanceId: 'test' }), notifications);
}

/** Runs an attempt to its end while fake time passes; resolves with its refusal, if any. */
async function attempt(
  subject: LoginThrottle,
  outcome: 'failed' | 'succeeded',
  username = 'admin',
  address = '10.0.0.1',
): Promise<AuthException | undefined> {
  const run = (async () => {
    const admitted = await subject.begin(username, address);
    await admitted[outcome]();
  })();
  const settled = run.then(
    () => undefined,
    (error: unknown) => {
      if (error instanceof AuthException) return error;
      throw error;
    },
  );
  await jest.advanceTimersByTimeAsync(5_000);
  return settled;
}

describe(LoginThrottle.name, () => {
  beforeAll(() => {
    setLogLevel('silent');
  });
  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse('2026-01-01T00:00:00Z') });
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  describe('auth.login_locked notification', () => {
    function notifying(env: Partial<ConfigService['env']> = {}) {
      const emit = jest.fn<Promise<boolean>, Parameters<NotificationOutbox['emit']>>(
        async () => true,
      );
      return { subject: throttle(env, { emit } as unknown as NotificationOutbox), emit };
    }

    it('should raise one event when the failure that fills the window locks the username', async () => {
      const { subject, emit } = notifying();
      for (let i = 0; i < 5; i += 1) await attempt(subject, 'failed');
      // Attempts while locked are refused without a new lock.
      for (let i = 0; i < 10; i += 1) await attempt(subject, 'failed');

      expect(emit).toHaveBeenCalledTimes(1);
      const lockedAt = emit.mock.calls[0][0].at!;
      expect(emit).toHaveBeenCalledWith({
        type: 'auth.login_locked',
        dedupeKey: expect.stringMatching(
          new RegExp(
            `^auth\\.login_locked:u:[0-9a-f]{32}:${Math.floor(lockedAt / LOGIN_WINDOW_MS)}$`,
          ),
        ) as string,
        at: lockedAt,
        severity: 'warning',
        title: 'Login "admin" locked after repeated wrong passwords',
        message:
          '5 wrong passwords within a minute locked the username "admin" for 1 min (lockout 1 ' +
          'within a day). If this was not a person mistyping, someone may be guessing passwords.',
        subject: { kind: 'user', id: 'admin', name: 'admin' },
        data: {
          lockedBy: 'username',
          username: 'admin',
          address: '10.0.0.1',
          failures: 5,
          lockSeconds: 60,
          lockedUntil: new Date(lockedAt + LOGIN_WINDOW_MS).toISOString(),
          strike: 1,
        },
      });
    });

    it('should raise one event per lock episode, critical from the second one in a day', async () => {
      const { subject, emit } = notifying({ LOGIN_MAX_FAILURES_PER_USERNAME: 2 });
      for (let round = 0; round < 2; round += 1) {
        await attempt(subject, 'failed');
        await attempt(subject, 'failed');
        await attempt(subject, 'failed');
        await jest.advanceTimersByTimeAsync(4 * LOGIN_WINDOW_MS);
      }
      expect(emit.mock.calls.map(([event]) => [event.severity, event.data.strike])).toEqual([
        ['warning', 1],
        ['critical', 2],
      ]);
    });

    it('should name the address when the address window locks', async () => {
      const { subject, emit } = notifying({
        LOGIN_MAX_FAILURES_PER_USERNAME: 50,
        LOGIN_MAX_FAILURES_PER_ADDRESS: 3,
      });
      for (const name of ['a', 'b', 'c']) await attempt(subject, 'failed', name, '203.0.113.7');

      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit.mock.calls[0][0]).toMatchObject({
        title: 'Logins from 203.0.113.7 locked after repeated wrong passwords',
        data: { lockedBy: 'address', username: 'c', address: '203.0.113.7' },
      });
    });

    it('should raise nothing for right passwords or failures below the limit', async () => {
      const { subject, emit } = notifying();
      for (let i = 0; i < 4; i += 1) await attempt(subject, 'failed');
      for (let i = 0; i < 10; i += 1) await attempt(subject, 'succeeded');
      expect(emit).not.toHaveBeenCalled();
    });
  });

  describe('begin', () => {
    it('should refuse the 6th attempt for a username after 5 failures, the right password too', async () => {
      const subject = throttle();
      for (let i = 0; i < 5; i += 1) expect(await attempt(subject, 'failed')).toBeUndefined();

      const refused = await attempt(subject, 'succeeded');

      expect(refused?.code).toBe(AuthExceptionCode.LOGIN_THROTTLED);
      expect(refused?.status).toBe(429);
      expect(refused?.details?.retryAfterSeconds).toBeGreaterThan(0);
      expect(refused?.details?.retryAfterSeconds).toBeLessThanOrEqual(60);
      // Another username from another address is not affected.
      expect(await attempt(subject, 'failed', 'other', '10.0.0.2')).toBeUndefined();
    });

    it('should not count a right password as a failure', async () => {
      const subject = throttle();
      for (let i = 0; i < 20; i += 1) expect(await attempt(subject, 'succeeded')).toBeUndefined();
    });

    it('should double the lockout each time the window fills again within a day', async () => {
      const subject = throttle({ LOGIN_MAX_FAILURES_PER_USERNAME: 2 });
      const lockouts: number[] = [];
      for (let round = 0; round < 3; round += 1) {
        await attempt(subject, 'failed');
        await attempt(subject, 'failed');
        const refused = await attempt(subject, 'failed');
        expect(refused?.code).toBe(AuthExceptionCode.LOGIN_THROTTLED);
        const seconds = refused?.details?.retryAfterSeconds ?? 0;
        lockouts.push(seconds);
        // Wait out the lock exactly.
        await jest.advanceTimersByTimeAsync(seconds * 1000);
      }
      expect(lockouts[1]).toBeGreaterThan(lockouts[0] * 1.5);
      expect(lockouts[2]).toBeGreaterThan(lockouts[1] * 1.5);
      expect(lockouts[2]).toBeLessThanOrEqual(15 * 60);
    });

    it('should throttle one address across usernames', async () => {
      const subject = throttle({ LOGIN_MAX_FAILURES_PER_ADDRESS: 3 });
      for (const name of ['a', 'b', 'c'])
        expect(await attempt(subject, 'failed', name)).toBeUndefined();

      expect((await attempt(subject, 'failed', 'd'))?.code).toBe(AuthExceptionCode.LOGIN_THROTTLED);
      expect(await attempt(subject, 'failed', 'd', '10.0.0.9')).toBeUndefined();
    });

    it('should allow attempts again once the window has passed', async () => {
      const subject = throttle({ LOGIN_MAX_FAILURES_PER_USERNAME: 1 });
      await attempt(subject, 'failed');
      expect((await attempt(subject, 'succeeded'))?.code).toBe(AuthExceptionCode.LOGIN_THROTTLED);

      await jest.advanceTimersByTimeAsync(LOGIN_WINDOW_MS + REFUSAL_DELAY_MS);

      expect(await attempt(subject, 'succeeded')).toBeUndefined();
    });

    it('should answer 503 at once when too many checks are in flight', async () => {
      const subject = throttle({ LOGIN_CONCURRENT_CHECKS: 2 });
      const first = await subject.begin('admin', '10.0.0.1');
      const second = await subject.begin('admin', '10.0.0.1');

      const busy = await attempt(subject, 'succeeded');
      expect(busy?.code).toBe(AuthExceptionCode.LOGIN_BUSY);
      expect(busy?.status).toBe(503);

      await first.succeeded();
      expect(await attempt(subject, 'succeeded')).toBeUndefined();
      await second.abandoned();
    });
  });

  describe('addressBlock', () => {
    it('should throttle IPv4 by address and IPv6 by its /64', () => {
      expect(addressBlock('192.0.2.7')).toBe('192.0.2.7');
      expect(addressBlock('::ffff:192.0.2.7')).toBe('192.0.2.7');
      expect(addressBlock('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
      expect(addressBlock('2001:db8:1:2::2')).toBe('2001:db8:1:2::/64');
      expect(addressBlock('2001:0db8::')).toBe('2001:db8:0:0::/64');
      expect(addressBlock('::1')).toBe('0:0:0:0::/64');
    });
  });
});
