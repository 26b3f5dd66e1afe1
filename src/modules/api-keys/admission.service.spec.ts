import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import type {
  AdmitRequest,
  AdmitResult,
  Coordinator,
  SettleRequest,
} from 'src/infra/coordination/coordinator.port';
import type { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { apiKeyPolicy } from '../../../test/factories/api-key-policy.factory';
import { Admission, AdmissionService } from './admission.service';
import { KeyRejectionCode, type ApiKeyLimits, type ApiKeyPolicy } from './api-key.types';
import { ApiKeyException } from './api-keys.exception';

const LEASE_TTL_MS = 30_000;
const MINUTE = 60_000;
const DAY = 86_400_000;
const NOW = Date.parse('2025-01-31T12:00:00.000Z');

type MockCoordinator = jest.Mocked<
  Pick<Coordinator, 'admit' | 'settle' | 'renewLease' | 'countLeases'>
>;

function mockCoordinator(): MockCoordinator {
  return {
    admit: jest.fn(async (request: AdmitRequest): Promise<AdmitResult> => ({
      ok: true,
      values: request.counters.map((c) => c.amount),
      resetAtMs: request.counters.map((c) => (c.ttlMs === undefined ? null : NOW + c.ttlMs)),
    })),
    settle: jest.fn(async (_request: SettleRequest) => undefined),
    renewLease: jest.fn(async (_key: string, _leaseId: string, _ttlMs: number) => true),
    countLeases: jest.fn(async (_key: string) => 0),
  };
}

function policy(limits: ApiKeyLimits): ApiKeyPolicy {
  return apiKeyPolicy({ id: 'key1', limits });
}

const FULL_LIMITS: ApiKeyLimits = {
  windowMinutes: 5,
  windowRequests: 10,
  windowTokens: 100_000,
  windowCostMicros: 2_000_000,
  concurrency: 3,
  dailyCostMicros: 10_000_000,
  weeklyCostMicros: 50_000_000,
  weeklyResetDay: 1,
  weeklyResetHour: 0,
  totalCostMicros: 500_000_000,
};

const REQUEST = { requestId: 'req-1', model: 'claude-sonnet-4-5', estimatedCostMicros: 1500 };

describe(AdmissionService.name, () => {
  let coordinator: MockCoordinator;
  let service: AdmissionService;

  beforeEach(() => {
    jest.useFakeTimers();
    jest.setSystemTime(NOW);
    coordinator = mockCoordinator();
    const config = new ConfigService({ LEASE_TTL_MS } as EnvironmentSchema);
    service = new AdmissionService(coordinator as unknown as Coordinator, config);
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('admit', () => {
    it('should not call the coordinator when the key has no limits', async () => {
      const admission = await service.admit(policy({}), REQUEST);
      await admission.settle({ tokens: 10, costMicros: 10 });

      expect(coordinator.admit).not.toHaveBeenCalled();
      expect(coordinator.settle).not.toHaveBeenCalled();
      expect(admission.rateLimit).toBeNull();
    });

    it('should read the value to touch in the same call and hand it on when the key has a limit', async () => {
      coordinator.admit.mockImplementationOnce(async (request) => ({
        ok: true,
        values: request.counters.map((c) => c.amount),
        resetAtMs: request.counters.map(() => null),
        touched: 'acct-7',
      }));
      const touch = { key: 'k:{key1}:sticky:s1', ttlMs: 3_600_000 };

      const admission = await service.admit(policy({ concurrency: 2 }), { ...REQUEST, touch });

      expect(coordinator.admit).toHaveBeenCalledTimes(1);
      expect(coordinator.admit.mock.calls[0]?.[0].touch).toEqual(touch);
      expect(admission.touched).toBe('acct-7');
    });

    it('should leave the value unread when the key has no limit to check', async () => {
      const touch = { key: 'k:{key1}:sticky:s1', ttlMs: 3_600_000 };

      const admission = await service.admit(policy({}), { ...REQUEST, touch });

      expect(coordinator.admit).not.toHaveBeenCalled();
      expect(admission.touched).toBeUndefined();
    });

    it('should send every window, budget and the lease in one call when every limit is set', async () => {
      await service.admit(policy(FULL_LIMITS), REQUEST);

      expect(coordinator.admit).toHaveBeenCalledTimes(1);
      expect(coordinator.admit.mock.calls[0][0]).toEqual({
        counters: [
          { key: 'k:{key1}:win:requests:5m', amount: 1, limit: 10, ttlMs: 5 * MINUTE },
          { key: 'k:{key1}:win:tokens:5m', amount: 1, limit: 100_000, ttlMs: 5 * MINUTE },
          { key: 'k:{key1}:win:cost:5m', amount: 1500, limit: 2_000_000, ttlMs: 5 * MINUTE },
          {
            key: 'k:{key1}:budget:daily:2025-01-31',
            amount: 1500,
            limit: 10_000_000,
            ttlMs: 2 * DAY,
          },
          {
            key: 'k:{key1}:budget:weekly:2025-01-27T00',
            amount: 1500,
            limit: 50_000_000,
            ttlMs: 8 * DAY,
          },
          { key: 'k:{key1}:budget:total:all', amount: 1500, limit: 500_000_000 },
        ],
        lease: { key: 'k:{key1}:lease', leaseId: 'req-1', limit: 3, ttlMs: LEASE_TTL_MS },
      });
    });

    it('should reserve one micro-dollar when the estimate is zero or not a number', async () => {
      await service.admit(policy({ totalCostMicros: 100 }), {
        ...REQUEST,
        estimatedCostMicros: Number.NaN,
      });
      expect(coordinator.admit.mock.calls[0][0].counters[0]).toMatchObject({ amount: 1 });
      coordinator.admit.mockClear();

      await service.admit(policy({ dailyCostMicros: 100 }), { ...REQUEST, estimatedCostMicros: 0 });

      expect(coordinator.admit.mock.calls[0][0].counters[0]).toMatchObject({
        amount: 1,
        limit: 100,
      });
    });

    it('should report the request window for rate-limit headers when admitted', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: true,
        values: [4],
        resetAtMs: [NOW + 90_000],
      });

      const admission = await service.admit(
        policy({ windowMinutes: 5, windowRequests: 10 }),
        REQUEST,
      );

      expect(admission.rateLimit).toEqual({
        metric: 'requests',
        limit: 10,
        remaining: 6,
        resetAtMs: NOW + 90_000,
      });
    });

    it('should throw WINDOW_LIMIT with rate-limit info when the request window is full', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'counter', index: 0, current: 10, limit: 10, resetAtMs: NOW + 42_000 },
        values: [10],
        resetAtMs: [NOW + 42_000],
      });

      const error = await service
        .admit(policy({ windowMinutes: 5, windowRequests: 10 }), REQUEST)
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(ApiKeyException);
      expect(error).toMatchObject({
        code: KeyRejectionCode.WINDOW_LIMIT,
        status: 429,
        rateLimit: { metric: 'requests', limit: 10, remaining: 0, resetAtMs: NOW + 42_000 },
      });
    });

    it('should throw WINDOW_LIMIT naming tokens when the token window is used up', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'counter', index: 0, current: 5000, limit: 5000, resetAtMs: null },
        values: [5000],
        resetAtMs: [null],
      });

      await expect(
        service.admit(policy({ windowMinutes: 1, windowTokens: 5000 }), REQUEST),
      ).rejects.toMatchObject({
        code: KeyRejectionCode.WINDOW_LIMIT,
        message: expect.stringContaining('5000 tokens per 1 min'),
        rateLimit: { metric: 'tokens', remaining: 0, resetAtMs: NOW + MINUTE },
      });
    });

    it('should throw BUDGET_EXHAUSTED naming the cap, the spend and the reset when a budget is full', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: {
          kind: 'counter',
          index: 0,
          current: 9_999_000,
          limit: 10_000_000,
          resetAtMs: null,
        },
        values: [9_999_000],
        resetAtMs: [null],
      });

      const error = await service
        .admit(policy({ dailyCostMicros: 10_000_000 }), REQUEST)
        .catch((e: unknown) => e);

      expect(error).toMatchObject({
        code: KeyRejectionCode.BUDGET_EXHAUSTED,
        status: 402,
        budget: {
          cap: 'daily',
          limitMicros: 10_000_000,
          spentMicros: 9_999_000,
          requestMicros: 1500,
          resetAtMs: Date.parse('2025-02-01T00:00:00.000Z'),
        },
      });
      expect((error as Error).message).toBe(
        'daily budget $10.00: spent $9.9990 (including requests in flight); this request could ' +
          'cost up to $0.0015 (on claude-sonnet-4-5), more than the $0.0010 left, which the ' +
          "key's strict reservation policy does not allow; it resets at " +
          '2025-02-01T00:00:00.000Z; lower max_tokens or ask an admin for the estimate policy ' +
          'or a higher budget',
      );
    });

    it('should say the request alone is over the budget when its worst case is', async () => {
      // Claude Code's default request: 64,000 max_tokens on Opus, against a $1 daily budget.
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'counter', index: 0, current: 0, limit: 1_000_000, resetAtMs: null },
        values: [0],
        resetAtMs: [null],
      });
      const error = await service
        .admit(policy({ dailyCostMicros: 1_000_000 }), {
          requestId: 'req-cc',
          model: 'claude-opus-4-5',
          estimatedCostMicros: 1_730_000,
          maxTokens: 64_000,
        })
        .catch((e: unknown) => e);
      expect((error as Error).message).toBe(
        'daily budget $1.00: spent $0.00 (including requests in flight); this request could ' +
          'cost up to $1.73 (64000 max_tokens on claude-opus-4-5), more than the whole budget, ' +
          "which the key's strict reservation policy does not allow; it resets at " +
          '2025-02-01T00:00:00.000Z; lower max_tokens or ask an admin for the estimate policy ' +
          'or a higher budget',
      );
    });

    it('should reserve a share of the worst case learnt from recent requests when the key uses the estimate policy', async () => {
      const estimating = apiKeyPolicy({
        id: 'key-est',
        limits: { dailyCostMicros: 1_000_000 },
        reservationPolicy: 'estimate',
      });
      const worst = { ...REQUEST, estimatedCostMicros: 1_730_000, maxTokens: 64_000 };
      const first = await service.admit(estimating, worst);
      // No history yet: half of the worst case, which a $1 budget can hold.
      expect(first.reservedCostMicros).toBe(865_000);
      await first.settle({ tokens: 2000, costMicros: 17_300 });
      const second = await service.admit(estimating, { ...worst, requestId: 'req-2' });
      // 0.5 + 0.2 x (0.01 - 0.5) = 0.402 of the worst case.
      expect(second.reservedCostMicros).toBe(695_460);
      await second.release();
      // A request that never reached an upstream teaches nothing.
      const third = await service.admit(estimating, { ...worst, requestId: 'req-3' });
      expect(third.reservedCostMicros).toBe(695_460);
    });

    it('should reserve the whole worst case when the key uses the strict policy', async () => {
      const admission = await service.admit(policy({ dailyCostMicros: 10_000_000 }), {
        ...REQUEST,
        estimatedCostMicros: 1_730_000,
      });
      expect(admission.reservedCostMicros).toBe(1_730_000);
    });

    it('should throw CONCURRENCY_LIMIT with a short retry when every lease is taken', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'lease', current: 3, limit: 3, retryAtMs: NOW + LEASE_TTL_MS },
        values: [],
        resetAtMs: [],
      });

      await expect(service.admit(policy({ concurrency: 3 }), REQUEST)).rejects.toMatchObject({
        code: KeyRejectionCode.CONCURRENCY_LIMIT,
        status: 429,
        rateLimit: { metric: 'concurrency', limit: 3, remaining: 0, resetAtMs: NOW + 1000 },
      });
    });
  });

  describe('key.window_limit notification', () => {
    let emit: jest.Mock<Promise<boolean>, Parameters<NotificationOutbox['emit']>>;
    let notifying: AdmissionService;
    const windowFull = (resetAtMs: number | null): AdmitResult => ({
      ok: false,
      rejection: { kind: 'counter', index: 0, current: 10, limit: 10, resetAtMs },
      values: [10],
      resetAtMs: [resetAtMs],
    });
    const keyPolicy = () =>
      apiKeyPolicy({
        id: 'key1',
        name: 'ci-bot',
        limits: { windowMinutes: 5, windowRequests: 10 },
      });

    beforeEach(() => {
      emit = jest.fn<Promise<boolean>, Parameters<NotificationOutbox['emit']>>(async () => true);
      const config = new ConfigService({ LEASE_TTL_MS } as EnvironmentSchema);
      notifying = new AdmissionService(coordinator as unknown as Coordinator, config, undefined, {
        emit,
      } as unknown as NotificationOutbox);
    });

    it('should raise one event for 20 refusals in the same window, with the window start in its dedupe key', async () => {
      // The window opened at NOW - 3 min and resets 2 min from now (the store's clock adds a ms).
      coordinator.admit.mockImplementation(async () =>
        windowFull(NOW + 2 * MINUTE + ((coordinator.admit.mock.calls.length + 1) % 2)),
      );

      const refusals = await Promise.all(
        Array.from({ length: 20 }, () => notifying.admit(keyPolicy(), REQUEST).catch((e) => e)),
      );

      expect(refusals.every((e) => e instanceof ApiKeyException)).toBe(true);
      expect(emit).toHaveBeenCalledTimes(1);
      expect(emit).toHaveBeenCalledWith({
        type: 'key.window_limit',
        dedupeKey: `key.window_limit:key1:requests:${NOW - 3 * MINUTE}`,
        at: NOW,
        severity: 'warning',
        title: 'API key "ci-bot" reached its request limit',
        message:
          "The key's limit of 10 requests per 5 min is used up; its requests are refused with " +
          '429 until the window resets at 2025-01-31T12:02:00.000Z. Raise the limit if this is ' +
          'expected traffic.',
        subject: { kind: 'api_key', id: 'key1', name: 'ci-bot' },
        data: {
          metric: 'requests',
          limit: 10,
          used: 10,
          windowMinutes: 5,
          windowStart: '2025-01-31T11:57:00.000Z',
          resetAt: '2025-01-31T12:02:00.000Z',
        },
      });
    });

    it('should raise another event when the next window fills', async () => {
      coordinator.admit.mockResolvedValueOnce(windowFull(NOW + MINUTE));
      await notifying.admit(keyPolicy(), REQUEST).catch(() => undefined);
      coordinator.admit.mockResolvedValueOnce(windowFull(NOW + 6 * MINUTE));
      await notifying.admit(keyPolicy(), REQUEST).catch(() => undefined);

      expect(emit.mock.calls.map(([event]) => event.dedupeKey)).toEqual([
        `key.window_limit:key1:requests:${NOW - 4 * MINUTE}`,
        `key.window_limit:key1:requests:${NOW + MINUTE}`,
      ]);
    });

    it('should raise no window event for an admitted request, a budget or a concurrency refusal', async () => {
      await notifying.admit(keyPolicy(), REQUEST);
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'lease', current: 3, limit: 3, retryAtMs: NOW + LEASE_TTL_MS },
        values: [],
        resetAtMs: [],
      });
      await notifying.admit(policy({ concurrency: 3 }), REQUEST).catch(() => undefined);
      coordinator.admit.mockResolvedValueOnce({
        ok: false,
        rejection: { kind: 'counter', index: 0, current: 10, limit: 10, resetAtMs: null },
        values: [10],
        resetAtMs: [null],
      });
      await notifying.admit(policy({ totalCostMicros: 10 }), REQUEST).catch(() => undefined);

      // The budget refusal raises its own `key.budget_exhausted` (BudgetAlerts), never a window event.
      const types = emit.mock.calls.map(([event]) => (event as { type: string }).type);
      expect(types).toEqual(['key.budget_exhausted']);
    });

    it('should refuse at once even when the outbox write hangs or fails', async () => {
      emit.mockImplementationOnce(() => new Promise<boolean>(() => undefined));
      coordinator.admit.mockResolvedValueOnce(windowFull(NOW + MINUTE));
      await expect(notifying.admit(keyPolicy(), REQUEST)).rejects.toMatchObject({
        code: KeyRejectionCode.WINDOW_LIMIT,
      });
      emit.mockRejectedValueOnce(new Error('database down'));
      coordinator.admit.mockResolvedValueOnce({
        ...windowFull(NOW + MINUTE),
        rejection: { kind: 'counter', index: 0, current: 9, limit: 9, resetAtMs: NOW + MINUTE },
      });
      await expect(
        notifying.admit(
          apiKeyPolicy({ id: 'key2', limits: { windowMinutes: 5, windowTokens: 9 } }),
          REQUEST,
        ),
      ).rejects.toMatchObject({ code: KeyRejectionCode.WINDOW_LIMIT });
    });
  });

  describe('settle', () => {
    it('should add actual tokens and cost minus the reservation and free the lease in one call', async () => {
      const admission = await service.admit(policy(FULL_LIMITS), REQUEST);

      await admission.settle({ tokens: 800, costMicros: 1000 });

      expect(coordinator.settle).toHaveBeenCalledTimes(1);
      expect(coordinator.settle.mock.calls[0][0]).toEqual({
        counters: [
          { key: 'k:{key1}:win:tokens:5m', amount: 799, ttlMs: 5 * MINUTE },
          { key: 'k:{key1}:win:cost:5m', amount: -500, ttlMs: 5 * MINUTE },
          { key: 'k:{key1}:budget:daily:2025-01-31', amount: -500, ttlMs: 2 * DAY },
          { key: 'k:{key1}:budget:weekly:2025-01-27T00', amount: -500, ttlMs: 8 * DAY },
          { key: 'k:{key1}:budget:total:all', amount: -500, ttlMs: undefined },
        ],
        lease: { key: 'k:{key1}:lease', leaseId: 'req-1' },
      } satisfies SettleRequest);
    });

    it('should do nothing when called a second time', async () => {
      const admission = await service.admit(policy(FULL_LIMITS), REQUEST);

      await Promise.all([
        admission.settle({ tokens: 1, costMicros: 1 }),
        admission.settle({ tokens: 1, costMicros: 1 }),
      ]);
      await admission.release();

      expect(coordinator.settle).toHaveBeenCalledTimes(1);
      expect(admission.settled).toBe(true);
    });

    it('should drop refunds to a window that has ended when the response outlived it', async () => {
      const admission = await service.admit(
        policy({ windowMinutes: 1, windowCostMicros: 10_000, dailyCostMicros: 10_000_000 }),
        REQUEST,
      );
      jest.advanceTimersByTime(2 * MINUTE);

      await admission.settle({ tokens: 0, costMicros: 500 });

      // The window's reservation expired with it; only the daily counter gets its refund.
      expect(coordinator.settle.mock.calls[0][0].counters).toEqual([
        { key: 'k:{key1}:budget:daily:2025-01-31', amount: -1000, ttlMs: 2 * DAY },
      ]);
    });

    it('should still charge an overrun to a window that has ended when actual exceeds the estimate', async () => {
      const admission = await service.admit(
        policy({ windowMinutes: 1, windowCostMicros: 10_000 }),
        REQUEST,
      );
      jest.advanceTimersByTime(2 * MINUTE);

      await admission.settle({ tokens: 0, costMicros: 2000 });

      expect(coordinator.settle.mock.calls[0][0].counters).toEqual([
        { key: 'k:{key1}:win:cost:1m', amount: 500, ttlMs: MINUTE },
      ]);
    });

    it('should refund the whole reservation and the token placeholder when released', async () => {
      const admission = await service.admit(policy(FULL_LIMITS), REQUEST);

      await admission.release();

      expect(coordinator.settle.mock.calls[0][0].counters.map((c) => c.amount)).toEqual([
        -1, -1500, -1500, -1500, -1500,
      ]);
    });

    it('should resolve and log when the coordinator fails', async () => {
      const admission = await service.admit(policy({ concurrency: 1 }), REQUEST);
      coordinator.settle.mockRejectedValueOnce(new Error('redis down'));
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);

      await expect(admission.settle({ tokens: 1, costMicros: 1 })).resolves.toBeUndefined();
      expect(warn).toHaveBeenCalledWith(
        expect.objectContaining({ keyId: 'key1', requestId: 'req-1' }),
        expect.stringContaining('lease will expire by TTL'),
      );
      warn.mockRestore();
    });

    it('should treat negative or non-finite actuals as zero', async () => {
      const admission = await service.admit(policy({ totalCostMicros: 100_000 }), REQUEST);

      await admission.settle({ tokens: Number.NaN, costMicros: -5 });

      expect(coordinator.settle.mock.calls[0][0].counters).toEqual([
        { key: 'k:{key1}:budget:total:all', amount: -1500, ttlMs: undefined },
      ]);
    });
  });

  describe('startRenewing', () => {
    it('should renew the lease every third of its TTL until stopped', async () => {
      const admission = await service.admit(policy({ concurrency: 2 }), REQUEST);
      const stop = admission.startRenewing();
      expect(service.renewingCount).toBe(1);

      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);
      expect(coordinator.renewLease).toHaveBeenCalledTimes(3);
      expect(coordinator.renewLease).toHaveBeenCalledWith('k:{key1}:lease', 'req-1', LEASE_TTL_MS);

      stop();
      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);
      expect(coordinator.renewLease).toHaveBeenCalledTimes(3);
      expect(service.renewingCount).toBe(0);
    });

    it('should stop renewing when the admission is settled', async () => {
      const admission = await service.admit(policy({ concurrency: 2 }), REQUEST);
      admission.startRenewing();

      await admission.settle({ tokens: 0, costMicros: 0 });
      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);

      expect(coordinator.renewLease).not.toHaveBeenCalled();
      expect(service.renewingCount).toBe(0);
    });

    it('should keep renewing when one renewal fails', async () => {
      const admission = await service.admit(policy({ concurrency: 2 }), REQUEST);
      coordinator.renewLease.mockRejectedValueOnce(new Error('timeout'));
      const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
      admission.startRenewing();

      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);

      expect(coordinator.renewLease).toHaveBeenCalledTimes(3);
      expect(warn).toHaveBeenCalledTimes(1);
      warn.mockRestore();
      await admission.release();
    });

    it('should do nothing when the key has no concurrency limit', async () => {
      const admission = await service.admit(policy({ dailyCostMicros: 5 }), REQUEST);
      admission.startRenewing();

      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);

      expect(coordinator.renewLease).not.toHaveBeenCalled();
      expect(await admission.renew()).toBe(true);
    });
  });

  describe('getBudgetStatus', () => {
    it('should read every counter with zero amounts and count the leases', async () => {
      coordinator.admit.mockResolvedValueOnce({
        ok: true,
        values: [3, 1200, 400, 7_000_000, 9_000_000, 20_000_000],
        resetAtMs: [NOW + 1000, NOW + 1000, NOW + 1000, NOW + DAY, NOW + DAY, null],
      });
      coordinator.countLeases.mockResolvedValueOnce(2);

      const status = await service.getBudgetStatus(policy(FULL_LIMITS));

      expect(coordinator.admit.mock.calls[0][0].counters.every((c) => c.amount === 0)).toBe(true);
      expect(coordinator.admit.mock.calls[0][0].lease).toBeUndefined();
      expect(status).toEqual({
        window: {
          windowMinutes: 5,
          resetAtMs: NOW + 1000,
          requests: { limit: 10, used: 3 },
          tokens: { limit: 100_000, used: 1200 },
          costMicros: { limit: 2_000_000, used: 400 },
        },
        daily: {
          limitMicros: 10_000_000,
          spentMicros: 7_000_000,
          resetAtMs: Date.parse('2025-02-01T00:00:00Z'),
        },
        weekly: {
          limitMicros: 50_000_000,
          spentMicros: 9_000_000,
          resetAtMs: Date.parse('2025-02-03T00:00:00Z'),
        },
        total: { limitMicros: 500_000_000, spentMicros: 20_000_000, resetAtMs: null },
        concurrency: { limit: 3, active: 2 },
      });
    });

    it('should not call the coordinator when the key has no limits', async () => {
      expect(await service.getBudgetStatus(policy({}))).toEqual({});
      expect(coordinator.admit).not.toHaveBeenCalled();
    });
  });

  describe('onApplicationShutdown', () => {
    it('should stop renewing leases of requests still in flight', async () => {
      const admission = await service.admit(policy({ concurrency: 2 }), REQUEST);
      admission.startRenewing();

      service.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(LEASE_TTL_MS);

      expect(coordinator.renewLease).not.toHaveBeenCalled();
      expect(admission).toBeInstanceOf(Admission);
    });
  });
});
