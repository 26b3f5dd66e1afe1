import { coordinationKeys as keys } from 'src/infra/coordination/coordination.keys';
import { CoordinationExceptionCode } from 'src/infra/coordination/coordination.exception';
import type { AdmitRequest, Coordinator } from 'src/infra/coordination/coordinator.port';

/** Coordinators sharing one backing store, as separate relay instances would. */
export interface CoordinatorFixture {
  instances: Coordinator[];
  /** The store's clock in epoch ms. */
  now(): number;
  /** Lets time pass: moves an injected clock, or really waits. */
  elapse(ms: number): Promise<void>;
  /** Closes every instance and removes whatever the fixture stored. */
  teardown(): Promise<void>;
}

export type CoordinatorFactory = (instanceCount: number) => Promise<CoordinatorFixture>;

export interface CoordinatorContractOptions {
  /**
   * The short TTL the expiry tests use (default 400 ms). A fixture whose clock really runs
   * (Redis) passes a longer one: "still there a STEP later" holds only if the machine does not
   * stall for the TTL minus the STEP, so that margin must cover a loaded machine.
   */
  shortTtlMs?: number;
}

const LONG_TTL = 60_000;
/** Redis stamps expiries with its own clock; allow for the round trip. */
const CLOCK_TOLERANCE_MS = 1000;

const KEY_ID = 'key1';
const rpm = keys.keyWindow(KEY_ID, 'rpm');
const tpm = keys.keyWindow(KEY_ID, 'tpm');
const budget = keys.keyBudget(KEY_ID, 'day', '2025-01-31');
const lease = keys.keyLease(KEY_ID);

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/**
 * actual is expected (a time read before the call, plus a TTL) give or take the clock tolerance;
 * later by at most `slack` more, the time the test has run since, which a loaded machine may
 * stretch without anything being wrong.
 */
function expectAround(actual: number | null | undefined, expected: number, slack = 0): void {
  expect(actual).toEqual(expect.any(Number));
  expect(actual as number).toBeGreaterThanOrEqual(expected - CLOCK_TOLERANCE_MS);
  expect(actual as number).toBeLessThanOrEqual(expected + CLOCK_TOLERANCE_MS + slack);
}

function leaseOnly(leaseId: string, limit: number, ttlMs = LONG_TTL): AdmitRequest {
  return { counters: [], lease: { key: lease, leaseId, limit, ttlMs } };
}

/** Collects messages; next() waits (bounded) for the following one. */
function collector(): {
  handler: (message: string) => void;
  messages: string[];
  next(): Promise<string>;
} {
  const messages: string[] = [];
  const waiters: ((message: string) => void)[] = [];
  return {
    messages,
    handler: (message) => {
      messages.push(message);
      waiters.shift()?.(message);
    },
    next: () =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 15 s')), 15_000);
        waiters.push((message) => {
          clearTimeout(timer);
          resolve(message);
        });
      }),
  };
}

/**
 * The behaviour every Coordinator must show. Run once per implementation with a factory that
 * builds instances over one shared store.
 */
export function coordinatorContract(
  name: string,
  factory: CoordinatorFactory,
  options: CoordinatorContractOptions = {},
): void {
  const TTL = options.shortTtlMs ?? 400;
  // Past the TTL after two steps, within it after one.
  const STEP = Math.round(TTL * 0.625);
  const PAST_TTL = Math.round(TTL * 1.375);

  describe(name, () => {
    let fixture: CoordinatorFixture;
    let a: Coordinator;
    let b: Coordinator;
    let startedAt: number;

    beforeEach(async () => {
      fixture = await factory(2);
      [a, b] = fixture.instances;
      startedAt = fixture.now();
    });

    /** How long the test has run by the fixture's clock: how late a reset time may be. */
    const sinceStart = (): number => fixture.now() - startedAt;

    afterEach(async () => {
      await fixture.teardown();
    });

    describe('admit', () => {
      it('should apply every counter when every limit holds', async () => {
        const t0 = fixture.now();
        const request: AdmitRequest = {
          counters: [
            { key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL },
            { key: tpm, amount: 500, limit: 1000, ttlMs: LONG_TTL },
            { key: budget, amount: 7 },
          ],
        };

        const first = await a.admit(request);
        const second = await b.admit(request);

        expect(first).toMatchObject({ ok: true, values: [1, 500, 7] });
        expect(first.rejection).toBeUndefined();
        expectAround(first.resetAtMs[0], t0 + LONG_TTL, sinceStart());
        expect(first.resetAtMs[2]).toBeNull();
        expect(second).toMatchObject({ ok: true, values: [2, 1000, 14] });
        expect(await a.getCounters([rpm, tpm, budget, keys.keyWindow(KEY_ID, 'x')])).toEqual([
          2, 1000, 14, 0,
        ]);
      });

      it('should apply nothing and report the failing counter when one would exceed', async () => {
        await a.admit({ counters: [{ key: tpm, amount: 900, limit: 1000, ttlMs: LONG_TTL }] });
        const t0 = fixture.now();

        const result = await b.admit({
          counters: [
            { key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL },
            { key: tpm, amount: 200, limit: 1000, ttlMs: LONG_TTL },
          ],
          lease: { key: lease, leaseId: 'r1', limit: 5, ttlMs: LONG_TTL },
        });

        expect(result.ok).toBe(false);
        expect(result.rejection).toMatchObject({
          kind: 'counter',
          index: 1,
          current: 900,
          limit: 1000,
        });
        expectAround(
          result.rejection?.kind === 'counter' ? result.rejection.resetAtMs : null,
          t0 + LONG_TTL,
          sinceStart(),
        );
        expect(result.values).toEqual([0, 900]);
        expect(await a.getCounters([rpm, tpm])).toEqual([0, 900]);
        expect(await a.countLeases(lease)).toBe(0);
      });

      it('should report the earliest lease expiry when the lease limit is reached', async () => {
        const t0 = fixture.now();
        await a.admit(leaseOnly('r1', 2, LONG_TTL));
        await b.admit(leaseOnly('r2', 2, LONG_TTL * 2));

        const result = await a.admit({
          counters: [{ key: rpm, amount: 1, limit: 10 }],
          lease: { key: lease, leaseId: 'r3', limit: 2, ttlMs: LONG_TTL },
        });

        expect(result.ok).toBe(false);
        expect(result.rejection).toMatchObject({ kind: 'lease', current: 2, limit: 2 });
        expectAround(
          result.rejection?.kind === 'lease' ? result.rejection.retryAtMs : null,
          t0 + LONG_TTL,
          sinceStart(),
        );
        expect(await b.getCounters([rpm])).toEqual([0]);
      });

      it('should start a new window when the window counter has expired', async () => {
        const op = { key: rpm, amount: 1, limit: 2, ttlMs: TTL };
        expect((await a.admit({ counters: [op] })).ok).toBe(true);
        expect((await b.admit({ counters: [op] })).ok).toBe(true);
        expect((await a.admit({ counters: [op] })).rejection).toMatchObject({ current: 2 });

        await fixture.elapse(PAST_TTL);
        const t1 = fixture.now();
        const fresh = await b.admit({ counters: [op] });

        expect(fresh).toMatchObject({ ok: true, values: [1] });
        expectAround(fresh.resetAtMs[0], t1 + TTL, sinceStart());
      });

      it('should neither create nor time a counter when the amount is 0', async () => {
        const read = await a.admit({ counters: [{ key: rpm, amount: 0, limit: 5, ttlMs: TTL }] });
        await fixture.elapse(STEP);
        const t1 = fixture.now();
        const write = await b.admit({ counters: [{ key: rpm, amount: 1, limit: 5, ttlMs: TTL }] });

        expect(read).toEqual({ ok: true, values: [0], resetAtMs: [null] });
        // The window opens with the first real increment, not with the read before it.
        expectAround(write.resetAtMs[0], t1 + TTL, sinceStart());
      });

      it('should admit exactly the lease limit when 200 admits race', async () => {
        const results = await Promise.all(
          range(200).map((i) => (i % 2 ? a : b).admit(leaseOnly(`r${i}`, 10))),
        );

        expect(results.filter((result) => result.ok)).toHaveLength(10);
        expect(await a.countLeases(lease)).toBe(10);
      });

      it('should admit exactly the counter limit when 200 admits race', async () => {
        const results = await Promise.all(
          range(200).map((i) =>
            (i % 2 ? a : b).admit({
              counters: [{ key: rpm, amount: 1, limit: 37, ttlMs: LONG_TTL }],
            }),
          ),
        );

        expect(results.filter((result) => result.ok)).toHaveLength(37);
        expect(await b.getCounters([rpm])).toEqual([37]);
      });

      it('should read and touch a value in the same call when it admits', async () => {
        const sticky = keys.sticky(KEY_ID, 'session-1');
        const touch = { key: sticky, ttlMs: TTL };
        const missing = await a.admit({
          counters: [{ key: rpm, amount: 1, ttlMs: LONG_TTL }],
          touch,
        });
        expect(missing).toMatchObject({ ok: true, values: [1], touched: null });

        await a.setValue(sticky, 'acc1', TTL);
        await fixture.elapse(STEP);
        const withLease = await b.admit({
          counters: [{ key: rpm, amount: 1, ttlMs: LONG_TTL }],
          lease: { key: lease, leaseId: 'r1', limit: 5, ttlMs: LONG_TTL },
          touch,
        });
        const leaseless = await a.admit({ counters: [], touch });
        await fixture.elapse(STEP);

        expect(withLease).toMatchObject({ ok: true, values: [2], touched: 'acc1' });
        expect(leaseless).toMatchObject({ ok: true, touched: 'acc1' });
        // Touched STEP ago: still there although set 2 x STEP ago, more than the TTL.
        expect(await a.getValue(sticky)).toBe('acc1');
        expect((await a.admit({ counters: [] })).touched).toBeUndefined();
      });

      it('should neither read nor touch the value when it refuses', async () => {
        const sticky = keys.sticky(KEY_ID, 'session-2');
        await a.setValue(sticky, 'acc1', TTL);
        await fixture.elapse(STEP);

        const refused = await b.admit({
          counters: [{ key: rpm, amount: 2, limit: 1, ttlMs: LONG_TTL }],
          touch: { key: sticky, ttlMs: LONG_TTL },
        });
        await fixture.elapse(STEP);

        expect(refused.ok).toBe(false);
        expect(refused.touched).toBeUndefined();
        expect(await a.getValue(sticky)).toBeNull();
      });

      it('should reject the request when its keys do not share one hash tag', async () => {
        const request: AdmitRequest = {
          counters: [{ key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL }],
          lease: { key: keys.keyLease('key2'), leaseId: 'r1', limit: 1, ttlMs: LONG_TTL },
        };

        await expect(a.admit(request)).rejects.toMatchObject({
          code: CoordinationExceptionCode.INVALID_ARGUMENT,
        });
        await expect(
          a.settle({
            counters: [{ key: keys.keyWindow('key2', 'rpm'), amount: 1 }],
            lease: { key: lease, leaseId: 'r1' },
          }),
        ).rejects.toMatchObject({ code: CoordinationExceptionCode.INVALID_ARGUMENT });
        expect(await a.getCounters([rpm])).toEqual([0]);
        expect(await a.countLeases(keys.keyLease('key2'))).toBe(0);
      });

      it('should reject the request when an amount is not an integer', async () => {
        await expect(a.admit({ counters: [{ key: rpm, amount: 1.5 }] })).rejects.toMatchObject({
          code: CoordinationExceptionCode.INVALID_ARGUMENT,
        });
        expect(await a.getCounters([rpm])).toEqual([0]);
      });
    });

    describe('settle', () => {
      it('should apply adjustments and release the lease when settled in one call', async () => {
        const admitted = await a.admit({
          counters: [
            { key: tpm, amount: 1000, limit: 10_000, ttlMs: LONG_TTL },
            { key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL },
          ],
          lease: { key: lease, leaseId: 'r1', limit: 1, ttlMs: LONG_TTL },
        });
        expect(admitted.ok).toBe(true);
        const t0 = fixture.now();

        await a.settle({
          counters: [
            { key: tpm, amount: -800 },
            { key: budget, amount: 250, ttlMs: LONG_TTL },
          ],
          lease: { key: lease, leaseId: 'r1' },
        });

        expect(await b.getCounters([tpm, rpm, budget])).toEqual([200, 1, 250]);
        expect(await b.countLeases(lease)).toBe(0);
        const budgetRead = await b.admit({ counters: [{ key: budget, amount: 0 }] });
        expectAround(budgetRead.resetAtMs[0], t0 + LONG_TTL, sinceStart());
        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(true);
      });

      it('should apply every settle and free every lease when many are settled at once', async () => {
        // Two API keys: one batch mixes slots, each settle keeps to its own key's hash tag.
        const other = keys.keyWindow('key2', 'tpm');
        const otherLease = keys.keyLease('key2');
        const leaseOf = (i: number): string => (i % 2 ? lease : otherLease);
        for (const i of range(40)) {
          const admitted = await a.admit({
            counters: [],
            lease: { key: leaseOf(i), leaseId: `m${i}`, limit: 40, ttlMs: LONG_TTL },
          });
          expect(admitted.ok).toBe(true);
        }

        await Promise.all(
          range(40).map((i) =>
            a.settle({
              counters: [{ key: i % 2 ? tpm : other, amount: i, ttlMs: LONG_TTL }],
              lease: { key: leaseOf(i), leaseId: `m${i}` },
            }),
          ),
        );

        const odd = range(40)
          .filter((i) => i % 2)
          .reduce((n, i) => n + i, 0);
        const even = range(40)
          .filter((i) => i % 2 === 0)
          .reduce((n, i) => n + i, 0);
        expect(await b.getCounters([tpm, other])).toEqual([odd, even]);
        expect(await b.countLeases(lease)).toBe(0);
        expect(await b.countLeases(otherLease)).toBe(0);
      });

      it('should apply a settle before an admit or a read asked for right after it', async () => {
        expect((await a.admit(leaseOnly('first', 1))).ok).toBe(true);

        const settled = a.settle({ counters: [], lease: { key: lease, leaseId: 'first' } });
        const next = await a.admit(leaseOnly('second', 1));
        await settled;

        expect(next.ok).toBe(true);
        const adjusted = a.settle({ counters: [{ key: tpm, amount: 5, ttlMs: LONG_TTL }] });
        const read = await a.getCounters([tpm]);
        await adjusted;
        expect(read).toEqual([5]);
      });

      it('should still apply a settle that was asked for just before the instance closed', async () => {
        expect((await a.admit(leaseOnly('late', 1))).ok).toBe(true);
        const settled = a.settle({
          counters: [{ key: tpm, amount: 7, ttlMs: LONG_TTL }],
          lease: { key: lease, leaseId: 'late' },
        });

        await a.close();
        await settled;

        expect(await b.getCounters([tpm])).toEqual([7]);
        expect((await b.admit(leaseOnly('next', 1))).ok).toBe(true);
      });
    });

    describe('seeded counters', () => {
      const spend = keys.keyBudget(KEY_ID, 'daily', '2025-02-01');

      it('should refuse and apply nothing when a seeded counter has not been seeded', async () => {
        const result = await a.admit({
          counters: [
            { key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL },
            { key: spend, amount: 100, limit: 1000, ttlMs: LONG_TTL, seeded: true },
          ],
        });

        expect(result.ok).toBe(false);
        expect(result.rejection).toEqual({ kind: 'unseeded', index: 1 });
        expect(await b.getCounters([rpm, spend])).toEqual([0, 0]);
      });

      it('should add the seed once when instances race to seed the same counter', async () => {
        const seeded = await Promise.all([
          a.seedCounter(spend, 900, LONG_TTL),
          b.seedCounter(spend, 900, LONG_TTL),
        ]);

        expect(seeded.filter(Boolean)).toHaveLength(1);
        expect(await a.getCounters([spend])).toEqual([900]);
        expect(await a.seedCounter(spend, 50, LONG_TTL)).toBeNull();
        const over = await b.admit({
          counters: [{ key: spend, amount: 101, limit: 1000, ttlMs: LONG_TTL, seeded: true }],
        });
        expect(over.rejection).toMatchObject({ kind: 'counter', current: 900, limit: 1000 });
        const admitted = await b.admit({
          counters: [
            { key: rpm, amount: 1, limit: 10, ttlMs: LONG_TTL },
            { key: spend, amount: 100, limit: 1000, ttlMs: LONG_TTL, seeded: true },
          ],
        });
        expect(admitted.ok).toBe(true);
        expect(admitted.values).toEqual([1, 1000]);
        expect(admitted.generations).toEqual([null, expect.any(String)]);
      });

      it('should seed a zero spend so that the next admit counts from zero', async () => {
        expect(await a.seedCounter(spend, 0, LONG_TTL)).toEqual(expect.any(String));
        const admitted = await b.admit({
          counters: [{ key: spend, amount: 10, limit: 1000, ttlMs: LONG_TTL, seeded: true }],
        });
        expect(admitted.ok).toBe(true);
        expect(admitted.values).toEqual([10]);
        expectAround(admitted.resetAtMs[0], fixture.now() + LONG_TTL);
      });

      it('should correct the reservation when the seed is the one admitted under, and add the whole cost otherwise', async () => {
        await a.seedCounter(spend, 0, LONG_TTL);
        const admitted = await a.admit({
          counters: [{ key: spend, amount: 300, limit: 1000, ttlMs: LONG_TTL, seeded: true }],
        });
        const generation = admitted.generations?.[0] as string;

        await b.settle({
          counters: [{ key: spend, amount: -100, generation, unreserved: 200, ttlMs: LONG_TTL }],
        });
        expect(await a.getCounters([spend])).toEqual([200]);
        // Admitted under a seed the store has since lost: its reservation is not in the counter.
        await b.settle({
          counters: [
            { key: spend, amount: -100, generation: 'lost', unreserved: 200, ttlMs: LONG_TTL },
          ],
        });
        expect(await a.getCounters([spend])).toEqual([400]);
      });

      it('should keep a counter created by a settle unseeded, so it is still seeded before it counts', async () => {
        await a.settle({
          counters: [
            { key: spend, amount: -50, generation: 'lost', unreserved: 70, ttlMs: LONG_TTL },
          ],
        });
        expect(await b.getCounters([spend])).toEqual([70]);
        const refused = await b.admit({
          counters: [{ key: spend, amount: 1, limit: 1000, ttlMs: LONG_TTL, seeded: true }],
        });
        expect(refused.rejection).toEqual({ kind: 'unseeded', index: 0 });

        expect(await b.seedCounter(spend, 500, LONG_TTL)).toEqual(expect.any(String));
        expect(await a.getCounters([spend])).toEqual([570]);
      });
    });

    describe('leases', () => {
      it('should drop a lease when it is not renewed within its ttl', async () => {
        await a.admit(leaseOnly('r1', 1, TTL));
        expect(await b.countLeases(lease)).toBe(1);
        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(false);

        await fixture.elapse(PAST_TTL);

        expect(await b.countLeases(lease)).toBe(0);
        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(true);
      });

      it('should keep a lease past its first ttl when it is renewed', async () => {
        await a.admit(leaseOnly('r1', 1, TTL));
        await fixture.elapse(STEP);
        expect(await a.renewLease(lease, 'r1', TTL)).toBe(true);
        await fixture.elapse(STEP);

        expect(await b.countLeases(lease)).toBe(1);
        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(false);

        await fixture.elapse(TTL);
        expect(await b.countLeases(lease)).toBe(0);
      });

      it('should refuse to renew when the lease has expired or was released', async () => {
        await a.admit(leaseOnly('r1', 5, TTL));
        await a.admit(leaseOnly('r2', 5, LONG_TTL));
        await a.releaseLease(lease, 'r2');
        await fixture.elapse(PAST_TTL);

        expect(await a.renewLease(lease, 'r1', TTL)).toBe(false);
        expect(await a.renewLease(lease, 'r2', TTL)).toBe(false);
        expect(await a.countLeases(lease)).toBe(0);
      });

      it('should free the slot when a lease is released', async () => {
        await a.admit(leaseOnly('r1', 1));
        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(false);

        await a.releaseLease(lease, 'r1');

        expect((await b.admit(leaseOnly('r2', 1))).ok).toBe(true);
      });

      it('should leave a lease alone when another instance releases its lease id', async () => {
        await a.admit(leaseOnly('r1', 1));

        await b.releaseLease(lease, 'r1');

        expect(await a.countLeases(lease)).toBe(1);
      });
    });

    describe('close', () => {
      it('should release only its own leases and locks when an instance closes', async () => {
        const lock = keys.lock('refresh:acc1');
        for (const id of ['a1', 'a2']) await a.admit(leaseOnly(id, 10));
        for (const id of ['b1', 'b2', 'b3']) await b.admit(leaseOnly(id, 10));
        expect(await a.acquireLock(lock, LONG_TTL)).not.toBeNull();
        const bLock = await b.acquireLock(keys.lock('refresh:acc2'), LONG_TTL);
        expect(bLock).not.toBeNull();

        await a.close();

        expect(await b.countLeases(lease)).toBe(3);
        expect(await b.acquireLock(lock, LONG_TTL)).not.toBeNull();
        expect(await b.acquireLock(keys.lock('refresh:acc2'), LONG_TTL)).toBeNull();
      });

      it('should reject calls when the instance is closed', async () => {
        await a.close();
        await a.close();

        await expect(a.getValue('v')).rejects.toMatchObject({
          code: CoordinationExceptionCode.CLOSED,
        });
        await expect(a.ping()).rejects.toMatchObject({ code: CoordinationExceptionCode.CLOSED });
        await expect(b.ping()).resolves.toBeUndefined();
      });
    });

    describe('values', () => {
      const sticky = keys.sticky(KEY_ID, 'session1');

      it('should return a value until its ttl has passed', async () => {
        await a.setValue(sticky, 'acc1', TTL);
        expect(await b.getValue(sticky)).toBe('acc1');

        await fixture.elapse(PAST_TTL);

        expect(await b.getValue(sticky)).toBeNull();
      });

      it('should extend the ttl when the value is read with getValueAndTouch', async () => {
        await a.setValue(sticky, 'acc1', TTL);
        await fixture.elapse(STEP);
        expect(await b.getValueAndTouch(sticky, TTL)).toBe('acc1');
        await fixture.elapse(STEP);

        expect(await a.getValue(sticky)).toBe('acc1');

        await fixture.elapse(TTL);
        expect(await a.getValue(sticky)).toBeNull();
        expect(await a.getValueAndTouch(sticky, TTL)).toBeNull();
      });

      it('should return values in key order with null when a key is missing', async () => {
        const health = keys.accountHealth('acc1');
        await a.setValue(sticky, 'acc1', LONG_TTL);
        await a.setValue(health, 'cooldown', LONG_TTL);

        expect(await b.getValues([health, keys.accountHealth('acc2'), sticky])).toEqual([
          'cooldown',
          null,
          'acc1',
        ]);
        expect(await b.getValues([])).toEqual([]);
      });

      it('should forget a value when it is deleted', async () => {
        await a.setValue(sticky, 'acc1', LONG_TTL);

        await b.deleteValue(sticky);

        expect(await a.getValue(sticky)).toBeNull();
      });
    });

    describe('locks', () => {
      const lock = keys.lock('refresh:acc1');

      it('should refuse a second holder when the lock is held', async () => {
        const handle = await a.acquireLock(lock, LONG_TTL);

        expect(handle).toMatchObject({ name: lock, token: expect.any(String) });
        expect(await b.acquireLock(lock, LONG_TTL)).toBeNull();
        expect(await a.acquireLock(lock, LONG_TTL)).toBeNull();
      });

      it('should let another holder take the lock when it is released', async () => {
        const handle = await a.acquireLock(lock, LONG_TTL);

        await a.releaseLock(handle!);

        expect(await b.acquireLock(lock, LONG_TTL)).not.toBeNull();
      });

      it('should let another holder take the lock when it has expired', async () => {
        await a.acquireLock(lock, TTL);

        await fixture.elapse(PAST_TTL);

        expect(await b.acquireLock(lock, LONG_TTL)).not.toBeNull();
      });

      it("should keep the new holder's lock when a stale handle is released", async () => {
        const stale = await a.acquireLock(lock, TTL);
        await fixture.elapse(PAST_TTL);
        const current = await b.acquireLock(lock, LONG_TTL);

        await a.releaseLock(stale!);

        expect(current).not.toBeNull();
        expect(await a.acquireLock(lock, LONG_TTL)).toBeNull();
      });
    });

    describe('pub/sub', () => {
      const channel = keys.channels.keyInvalidation;

      it('should deliver a message to another instance when it is subscribed', async () => {
        const received = collector();
        await b.subscribe(channel, received.handler);

        const next = received.next();
        await a.publish(channel, 'key1');

        expect(await next).toBe('key1');
      });

      it('should stop delivery to a handler when it is unsubscribed', async () => {
        const dropped = collector();
        const kept = collector();
        const control = collector();
        const unsubscribe = await b.subscribe(channel, dropped.handler);
        await b.subscribe(channel, kept.handler);
        const unsubscribeSecond = await b.subscribe(channel, dropped.handler);
        await b.subscribe(keys.channels.accountInvalidation, control.handler);

        await unsubscribe();
        await unsubscribeSecond();
        const keptNext = kept.next();
        const controlNext = control.next();
        await a.publish(channel, 'late');
        // Published after 'late' on the same connection, so it arrives after it.
        await a.publish(keys.channels.accountInvalidation, 'marker');

        expect(await keptNext).toBe('late');
        expect(await controlNext).toBe('marker');
        expect(dropped.messages).toEqual([]);
      });

      it('should stop delivery when the last handler of a channel unsubscribes', async () => {
        const dropped = collector();
        const control = collector();
        const unsubscribe = await b.subscribe(channel, dropped.handler);
        await b.subscribe(keys.channels.accountInvalidation, control.handler);

        await unsubscribe();
        const controlNext = control.next();
        await a.publish(channel, 'late');
        await a.publish(keys.channels.accountInvalidation, 'marker');

        expect(await controlNext).toBe('marker');
        expect(dropped.messages).toEqual([]);
      });
    });
  });
}
