import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import type { AccountStatus, RoutableAccount } from './account.types';
import { accountKeys } from './account-coordination.keys';
import type { AccountHealthEventRecord } from './account-health-events.repository';
import {
  AccountHealthService,
  HEALTH_SCOPES,
  resolveRateLimitScope,
  USAGE_SHARE_INTERVAL_MS,
} from './account-health.service';
import type { AccountPool } from './account-pool.service';
import { anthropicModelFamily } from './types/anthropic.model-families';
import { routableAccount } from '../../../test/factories/account.factory';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const T0 = Date.parse('2025-06-01T12:00:00.000Z');

function account(id = 'acc-1'): RoutableAccount {
  return routableAccount({ id, statusReason: null });
}

/** Lets pub/sub deliveries and the off-path history writes run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

class FakeEvents {
  rows: AccountHealthEventRecord[] = [];
  trims: { accountId: string; keep: number }[] = [];
  async insert(records: AccountHealthEventRecord[]): Promise<void> {
    this.rows.push(...records);
  }
  async recent(accountId: string, limit: number): Promise<AccountHealthEventRecord[]> {
    return this.rows
      .filter((r) => r.account_id === accountId)
      .sort((a, b) => b.at - a.at || b.id.localeCompare(a.id))
      .slice(0, limit);
  }
  async trim(accountId: string, keep: number): Promise<void> {
    this.trims.push({ accountId, keep });
  }
}

interface Instance {
  health: AccountHealthService;
  coordinator: LocalCoordinator;
  events: FakeEvents;
  setStatus: jest.Mock;
  applyStatus: jest.Mock;
  accounts: RoutableAccount[];
}

function config(overrides: Partial<EnvironmentSchema> = {}): ConfigService {
  return new ConfigService(Object.assign(new EnvironmentSchema(), overrides));
}

async function instance(
  store: LocalCoordinatorStore,
  name: string,
  accounts: RoutableAccount[] = [account()],
  env: Partial<EnvironmentSchema> = {},
): Promise<Instance> {
  const coordinator = new LocalCoordinator({ instanceId: name, store });
  const events = new FakeEvents();
  const setStatus = jest.fn().mockResolvedValue(true);
  const applyStatus = jest.fn((id: string, status: AccountStatus, reason: string | null) => {
    const target = accounts.find((a) => a.id === id);
    if (target !== undefined) {
      target.status = status;
      target.statusReason = reason;
    }
  });
  const pool = {
    all: () => accounts,
    get: (id: string) => accounts.find((a) => a.id === id),
    ensureLoaded: async () => undefined,
    onReload: () => () => undefined,
    applyStatus,
  } as unknown as AccountPool;
  const health = new AccountHealthService(
    pool,
    { setStatus } as never,
    events as never,
    config(env),
    new FixedRuntimeSettings(config(env).env),
    coordinator,
  );
  await health.onModuleInit();
  return { health, coordinator, events, setStatus, applyStatus, accounts };
}

describe(AccountHealthService.name, () => {
  let store: LocalCoordinatorStore;
  let a: Instance;

  beforeEach(async () => {
    // setImmediate stays real: the history writes run on it, off the request path.
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    jest.setSystemTime(T0);
    store = new LocalCoordinatorStore();
    a = await instance(store, 'instance-a');
  });

  afterEach(async () => {
    await a.health.onModuleDestroy();
    await a.coordinator.close();
    jest.useRealTimers();
  });

  describe('record', () => {
    it('should do no I/O and record nothing when a healthy account succeeds', async () => {
      const setValue = jest.spyOn(a.coordinator, 'setValue');
      const publish = jest.spyOn(a.coordinator, 'publish');

      await expect(
        a.health.record(a.accounts[0], { kind: 'success' }, 'claude-sonnet-4-5'),
      ).resolves.toEqual({ state: 'ok' });

      await settle();
      expect(setValue).not.toHaveBeenCalled();
      expect(publish).not.toHaveBeenCalled();
      expect(a.events.rows).toHaveLength(0);
    });

    it('should cool the account for the overload duration when it answers 529', async () => {
      const state = await a.health.record(a.accounts[0], { kind: 'overloaded', status: 529 });

      expect(state).toEqual({ state: 'cooling', until: T0 + 60_000, reason: 'overloaded (529)' });
      expect(a.health.routable(a.accounts[0], 'claude-sonnet-4-5')).toEqual({ ok: false, state });
      expect(await a.coordinator.getValue(accountKeys.health('acc-1', 'account'))).not.toBeNull();
    });

    it('should use the duration configured for each reason when cooling', async () => {
      const b = await instance(new LocalCoordinatorStore(), 'b', [account('x')], {
        ACCOUNT_COOLDOWN_SERVER_ERROR_MS: 5000,
        ACCOUNT_COOLDOWN_TIMEOUT_MS: 7000,
      });
      const x = b.accounts[0];

      expect(await b.health.record(x, { kind: 'server_error', status: 502 })).toMatchObject({
        until: T0 + 5000,
        reason: 'server error (502)',
      });
      await b.health.reset('x');
      expect(await b.health.record(x, { kind: 'timeout', phase: 'first_byte' })).toMatchObject({
        until: T0 + 7000,
        reason: 'first byte timeout',
      });
      await b.health.reset('x');
      expect(
        await b.health.record(x, { kind: 'connect_error', code: 'ECONNREFUSED' }),
      ).toMatchObject({ until: T0 + 7000, reason: 'connect error (ECONNREFUSED)' });
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });

    it('should not cool at all when the configured duration is zero', async () => {
      const b = await instance(new LocalCoordinatorStore(), 'b', [account('x')], {
        ACCOUNT_COOLDOWN_OVERLOADED_MS: 0,
      });
      expect(await b.health.record(b.accounts[0], { kind: 'overloaded', status: 529 })).toEqual({
        state: 'ok',
      });
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });

    it('should rate-limit until the reset the upstream named when it names one', async () => {
      const resetAt = T0 + 3 * 3600_000;
      const state = await a.health.record(a.accounts[0], {
        kind: 'rate_limited',
        resetAt,
        scope: 'account',
      });
      expect(state).toEqual({
        state: 'rate_limited',
        until: resetAt,
        scope: 'account',
        reason: 'rate limited',
      });
    });

    it('should rate-limit for the fallback duration when the upstream names no reset', async () => {
      const state = await a.health.record(a.accounts[0], {
        kind: 'rate_limited',
        resetAt: null,
        scope: 'account',
      });
      expect(state).toMatchObject({
        until: T0 + 60_000,
        reason: 'rate limited (no reset time given)',
      });
    });

    it('should block only the model family when the rate limit is scoped to one', async () => {
      const acc = a.accounts[0];
      await a.health.record(
        acc,
        { kind: 'rate_limited', resetAt: T0 + 600_000, scope: 'model' },
        'claude-opus-4-1',
      );

      expect(a.health.routable(acc, 'claude-opus-4-1').ok).toBe(false);
      expect(a.health.routable(acc, 'claude-opus-4-20250514').ok).toBe(false);
      expect(a.health.routable(acc, 'claude-sonnet-4-5').ok).toBe(true);
      expect(a.health.routable(acc).ok).toBe(true);
      expect(a.health.states(acc)).toEqual([
        expect.objectContaining({ state: 'rate_limited', scope: 'opus', until: T0 + 600_000 }),
      ]);
    });

    it('should keep the later state when a shorter one arrives for the same scope', async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, {
        kind: 'rate_limited',
        resetAt: T0 + 3600_000,
        scope: 'account',
      });
      const state = await a.health.record(acc, { kind: 'overloaded', status: 529 });

      expect(state).toMatchObject({ state: 'rate_limited', until: T0 + 3600_000 });
      jest.setSystemTime(T0 + 120_000);
      expect(a.health.routable(acc).ok).toBe(false);
    });

    it('should record one transition when the same failure repeats', async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, { kind: 'overloaded', status: 529 });
      jest.setSystemTime(T0 + 1000);
      await a.health.record(acc, { kind: 'overloaded', status: 529 });
      await a.health.flush();

      expect(a.events.rows.map((r) => [r.state, r.reason])).toEqual([
        ['cooling', 'overloaded (529)'],
      ]);
      // The cooldown was extended, though.
      expect(a.health.routable(acc, undefined, T0 + 60_500).ok).toBe(false);
    });

    it('should persist auth_failed in SQL, apply it at once and invalidate the pools', async () => {
      const acc = a.accounts[0];
      const publish = jest.spyOn(a.coordinator, 'publish');

      const state = await a.health.record(acc, { kind: 'auth_failed', status: 401 });

      expect(state).toEqual({ state: 'auth_failed', reason: 'authentication failed (401)' });
      expect(a.setStatus).toHaveBeenCalledWith(
        'acc-1',
        'auth_failed',
        'authentication failed (401)',
        T0,
      );
      expect(a.applyStatus).toHaveBeenCalledWith(
        'acc-1',
        'auth_failed',
        'authentication failed (401)',
      );
      expect(publish).toHaveBeenCalledWith(accountKeys.channels.invalidation, 'acc-1');
      expect(a.health.routable(acc)).toEqual({ ok: false, state });
      // auth_failed does not recover by time.
      expect(a.health.routable(acc, undefined, T0 + 365 * 86_400_000).ok).toBe(false);
    });

    it('should persist blocked with the upstream message when the organization is disabled', async () => {
      const acc = a.accounts[0];
      const state = await a.health.record(acc, {
        kind: 'blocked',
        message: 'This organization has been disabled.',
      });
      await a.health.record(acc, {
        kind: 'blocked',
        message: 'This organization has been disabled.',
      });
      await a.health.flush();

      expect(state).toEqual({ state: 'blocked', reason: 'This organization has been disabled.' });
      expect(a.setStatus).toHaveBeenCalledTimes(1);
      expect(a.events.rows).toHaveLength(1);
    });

    it("should keep the upstream's message when the relay passes the raw error body", async () => {
      const body = JSON.stringify({
        type: 'error',
        error: { type: 'invalid_request_error', message: 'This organization has been disabled.' },
      });

      const state = await a.health.record(a.accounts[0], { kind: 'blocked', message: body });

      expect(state).toEqual({ state: 'blocked', reason: 'This organization has been disabled.' });
    });

    it('should still apply the state locally when the coordinator is unavailable', async () => {
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      await a.coordinator.close();
      const acc = a.accounts[0];

      await expect(
        a.health.record(acc, { kind: 'overloaded', status: 529 }),
      ).resolves.toMatchObject({
        state: 'cooling',
      });
      expect(a.health.routable(acc).ok).toBe(false);
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ accountId: 'acc-1' }),
        'could not share an account state',
      );
      warn.mockRestore();
    });
  });

  describe('routable', () => {
    it('should become routable again by time alone when until has passed', async () => {
      const acc = a.accounts[0];
      const setValue = jest.spyOn(a.coordinator, 'setValue');
      await a.health.record(acc, { kind: 'overloaded', status: 529 });
      setValue.mockClear();

      jest.setSystemTime(T0 + 59_999);
      expect(a.health.routable(acc).ok).toBe(false);
      jest.setSystemTime(T0 + 60_000);
      expect(a.health.routable(acc).ok).toBe(true);
      // Recovery needed no write and no job: the coordinator value expired by its TTL.
      expect(await a.coordinator.getValue(accountKeys.health('acc-1', 'account'))).toBeNull();
      expect(setValue).not.toHaveBeenCalled();
    });
  });

  describe('recovery', () => {
    it("should record 'recovered' once on the first success after the state expired", async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, { kind: 'server_error', status: 503 });
      jest.setSystemTime(T0 + 31_000);

      await a.health.record(acc, { kind: 'success' }, 'claude-sonnet-4-5');
      await a.health.record(acc, { kind: 'success' }, 'claude-sonnet-4-5');
      const history = await a.health.history('acc-1', 10);

      expect(history.map((e) => [e.state, e.reason])).toEqual([
        ['ok', 'recovered from server error (503)'],
        ['cooling', 'server error (503)'],
      ]);
    });

    it('should keep an unexpired state when a success arrives that was in flight before it', async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, { kind: 'overloaded', status: 529 });

      const state = await a.health.record(acc, { kind: 'success' });

      expect(state).toMatchObject({ state: 'cooling' });
      expect(a.health.routable(acc).ok).toBe(false);
    });
  });

  describe('shared state', () => {
    it("should mirror another instance's states in memory without any I/O when routing", async () => {
      const b = await instance(store, 'instance-b');
      const getValue = jest.spyOn(b.coordinator, 'getValue');
      const getValues = jest.spyOn(b.coordinator, 'getValues');

      await a.health.record(a.accounts[0], {
        kind: 'rate_limited',
        resetAt: T0 + 90_000,
        scope: 'account',
      });
      await settle();

      expect(b.health.routable(b.accounts[0])).toEqual({
        ok: false,
        state: expect.objectContaining({ state: 'rate_limited', until: T0 + 90_000 }),
      });
      expect(getValue).not.toHaveBeenCalled();
      expect(getValues).not.toHaveBeenCalled();
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });

    it('should load current states from the coordinator when an instance starts later', async () => {
      await a.health.record(a.accounts[0], { kind: 'overloaded', status: 529 });

      const late = await instance(store, 'instance-late');

      expect(late.health.routable(late.accounts[0]).ok).toBe(false);
      await late.health.onModuleDestroy();
      await late.coordinator.close();
    });

    it('should clear the state on every instance when an admin resets it', async () => {
      const b = await instance(store, 'instance-b');
      await a.health.record(a.accounts[0], { kind: 'overloaded', status: 529 });
      await settle();
      expect(b.health.routable(b.accounts[0]).ok).toBe(false);

      await b.health.reset('acc-1');
      await settle();

      expect(a.health.routable(a.accounts[0]).ok).toBe(true);
      expect(b.health.routable(b.accounts[0]).ok).toBe(true);
      expect(await a.coordinator.getValue(accountKeys.health('acc-1', 'account'))).toBeNull();
      expect((await b.health.history('acc-1', 1))[0]).toMatchObject({
        state: 'ok',
        reason: 'reset by admin',
      });
      expect(b.setStatus).toHaveBeenCalledWith('acc-1', 'active', null, T0);
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });
  });

  describe('earliestRecovery', () => {
    it('should give the soonest until among accounts that are all limited', async () => {
      const c = await instance(new LocalCoordinatorStore(), 'c', [account('x'), account('y')]);
      const [x, y] = c.accounts as [RoutableAccount, RoutableAccount];
      await c.health.record(x, { kind: 'rate_limited', resetAt: T0 + 300_000, scope: 'account' });
      await c.health.record(y, { kind: 'rate_limited', resetAt: T0 + 120_000, scope: 'account' });

      expect(c.health.earliestRecovery([x, y], 'claude-sonnet-4-5')).toBe(T0 + 120_000);
      await c.health.onModuleDestroy();
      await c.coordinator.close();
    });

    it('should be null when one candidate is routable now or none recovers by time', async () => {
      const c = await instance(new LocalCoordinatorStore(), 'c', [account('x'), account('y')]);
      const [x, y] = c.accounts as [RoutableAccount, RoutableAccount];
      await c.health.record(x, { kind: 'overloaded', status: 529 });
      expect(c.health.earliestRecovery([x, y])).toBeNull();
      await c.health.record(y, { kind: 'auth_failed', status: 401 });
      expect(c.health.earliestRecovery([x, y])).toBe(T0 + 60_000);
      expect(c.health.earliestRecovery([y])).toBeNull();
      await c.health.onModuleDestroy();
      await c.coordinator.close();
    });

    it('should wait for both scopes when the account and the family are limited', async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, { kind: 'overloaded', status: 529 });
      await a.health.record(acc, { kind: 'rate_limited', resetAt: T0 + 900_000, scope: 'opus' });

      expect(a.health.earliestRecovery([acc], 'claude-opus-4-1')).toBe(T0 + 900_000);
      expect(a.health.earliestRecovery([acc], 'claude-sonnet-4-5')).toBe(T0 + 60_000);
    });
  });

  describe('observeResponse', () => {
    const codex = (id = 'cx-1'): RoutableAccount =>
      routableAccount({
        id,
        platform: 'openai',
        type: 'codex-oauth',
        credentials: { type: 'codex-oauth', accessToken: 'at', accountId: 'acct' },
        statusReason: null,
      });
    const codexHeaders = (primary: number, secondary: number): Record<string, string> => ({
      'x-codex-primary-used-percent': String(primary),
      'x-codex-primary-window-minutes': '300',
      'x-codex-primary-reset-at': String((T0 + 3_600_000) / 1000),
      'x-codex-secondary-used-percent': String(secondary),
      'x-codex-secondary-window-minutes': '10080',
      'x-codex-secondary-reset-after-seconds': '86400',
    });

    it('should keep the windows a Codex response reports and show them on every instance', async () => {
      const acc = codex();
      a.health.observeResponse(acc, codexHeaders(12.5, 40));

      const windows = [
        { name: '5h', usedPercent: 12.5, resetsAt: T0 + 3_600_000, windowMinutes: 300 },
        { name: 'weekly', usedPercent: 40, resetsAt: T0 + 86_400_000, windowMinutes: 10_080 },
      ];
      expect(a.health.localUsageWindows('cx-1')).toEqual(windows);
      await settle();
      const b = await instance(store, 'instance-b', [acc]);
      expect(b.health.localUsageWindows('cx-1')).toEqual([]);
      expect((await b.health.usageWindows(['cx-1', 'other'])).get('cx-1')).toEqual(windows);
      expect((await b.health.usageWindows(['other'])).get('other')).toEqual([]);
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });

    it('should write a burst once, then its last reading when the interval ends', async () => {
      const setValue = jest.spyOn(a.coordinator, 'setValue');
      const acc = codex();
      a.health.observeResponse(acc, codexHeaders(10, 1));
      a.health.observeResponse(acc, codexHeaders(11, 1));
      a.health.observeResponse(acc, codexHeaders(12, 1));
      expect(setValue).toHaveBeenCalledTimes(1);

      jest.advanceTimersByTime(USAGE_SHARE_INTERVAL_MS);
      expect(setValue).toHaveBeenCalledTimes(2);
      const [key, value, ttl] = setValue.mock.calls[1] ?? [];
      expect(key).toBe(accountKeys.usageWindows('cx-1'));
      expect(JSON.parse(value ?? '{}').windows[0].usedPercent).toBe(12);
      // Kept until the later window resets (written 10 s after it was read).
      expect(ttl).toBe(86_400_000 - USAGE_SHARE_INTERVAL_MS);
    });

    it('should answer the newer of its own and the shared reading', async () => {
      const acc = codex();
      const b = await instance(store, 'instance-b', [acc]);
      b.health.observeResponse(acc, codexHeaders(10, 1));
      jest.setSystemTime(T0 + 1000);
      a.health.observeResponse(acc, codexHeaders(30, 2));
      // a's reading is newer than b's own, and a shared it at once.
      expect((await b.health.usageWindows(['cx-1'])).get('cx-1')?.[0]?.usedPercent).toBe(30);
      expect((await a.health.usageWindows(['cx-1'])).get('cx-1')?.[0]?.usedPercent).toBe(30);
      await b.health.onModuleDestroy();
      await b.coordinator.close();
    });

    it('should leave out windows whose reset has passed', () => {
      a.health.observeResponse(codex(), codexHeaders(99, 50));
      expect(a.health.localUsageWindows('cx-1', T0 + 3_600_000).map((w) => w.name)).toEqual([
        'weekly',
      ]);
    });

    it('should do nothing when the response reports no window', () => {
      const setValue = jest.spyOn(a.coordinator, 'setValue');
      a.health.observeResponse(a.accounts[0], { 'anthropic-ratelimit-requests-remaining': '5' });
      a.health.observeResponse(codex(), { 'content-type': 'text/event-stream' });
      expect(setValue).not.toHaveBeenCalled();
      expect(a.health.localUsageWindows('acc-1')).toEqual([]);
    });

    it("should read Claude's 5-hour and weekly windows", () => {
      a.health.observeResponse(a.accounts[0], {
        'anthropic-ratelimit-unified-5h-utilization': '0.42',
        'anthropic-ratelimit-unified-5h-reset': String((T0 + 7_200_000) / 1000),
        'anthropic-ratelimit-unified-7d-utilization': '0.18',
        'anthropic-ratelimit-unified-7d-reset': String((T0 + 172_800_000) / 1000),
      });
      expect(a.health.localUsageWindows('acc-1')).toEqual([
        { name: '5h', usedPercent: 42, resetsAt: T0 + 7_200_000, windowMinutes: 300 },
        { name: 'weekly', usedPercent: 18, resetsAt: T0 + 172_800_000, windowMinutes: 10_080 },
      ]);
    });

    it('should drop the windows of a deleted account everywhere', async () => {
      a.health.observeResponse(codex(), codexHeaders(10, 1));
      await a.health.forget('cx-1');
      expect(a.health.localUsageWindows('cx-1')).toEqual([]);
      expect(await a.coordinator.getValue(accountKeys.usageWindows('cx-1'))).toBeNull();
    });
  });

  describe('history', () => {
    it('should trim each touched account to the configured length off the request path', async () => {
      const acc = a.accounts[0];
      await a.health.record(acc, { kind: 'overloaded', status: 529 });
      expect(a.events.rows).toHaveLength(0);

      await a.health.flush();

      expect(a.events.rows).toHaveLength(1);
      expect(a.events.trims).toEqual([{ accountId: 'acc-1', keep: 50 }]);
    });
  });
});

describe(resolveRateLimitScope.name, () => {
  it("should derive the family from the model when the scope is 'model'", () => {
    expect(resolveRateLimitScope('model', 'claude-opus-4-1', anthropicModelFamily)).toBe('opus');
    expect(resolveRateLimitScope('model', undefined, anthropicModelFamily)).toBe('account');
    expect(resolveRateLimitScope('haiku', 'claude-opus-4-1', anthropicModelFamily)).toBe('haiku');
  });
});

describe('HEALTH_SCOPES', () => {
  it("should hold 'account' and every model family of the registered types once", () => {
    expect(HEALTH_SCOPES).toEqual([
      'account',
      'opus',
      'sonnet',
      'haiku',
      'other',
      'pro',
      'flash',
      'flash-lite',
    ]);
  });
});
