/**
 * The Coordinator port: every hot-path fact that must be shared by all instances (rate windows,
 * budgets, concurrency leases, sticky sessions, cooldowns, locks, cache invalidation).
 *
 * Two implementations: RedisCoordinator (many instances) and LocalCoordinator (one process).
 * Both must pass test/integration/coordinator.contract.ts.
 *
 * Keys passed in are logical keys built by a key builder (see coordination.keys.ts); the
 * implementation adds its own prefix. Keys that one call touches together must share a hash tag
 * (`{...}`) so the Redis Cluster run sees them in one slot.
 *
 * Every method rejects with CoordinationException. After UNAVAILABLE (timeout, connection lost)
 * the outcome of a write is unknown: it may still have been applied, so a lease taken that way
 * is only freed by its TTL.
 */

/** A counter checked against a limit and added to, atomically with its siblings. */
export interface CounterOp {
  key: string;
  /** Integer amount to add (requests, tokens, micro-dollars). May be 0 to only read. */
  amount: number;
  /** Reject the whole call when current + amount would exceed this. Omit for no limit. */
  limit?: number;
  /** When the counter is created by this call it expires after ttlMs (a fixed window). */
  ttlMs?: number;
  /**
   * The counter holds money that must outlive the store losing it (a budget). Unless it has
   * been seeded (seedCounter) since the store last lost it, admit refuses with
   * `{ kind: 'unseeded' }` and applies nothing, so the caller can seed it from its durable
   * record and retry. When admitted, AdmitResult.generations[i] is the seed it counted against.
   */
  seeded?: boolean;
}

export interface LeaseRequest {
  key: string;
  /** Unique id of this lease (a request id). */
  leaseId: string;
  /** At most this many live leases under key. */
  limit: number;
  /** The lease expires unless renewed within ttlMs. */
  ttlMs: number;
}

export interface AdmitRequest {
  counters: CounterOp[];
  lease?: LeaseRequest;
  /**
   * Also read this value and, when present, reset its TTL, as getValueAndTouch does, in the same
   * round trip (the conversation's sticky account, read while the key is admitted). Done only
   * when the call admits. Must share the counters' hash tag.
   */
  touch?: { key: string; ttlMs: number };
}

export type AdmitRejection =
  | { kind: 'counter'; index: number; current: number; limit: number; resetAtMs: number | null }
  | { kind: 'lease'; current: number; limit: number; retryAtMs: number | null }
  | { kind: 'unseeded'; index: number };

export interface AdmitResult {
  ok: boolean;
  /** Present when ok is false: the first check that failed. Nothing was applied. */
  rejection?: AdmitRejection;
  /** Counter values after the call (or current values when rejected), in request order. */
  values: number[];
  /** When each counter's window resets (epoch ms), null when it has no expiry. */
  resetAtMs: (number | null)[];
  /** With `touch` and ok: the value read (null when missing). Absent otherwise. */
  touched?: string | null;
  /** With ok: per counter, the seed generation of a `seeded` one, null for the others. */
  generations?: (string | null)[];
}

export interface CounterAdjust {
  key: string;
  amount: number;
  ttlMs?: number;
  /**
   * The seed generation the adjusted reservation was admitted under. When the counter's seed is
   * no longer this one, the store lost the counter (and its reservation) since: `unreserved`
   * (the full actual amount) is added instead of `amount` (actual minus reservation).
   */
  generation?: string;
  unreserved?: number;
}

export interface SettleRequest {
  /** Unconditional adjustments (e.g. actual cost minus reservation). */
  counters: CounterAdjust[];
  lease?: { key: string; leaseId: string };
}

export interface LockHandle {
  name: string;
  token: string;
}

export type MessageHandler = (message: string) => void;

export interface Coordinator {
  /** This instance's id: owner of the leases and locks it takes. */
  readonly instanceId: string;

  /**
   * Check every counter and the lease; apply all or nothing. One round trip.
   * A missing counter read with amount 0 is not created (no window starts). Admitting a lease id
   * this instance already holds refreshes it instead of taking a second slot.
   */
  admit(request: AdmitRequest): Promise<AdmitResult>;
  /**
   * Apply counter adjustments and release a lease. One round trip.
   * An adjustment to a counter whose window has already expired starts a new window with it.
   */
  settle(request: SettleRequest): Promise<void>;
  /**
   * Marks a counter seeded, adding `amount` to it (created with ttlMs when missing), and returns
   * the new seed generation; when it is seeded already nothing changes and the result is null.
   * One round trip, atomic, so instances that race to seed the same counter add it once.
   */
  seedCounter(key: string, amount: number, ttlMs?: number): Promise<string | null>;
  /** Read counters (0 for a missing one). */
  getCounters(keys: string[]): Promise<number[]>;

  /**
   * Extend a live lease to ttlMs from now; false when it has already expired or was released.
   * Leases belong to the instance that admitted them: renew and release act on its own only.
   */
  renewLease(key: string, leaseId: string, ttlMs: number): Promise<boolean>;
  releaseLease(key: string, leaseId: string): Promise<void>;
  /** Number of live (unexpired) leases under key. */
  countLeases(key: string): Promise<number>;

  /** Values with a TTL (sticky sessions, cooldowns, health). */
  setValue(key: string, value: string, ttlMs: number): Promise<void>;
  getValue(key: string): Promise<string | null>;
  /** Read a value and, when present, reset its TTL (sticky session renewal). */
  getValueAndTouch(key: string, ttlMs: number): Promise<string | null>;
  getValues(keys: string[]): Promise<(string | null)[]>;
  deleteValue(key: string): Promise<void>;

  /** A lock with expiry; null when another holder has it. */
  acquireLock(name: string, ttlMs: number): Promise<LockHandle | null>;
  /** Releases only when the handle still owns the lock. */
  releaseLock(handle: LockHandle): Promise<void>;

  publish(channel: string, message: string): Promise<void>;
  /** Returns an unsubscribe function. */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;

  /** Liveness of the backing store for readiness checks. */
  ping(): Promise<void>;
  /** Release the leases and locks this instance owns, then close connections. */
  close(): Promise<void>;
}

export const COORDINATOR = Symbol('COORDINATOR');
