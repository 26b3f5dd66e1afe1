import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { AccountCodec } from 'src/modules/accounts/account-codec';
import type { AccountHealthService } from 'src/modules/accounts/account-health.service';
import type { AccountPool } from 'src/modules/accounts/account-pool.service';
import type { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { RefreshResult } from './credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  RefreshDiscipline,
  type RefreshableCredentials,
} from './refresh-discipline';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-01-02T03:00:00Z');

function discipline(options: { lockFree?: boolean; found?: boolean } = {}) {
  let now = T0 + 60_000;
  const emit = jest.fn<Promise<boolean>, Parameters<NotificationOutbox['emit']>>(async () => true);
  const credentials: RefreshableCredentials = { accessToken: 'at', refreshToken: 'rt' };
  const setup = {
    accountType: 'claude-oauth' as const,
    tokenLabel: 'Claude OAuth',
    pool: { get: () => ({ name: 'team-1', credentials }) } as unknown as AccountPool,
    accountsRepository: {
      findById: async () =>
        options.found === false ? undefined : { type: 'claude-oauth', credentials: 'sealed' },
    } as unknown as AccountsRepository,
    codec: {
      openCredentials: () => credentials,
      openProxy: () => null,
    } as unknown as AccountCodec,
    health: {} as AccountHealthService,
    coordinator: {
      acquireLock: async () => (options.lockFree === false ? null : { name: 'l', token: 't' }),
      releaseLock: async () => undefined,
    } as unknown as Coordinator,
    options: { ...REFRESH_DISCIPLINE_DEFAULTS, now: () => now, lockWaitMs: 0 },
    logPrefix: 'oauth refresh',
    lostTokenRemedy: 'a login',
    notifications: { emit } as unknown as NotificationOutbox,
    toAccountCredentials: (c: RefreshableCredentials) => c as never,
    credentialsOf: () => credentials,
  };
  return {
    discipline: new RefreshDiscipline<RefreshableCredentials>(setup),
    emit,
    advance: (ms: number) => (now += ms),
  };
}

const refused: RefreshResult = {
  ok: false,
  reason: 'refused',
  detail: 'invalid_grant: refresh token revoked',
  status: 400,
};

describe(RefreshDiscipline.name, () => {
  describe('refresh', () => {
    it('should raise one account.refresh_failed when the token endpoint refuses', async () => {
      const { discipline: d, emit } = discipline();

      await expect(d.refresh('acc-1', async () => refused)).resolves.toEqual(refused);

      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit).toHaveBeenCalledWith({
        type: 'account.refresh_failed',
        dedupeKey: `account.refresh_failed:acc-1:${Math.floor((T0 + 60_000) / HOUR)}`,
        at: T0 + 60_000,
        severity: 'critical',
        title: 'Token refresh failed for account "team-1"',
        message: expect.stringContaining('refused the refresh token') as string,
        subject: { kind: 'account', id: 'acc-1', name: 'team-1' },
        data: {
          accountType: 'claude-oauth',
          reason: 'refused',
          detail: 'invalid_grant: refresh token revoked',
          status: 400,
        },
      });
    });

    it('should raise one event for a failure episode of many refreshes within the hour', async () => {
      const { discipline: d, emit, advance } = discipline();
      const unavailable: RefreshResult = { ok: false, reason: 'unavailable', detail: 'HTTP 503' };

      for (let i = 0; i < 20; i++) await d.refresh('acc-1', async () => unavailable);
      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit.mock.calls[0][0]).toMatchObject({ severity: 'warning' });

      advance(HOUR);
      await d.refresh('acc-1', async () => unavailable);
      expect(emit).toHaveBeenCalledTimes(2);
    });

    it('should raise nothing when the refresh succeeds', async () => {
      const { discipline: d, emit } = discipline();
      await d.refresh('acc-1', async () => ({ ok: true, expiresAt: null }));
      expect(emit).not.toHaveBeenCalled();
    });

    it('should raise nothing when the refresh never ran (lock held elsewhere) or the account is gone', async () => {
      const busy = discipline({ lockFree: false });
      await expect(busy.discipline.refresh('acc-1', async () => refused)).resolves.toMatchObject({
        reason: 'unavailable',
      });
      expect(busy.emit).not.toHaveBeenCalled();

      const gone = discipline({ found: false });
      await expect(gone.discipline.refresh('acc-1', async () => refused)).resolves.toMatchObject({
        reason: 'not_found',
      });
      expect(gone.emit).not.toHaveBeenCalled();
    });

    it('should return the refresh result even when recording the event fails', async () => {
      const { discipline: d, emit } = discipline();
      emit.mockRejectedValueOnce(new Error('database down'));
      await expect(d.refresh('acc-1', async () => refused)).resolves.toEqual(refused);
    });
  });
});
