import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

import { CoordinationException, CoordinationExceptionCode } from './coordination.exception';
import { seedKey } from './coordination.keys';
import type {
  AdmitRequest,
  AdmitResult,
  Coordinator,
  LockHandle,
  MessageHandler,
  SettleRequest,
} from './coordinator.port';
import {
  assertAdmitRequest,
  assertInteger,
  assertSettleRequest,
  assertTtl,
} from './coordinator.validation';

interface CounterEntry {
  value: number;
  expiresAtMs: number | null;
}

interface ValueEntry {
  value: string;
  expiresAtMs: number;
}

interface LockEntry {
  token: string;
  owner: string;
  expiresAtMs: number;
}

/** Below this many writes a full sweep is not worth it. */
const MIN_WRITES_BETWEEN_SWEEPS = 1024;

/**
 * Live sticky sessions kept at most. Every distinct conversation id a client sends makes one for
 * STICKY_SESSION_TTL_SECONDS, so without a bound a client inventing ids could grow the heap
 * without limit; the least recently used session goes first (it only loses its affinity).
 */
export const DEFAULT_MAX_STICKY_ENTRIES = 100_000;

/** `coordinationKeys.sticky(keyId, sessionHash)`: `k:{<keyId>}:sticky:<hash>`. */
const STICKY_KEY = /^k:\{[^}]*\}:sticky:/;

export interface LocalCoordinatorStoreOptions {
  /** Live sticky sessions kept at most (least recently used evicted first). */
  maxStickyEntries?: number;
}

/**
 * The state behind one or more LocalCoordinators. One per process in production; tests hand the
 * same store to two coordinators to play two instances.
 *
 * Expiry is lazy (checked against the caller's clock on access) so no timer keeps the process
 * alive. Keys nobody reads again (old budget periods, sticky sessions) are dropped by an amortised
 * sweep that runs once the number of writes since the last sweep reaches the number of entries.
 */
export class LocalCoordinatorStore {
  readonly counters = new Map<string, CounterEntry>();
  /** key -> member (`${instanceId}:${leaseId}`) -> expiry in epoch ms. */
  readonly leases = new Map<string, Map<string, number>>();
  readonly values = new Map<string, ValueEntry>();
  /**
   * Sticky sessions, apart from the other values so that only they are evicted (a cooldown must
   * never be); in least-recently-used order: a read that renews one moves it to the end.
   */
  readonly stickies = new Map<string, ValueEntry>();
  readonly locks = new Map<string, LockEntry>();
  readonly events = new EventEmitter();
  readonly maxStickyEntries: number;
  private writesSinceSweep = 0;

  constructor(options: LocalCoordinatorStoreOptions = {}) {
    // Every subscription of every instance is a listener; there is no leak to warn about.
    this.events.setMaxListeners(0);
    this.maxStickyEntries = options.maxStickyEntries ?? DEFAULT_MAX_STICKY_ENTRIES;
  }

  private valueMap(key: string): Map<string, ValueEntry> {
    return STICKY_KEY.test(key) ? this.stickies : this.values;
  }

  setValue(key: string, entry: ValueEntry): void {
    const map = this.valueMap(key);
    // Re-inserted at the end: the most recently used.
    map.delete(key);
    map.set(key, entry);
    if (map !== this.stickies) return;
    while (this.stickies.size > this.maxStickyEntries) {
      const oldest = this.stickies.keys().next().value as string;
      this.stickies.delete(oldest);
    }
  }

  deleteValue(key: string): void {
    this.valueMap(key).delete(key);
  }

  /** A live value renewed to a new expiry; a sticky session becomes the most recently used. */
  touchValue(key: string, expiresAtMs: number, now: number): ValueEntry | undefined {
    const entry = this.value(key, now);
    if (!entry) return undefined;
    entry.expiresAtMs = expiresAtMs;
    const map = this.valueMap(key);
    if (map === this.stickies) {
      map.delete(key);
      map.set(key, entry);
    }
    return entry;
  }

  counter(key: string, now: number): CounterEntry | undefined {
    const entry = this.counters.get(key);
    if (entry && entry.expiresAtMs !== null && entry.expiresAtMs <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return entry;
  }

  /** The live members under key, expired ones removed; undefined when none is left. */
  liveLeases(key: string, now: number): Map<string, number> | undefined {
    const members = this.leases.get(key);
    if (!members) return undefined;
    for (const [member, expiresAtMs] of members) {
      if (expiresAtMs <= now) members.delete(member);
    }
    if (members.size === 0) {
      this.leases.delete(key);
      return undefined;
    }
    return members;
  }

  value(key: string, now: number): ValueEntry | undefined {
    const map = this.valueMap(key);
    const entry = map.get(key);
    if (entry && entry.expiresAtMs <= now) {
      map.delete(key);
      return undefined;
    }
    return entry;
  }

  lock(name: string, now: number): LockEntry | undefined {
    const entry = this.locks.get(name);
    if (entry && entry.expiresAtMs <= now) {
      this.locks.delete(name);
      return undefined;
    }
    return entry;
  }

  noteWrite(now: number): void {
    this.writesSinceSweep += 1;
    const size =
      this.counters.size +
      this.leases.size +
      this.values.size +
      this.stickies.size +
      this.locks.size;
    if (this.writesSinceSweep < Math.max(MIN_WRITES_BETWEEN_SWEEPS, size)) return;
    this.writesSinceSweep = 0;
    for (const key of this.counters.keys()) this.counter(key, now);
    for (const key of this.leases.keys()) this.liveLeases(key, now);
    for (const key of this.values.keys()) this.value(key, now);
    for (const key of this.stickies.keys()) this.value(key, now);
    for (const name of this.locks.keys()) this.lock(name, now);
  }
}

export interface LocalCoordinatorOptions {
  instanceId: string;
  /** Share one store between coordinators to simulate several instances (tests). */
  store?: LocalCoordinatorStore;
  /** Clock in epoch ms; tests inject one to move time without waiting. */
  now?: () => number;
  /** Receives errors thrown by subscription handlers (default: a process warning). */
  onError?: (error: unknown) => void;
  /** Told of every call by operation name (the coordinator-calls metric). */
  onCall?: (op: string) => void;
}

/** Channel names become event names; the prefix keeps a channel called 'error' harmless. */
function eventName(channel: string): string {
  return `message:${channel}`;
}

/**
 * In-process Coordinator for a single instance. Every operation runs synchronously inside its
 * async method, so it is atomic with respect to every other call on the same store.
 */
export class LocalCoordinator implements Coordinator {
  readonly instanceId: string;
  private readonly store: LocalCoordinatorStore;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private readonly onCall: ((op: string) => void) | undefined;
  /** lease key -> members this instance holds, so close() can release exactly those. */
  private readonly heldLeases = new Map<string, Set<string>>();
  private heldLeasesSincePrune = 0;
  /** lock name -> token this instance holds. */
  private readonly heldLocks = new Map<string, string>();
  private readonly listeners = new Map<(message: string) => void, string>();
  private closed = false;

  constructor(options: LocalCoordinatorOptions) {
    this.instanceId = options.instanceId;
    this.store = options.store ?? new LocalCoordinatorStore();
    this.now = options.now ?? Date.now;
    this.onError =
      options.onError ??
      ((error: unknown) => process.emitWarning(`Coordinator subscriber failed: ${String(error)}`));
    this.onCall = options.onCall;
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    this.assertOpen('admit');
    assertAdmitRequest(request);
    const now = this.now();
    const { store } = this;

    const { counters } = request;
    const values = new Array<number>(counters.length);
    const resetAtMs = new Array<number | null>(counters.length);
    let generations: (string | null)[] | undefined;
    for (let i = 0; i < counters.length; i++) {
      const entry = store.counter(counters[i].key, now);
      values[i] = entry?.value ?? 0;
      resetAtMs[i] = entry?.expiresAtMs ?? null;
    }
    for (let i = 0; i < counters.length; i++) {
      if (counters[i].seeded !== true) continue;
      const generation = store.value(seedKey(counters[i].key), now)?.value;
      if (generation === undefined) {
        return { ok: false, rejection: { kind: 'unseeded', index: i }, values, resetAtMs };
      }
      generations ??= new Array<string | null>(counters.length).fill(null);
      generations[i] = generation;
    }

    // Check everything first; a key listed twice sees the amounts listed before it.
    for (let index = 0; index < counters.length; index++) {
      const counter = counters[index];
      let current = values[index];
      for (let j = 0; j < index; j++) {
        if (counters[j].key === counter.key) current += counters[j].amount;
      }
      if (counter.limit !== undefined && current + counter.amount > counter.limit) {
        const rejection = {
          kind: 'counter' as const,
          index,
          current,
          limit: counter.limit,
          resetAtMs: resetAtMs[index],
        };
        return { ok: false, rejection, values, resetAtMs };
      }
    }

    const lease = request.lease;
    const member = lease ? this.member(lease.leaseId) : '';
    if (lease) {
      const live = store.liveLeases(lease.key, now);
      // Admitting a lease id that is already held refreshes it instead of taking a second slot.
      const current = (live?.size ?? 0) - (live?.has(member) ? 1 : 0);
      if (current >= lease.limit) {
        let retryAtMs: number | null = null;
        for (const expiresAtMs of live?.values() ?? []) {
          if (retryAtMs === null || expiresAtMs < retryAtMs) retryAtMs = expiresAtMs;
        }
        const rejection = { kind: 'lease' as const, current, limit: lease.limit, retryAtMs };
        return { ok: false, rejection, values, resetAtMs };
      }
    }

    for (let index = 0; index < counters.length; index++) {
      const counter = counters[index];
      let entry = store.counter(counter.key, now);
      if (!entry) {
        // Reading a missing counter must not open a window.
        if (counter.amount === 0) continue;
        const expiresAtMs = counter.ttlMs === undefined ? null : now + counter.ttlMs;
        entry = { value: 0, expiresAtMs };
        store.counters.set(counter.key, entry);
      }
      entry.value += counter.amount;
      values[index] = entry.value;
      resetAtMs[index] = entry.expiresAtMs;
    }
    if (lease) {
      let members = store.leases.get(lease.key);
      if (!members) {
        members = new Map();
        store.leases.set(lease.key, members);
      }
      members.set(member, now + lease.ttlMs);
      this.trackLease(lease.key, member);
    }
    store.noteWrite(now);
    const result: AdmitResult = { ok: true, values, resetAtMs };
    if (generations !== undefined) result.generations = generations;
    if (request.touch !== undefined) result.touched = this.touchValue(request.touch, now);
    return result;
  }

  private touchValue(touch: { key: string; ttlMs: number }, now: number): string | null {
    return this.store.touchValue(touch.key, now + touch.ttlMs, now)?.value ?? null;
  }

  async settle(request: SettleRequest): Promise<void> {
    this.assertOpen('settle');
    assertSettleRequest(request);
    const now = this.now();
    for (const counter of request.counters) {
      let amount = counter.amount;
      if (counter.generation !== undefined) {
        const seeded = this.store.value(seedKey(counter.key), now)?.value;
        if (seeded !== counter.generation) amount = counter.unreserved ?? amount;
      }
      let entry = this.store.counter(counter.key, now);
      if (!entry) {
        if (amount === 0) continue;
        const expiresAtMs = counter.ttlMs === undefined ? null : now + counter.ttlMs;
        entry = { value: 0, expiresAtMs };
        this.store.counters.set(counter.key, entry);
      }
      entry.value += amount;
    }
    if (request.lease) this.removeLease(request.lease.key, request.lease.leaseId);
    this.store.noteWrite(now);
  }

  async seedCounter(key: string, amount: number, ttlMs?: number): Promise<string | null> {
    this.assertOpen('seedCounter');
    assertInteger(amount, 'amount');
    if (ttlMs !== undefined) assertTtl(ttlMs);
    const now = this.now();
    const marker = seedKey(key);
    if (this.store.value(marker, now) !== undefined) return null;
    const expiresAtMs = ttlMs === undefined ? null : now + ttlMs;
    let entry = this.store.counter(key, now);
    if (!entry && amount !== 0) {
      entry = { value: 0, expiresAtMs };
      this.store.counters.set(key, entry);
    }
    if (entry) entry.value += amount;
    const generation = randomUUID();
    this.store.values.set(marker, {
      value: generation,
      expiresAtMs: expiresAtMs ?? Number.POSITIVE_INFINITY,
    });
    this.store.noteWrite(now);
    return generation;
  }

  async getCounters(keys: string[]): Promise<number[]> {
    this.assertOpen('getCounters');
    const now = this.now();
    return keys.map((key) => this.store.counter(key, now)?.value ?? 0);
  }

  async renewLease(key: string, leaseId: string, ttlMs: number): Promise<boolean> {
    this.assertOpen('renewLease');
    assertTtl(ttlMs);
    const now = this.now();
    const member = this.member(leaseId);
    const live = this.store.liveLeases(key, now);
    if (!live?.has(member)) {
      this.untrackLease(key, member);
      return false;
    }
    live.set(member, now + ttlMs);
    return true;
  }

  async releaseLease(key: string, leaseId: string): Promise<void> {
    this.assertOpen('releaseLease');
    this.removeLease(key, leaseId);
  }

  async countLeases(key: string): Promise<number> {
    this.assertOpen('countLeases');
    return this.store.liveLeases(key, this.now())?.size ?? 0;
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen('setValue');
    assertTtl(ttlMs);
    const now = this.now();
    this.store.setValue(key, { value, expiresAtMs: now + ttlMs });
    this.store.noteWrite(now);
  }

  async getValue(key: string): Promise<string | null> {
    this.assertOpen('getValue');
    return this.store.value(key, this.now())?.value ?? null;
  }

  async getValueAndTouch(key: string, ttlMs: number): Promise<string | null> {
    this.assertOpen('getValueAndTouch');
    assertTtl(ttlMs);
    return this.touchValue({ key, ttlMs }, this.now());
  }

  async getValues(keys: string[]): Promise<(string | null)[]> {
    this.assertOpen('getValues');
    const now = this.now();
    return keys.map((key) => this.store.value(key, now)?.value ?? null);
  }

  async deleteValue(key: string): Promise<void> {
    this.assertOpen('deleteValue');
    this.store.deleteValue(key);
  }

  async acquireLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    this.assertOpen('acquireLock');
    assertTtl(ttlMs);
    const now = this.now();
    if (this.store.lock(name, now)) return null;
    const token = randomUUID();
    this.store.locks.set(name, { token, owner: this.instanceId, expiresAtMs: now + ttlMs });
    this.heldLocks.set(name, token);
    this.store.noteWrite(now);
    return { name, token };
  }

  async releaseLock(handle: LockHandle): Promise<void> {
    this.assertOpen('releaseLock');
    this.removeLock(handle.name, handle.token);
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen('publish');
    // Asynchronous like a real broker: a handler never runs inside the publisher's call.
    queueMicrotask(() => this.store.events.emit(eventName(channel), message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.assertOpen('subscribe');
    const event = eventName(channel);
    const listener = (message: string): void => {
      try {
        handler(message);
      } catch (error) {
        this.onError(error);
      }
    };
    this.store.events.on(event, listener);
    this.listeners.set(listener, event);
    return async () => {
      this.store.events.off(event, listener);
      this.listeners.delete(listener);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen('ping');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [key, members] of this.heldLeases) {
      const live = this.store.leases.get(key);
      for (const member of members) live?.delete(member);
      if (live?.size === 0) this.store.leases.delete(key);
    }
    this.heldLeases.clear();
    for (const [name, token] of this.heldLocks) this.removeLock(name, token);
    for (const [listener, event] of this.listeners) this.store.events.off(event, listener);
    this.listeners.clear();
  }

  private member(leaseId: string): string {
    return `${this.instanceId}:${leaseId}`;
  }

  private removeLease(key: string, leaseId: string): void {
    const member = this.member(leaseId);
    const members = this.store.leases.get(key);
    members?.delete(member);
    if (members?.size === 0) this.store.leases.delete(key);
    this.untrackLease(key, member);
  }

  private removeLock(name: string, token: string): void {
    if (this.store.locks.get(name)?.token === token) this.store.locks.delete(name);
    if (this.heldLocks.get(name) === token) this.heldLocks.delete(name);
  }

  private trackLease(key: string, member: string): void {
    let members = this.heldLeases.get(key);
    if (!members) {
      members = new Set();
      this.heldLeases.set(key, members);
    }
    members.add(member);
    // Leases that expired without a release would otherwise pile up here.
    this.heldLeasesSincePrune += 1;
    if (this.heldLeasesSincePrune < MIN_WRITES_BETWEEN_SWEEPS) return;
    this.heldLeasesSincePrune = 0;
    const now = this.now();
    for (const [heldKey, held] of this.heldLeases) {
      const live = this.store.liveLeases(heldKey, now);
      for (const heldMember of held) if (!live?.has(heldMember)) held.delete(heldMember);
      if (held.size === 0) this.heldLeases.delete(heldKey);
    }
  }

  private untrackLease(key: string, member: string): void {
    const members = this.heldLeases.get(key);
    members?.delete(member);
    if (members?.size === 0) this.heldLeases.delete(key);
  }

  /** Counts the call (onCall), then refuses it when the coordinator is closed. */
  private assertOpen(op: string): void {
    this.onCall?.(op);
    if (this.closed) {
      throw new CoordinationException(CoordinationExceptionCode.CLOSED, 'Coordinator is closed');
    }
  }
}
