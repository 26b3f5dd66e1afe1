import { randomUUID } from 'node:crypto';

import type { Cluster, Redis } from 'ioredis';

import { CoordinationException, CoordinationExceptionCode } from './coordination.exception';
import type {
  AdmitRejection,
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
import { seedKey } from './coordination.keys';
import { redisScripts } from './redis.scripts';

export interface RedisCoordinatorOptions {
  instanceId: string;
  /** Command connection; the coordinator owns it and quits it on close(). */
  client: Redis | Cluster;
  /** Pub/sub connection; the coordinator owns it and quits it on close(). */
  subscriber: Redis | Cluster;
  /** Put in front of every key and channel, e.g. `switchyard:`. Must not contain braces. */
  keyPrefix: string;
  /** Upper bound of any call, whatever the client does (default 1500). */
  callTimeoutMs?: number;
  /** Receives subscription handler errors and failed releases on close (default: a warning). */
  onError?: (error: unknown) => void;
  /** Told of every call by operation name (the coordinator-calls metric). */
  onCall?: (op: string) => void;
  /** Told how long each Redis round trip took, in seconds (the coordinator-latency metric). */
  onDuration?: (op: string, seconds: number) => void;
}

/** A lease set outlives its longest-lived member by this much, then Redis drops it. */
const LEASE_KEY_GRACE_MS = 1000;
const DEFAULT_CALL_TIMEOUT_MS = 1500;
const PING_TIMEOUT_MS = 1000;
/** How often the in-memory list of held leases is pruned of ones that have expired. */
const HELD_LEASE_PRUNE_EVERY = 1024;

interface PendingSettle {
  keys: string[];
  args: (string | number)[];
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Subscription {
  handlers: Set<{ handler: MessageHandler }>;
  /** Settles when Redis confirmed SUBSCRIBE; later subscribers to the channel wait for it. */
  ready: Promise<void>;
}

function nullIfNegative(value: number): number | null {
  return value < 0 ? null : value;
}

function toIntegers(reply: unknown, length: number, what: string): number[] {
  if (!Array.isArray(reply) || reply.length !== length) {
    throw new CoordinationException(
      CoordinationExceptionCode.BACKEND_ERROR,
      `Unexpected reply to ${what}`,
    );
  }
  return reply.map((item) => Number(item));
}

function toCoordinationException(what: string, error: unknown): CoordinationException {
  if (error instanceof CoordinationException) return error;
  const message = error instanceof Error ? error.message : String(error);
  // ReplyError: Redis answered, so the store is up and the command itself failed.
  const code =
    error instanceof Error && error.name === 'ReplyError'
      ? CoordinationExceptionCode.BACKEND_ERROR
      : CoordinationExceptionCode.UNAVAILABLE;
  return new CoordinationException(code, `Redis ${what} failed: ${message}`, { cause: error });
}

/**
 * Coordinator shared by every instance through Redis (standalone, Sentinel or Cluster).
 *
 * Leases are sorted-set members `${instanceId}:${leaseId}` scored by their expiry; the instance
 * remembers which ones it holds so close() can remove exactly those and nobody else's.
 */
export class RedisCoordinator implements Coordinator {
  readonly instanceId: string;
  private readonly client: Redis | Cluster;
  private readonly subscriber: Redis | Cluster;
  private readonly keyPrefix: string;
  private readonly callTimeoutMs: number;
  private readonly onError: (error: unknown) => void;
  private readonly onCall: ((op: string) => void) | undefined;
  private readonly onDuration: ((op: string, seconds: number) => void) | undefined;
  /** Prefixed lease key -> member -> local estimate of its expiry (for pruning only). */
  private readonly heldLeases = new Map<string, Map<string, number>>();
  private heldLeasesSincePrune = 0;
  /** Prefixed lock key -> token. */
  private readonly heldLocks = new Map<string, string>();
  /** Settles waiting for this event-loop turn's pipeline (see flushSettles). */
  private pendingSettles: PendingSettle[] = [];
  private settleFlush: NodeJS.Immediate | undefined;
  /** Prefixed channel -> handlers. */
  private readonly subscriptions = new Map<string, Subscription>();
  private state: 'open' | 'closing' | 'closed' = 'open';
  private closing?: Promise<void>;

  constructor(options: RedisCoordinatorOptions) {
    if (/[{}]/.test(options.keyPrefix)) {
      // A brace in the prefix would become the hash tag and split keys meant for one slot.
      throw new RangeError('RedisCoordinator keyPrefix must not contain { or }');
    }
    this.instanceId = options.instanceId;
    this.client = options.client;
    this.subscriber = options.subscriber;
    this.keyPrefix = options.keyPrefix;
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.onError =
      options.onError ?? ((error: unknown) => process.emitWarning(`Coordinator: ${String(error)}`));
    this.onCall = options.onCall;
    this.onDuration = options.onDuration;
    this.subscriber.on('message', this.onMessage);
  }

  async admit(request: AdmitRequest): Promise<AdmitResult> {
    this.assertOpen();
    assertAdmitRequest(request);
    const { counters, lease, touch } = request;
    const n = counters.length;
    if (n === 0 && !lease && !touch) return { ok: true, values: [], resetAtMs: [] };
    // A request that finished must free its lease before the next one is checked against it.
    this.sendSettlesFirst();

    const keys = counters.map((counter) => this.key(counter.key));
    for (const counter of counters) keys.push(this.key(seedKey(counter.key)));
    const args: (string | number)[] = [n, lease ? 1 : 0];
    for (const counter of counters) {
      args.push(
        counter.amount,
        counter.limit ?? '',
        counter.ttlMs ?? '',
        counter.seeded === true ? '1' : '',
      );
    }
    const leaseKey = lease ? this.key(lease.key) : '';
    const member = lease ? this.member(lease.leaseId) : '';
    if (lease) {
      keys.push(leaseKey);
      args.push(member, lease.limit, lease.ttlMs, LEASE_KEY_GRACE_MS);
    }
    if (touch) {
      keys.push(this.key(touch.key));
      args.push(touch.ttlMs);
    }

    const raw = await this.call('admit', () => redisScripts.admit.run(this.client, keys, args));
    // Admitted with a touch: one more element, the touched value (a string or nil).
    let touched: string | null | undefined;
    let rest = raw;
    if (touch && Array.isArray(raw) && raw.length === 7 + 3 * n && Number(raw[0]) === 1) {
      const value: unknown = raw[6 + 3 * n];
      touched = typeof value === 'string' ? value : null;
      rest = raw.slice(0, 6 + 3 * n);
    }
    // The last n elements are seed generations (strings), the rest integers.
    const gens = Array.isArray(rest) ? (rest.slice(6 + 2 * n) as unknown[]) : [];
    const numbers = Array.isArray(rest) && gens.length === n ? rest.slice(0, 6 + 2 * n) : rest;
    const reply = toIntegers(numbers, 6 + 2 * n, 'admit');
    const [ok, kind, index, current, limit, at] = reply;
    const values = reply.slice(6, 6 + n);
    const resetAtMs = reply.slice(6 + n).map(nullIfNegative);
    if (ok === 1) {
      if (lease) this.trackLease(leaseKey, member, lease.ttlMs);
      const result: AdmitResult = { ok: true, values, resetAtMs };
      if (counters.some((counter) => counter.seeded === true)) {
        result.generations = gens.map((g) => (typeof g === 'string' && g !== '' ? g : null));
      }
      if (touch) result.touched = touched ?? null;
      return result;
    }
    let rejection: AdmitRejection;
    if (kind === 1) {
      rejection = { kind: 'counter', index, current, limit, resetAtMs: nullIfNegative(at) };
    } else if (kind === 3) {
      rejection = { kind: 'unseeded', index };
    } else {
      rejection = { kind: 'lease', current, limit, retryAtMs: nullIfNegative(at) };
    }
    return { ok: false, rejection, values, resetAtMs };
  }

  async settle(request: SettleRequest): Promise<void> {
    this.assertOpen();
    assertSettleRequest(request);
    const { counters, lease } = request;
    if (counters.length === 0 && !lease) return;
    const keys = counters.map((counter) => this.key(counter.key));
    for (const counter of counters) keys.push(this.key(seedKey(counter.key)));
    const args: (string | number)[] = [counters.length, lease ? 1 : 0];
    for (const counter of counters) {
      args.push(
        counter.amount,
        counter.ttlMs ?? '',
        counter.generation ?? '',
        counter.generation === undefined ? '' : (counter.unreserved ?? counter.amount),
      );
    }
    if (lease) {
      keys.push(this.key(lease.key));
      args.push(this.member(lease.leaseId));
    }
    if (this.client.isCluster) {
      // A pipeline must stay within one slot: a Cluster gets one round trip per settle.
      await this.call('settle', () => redisScripts.settle.run(this.client, keys, args));
    } else {
      await new Promise<void>((resolve, reject) => {
        this.pendingSettles.push({ keys, args, resolve, reject });
        this.settleFlush ??= setImmediate(() => void this.flushSettles());
      });
    }
    if (lease) this.untrackLease(this.key(lease.key), this.member(lease.leaseId));
  }

  /**
   * Settles asked for before a call that reads what they change go out before it on the same
   * connection, so Redis applies them first, as it would unbatched.
   */
  private sendSettlesFirst(): void {
    if (this.pendingSettles.length > 0) void this.flushSettles();
  }

  /**
   * Sends the settles queued during one event-loop turn as one pipeline: one socket write and one
   * read for many finished requests instead of one each. A settle waits at most that turn.
   */
  private async flushSettles(): Promise<void> {
    clearImmediate(this.settleFlush);
    this.settleFlush = undefined;
    const batch = this.pendingSettles;
    if (batch.length === 0) return;
    this.pendingSettles = [];
    if (batch.length === 1) {
      const [only] = batch;
      await this.call('settle', () => redisScripts.settle.run(this.client, only.keys, only.args))
        .then(() => only.resolve())
        .catch(only.reject);
      return;
    }
    // Counted per settle, as the metric counts calls; the round trip is shared.
    for (let i = 1; i < batch.length; i++) this.onCall?.('settle');
    let replies: [Error | null, unknown][] | null;
    try {
      replies = await this.call('settle', () => {
        const pipeline = this.client.pipeline();
        for (const { keys, args } of batch) {
          pipeline.evalsha(redisScripts.settle.sha, keys.length, ...keys, ...args);
        }
        return pipeline.exec();
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, i) => {
      const error =
        replies?.[i]?.[0] ??
        (replies?.[i] === undefined
          ? new Error('Redis sent no reply to a pipelined settle')
          : null);
      if (error === null) {
        pending.resolve();
      } else if (error.message.startsWith('NOSCRIPT')) {
        // The node lost its script cache: this one goes alone, through EVAL.
        this.call('settle', () => redisScripts.settle.run(this.client, pending.keys, pending.args))
          .then(() => pending.resolve())
          .catch(pending.reject);
      } else {
        pending.reject(toCoordinationException('settle', error));
      }
    });
  }

  async seedCounter(key: string, amount: number, ttlMs?: number): Promise<string | null> {
    this.assertOpen();
    assertInteger(amount, 'amount');
    if (ttlMs !== undefined) assertTtl(ttlMs);
    this.sendSettlesFirst();
    const keys = [this.key(key), this.key(seedKey(key))];
    const generation = randomUUID();
    const reply = await this.call('seedCounter', () =>
      redisScripts.seedCounter.run(this.client, keys, [amount, ttlMs ?? '', generation]),
    );
    return Number(reply) === 1 ? generation : null;
  }

  async getCounters(keys: string[]): Promise<number[]> {
    this.sendSettlesFirst();
    const values = await this.getMany('getCounters', keys);
    return values.map((value) => (value === null ? 0 : Number(value)));
  }

  async renewLease(key: string, leaseId: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    assertTtl(ttlMs);
    const fullKey = this.key(key);
    const member = this.member(leaseId);
    const renewed = await this.call('renewLease', () =>
      redisScripts.renewLease.run(this.client, [fullKey], [member, ttlMs, LEASE_KEY_GRACE_MS]),
    );
    if (Number(renewed) === 1) {
      this.trackLease(fullKey, member, ttlMs);
      return true;
    }
    this.untrackLease(fullKey, member);
    return false;
  }

  async releaseLease(key: string, leaseId: string): Promise<void> {
    this.assertOpen();
    const fullKey = this.key(key);
    const member = this.member(leaseId);
    await this.call('releaseLease', () => this.client.zrem(fullKey, member));
    this.untrackLease(fullKey, member);
  }

  async countLeases(key: string): Promise<number> {
    this.assertOpen();
    this.sendSettlesFirst();
    const fullKey = this.key(key);
    const count = await this.call('countLeases', () =>
      redisScripts.countLeases.run(this.client, [fullKey], []),
    );
    return Number(count);
  }

  async setValue(key: string, value: string, ttlMs: number): Promise<void> {
    this.assertOpen();
    assertTtl(ttlMs);
    await this.call('setValue', () => this.client.set(this.key(key), value, 'PX', ttlMs));
  }

  async getValue(key: string): Promise<string | null> {
    this.assertOpen();
    return this.call('getValue', () => this.client.get(this.key(key)));
  }

  async getValueAndTouch(key: string, ttlMs: number): Promise<string | null> {
    this.assertOpen();
    assertTtl(ttlMs);
    const value = await this.call('getValueAndTouch', () =>
      redisScripts.getAndTouch.run(this.client, [this.key(key)], [ttlMs]),
    );
    return typeof value === 'string' ? value : null;
  }

  async getValues(keys: string[]): Promise<(string | null)[]> {
    return this.getMany('getValues', keys);
  }

  async deleteValue(key: string): Promise<void> {
    this.assertOpen();
    await this.call('deleteValue', () => this.client.del(this.key(key)));
  }

  async acquireLock(name: string, ttlMs: number): Promise<LockHandle | null> {
    this.assertOpen();
    assertTtl(ttlMs);
    const fullKey = this.key(name);
    const token = randomUUID();
    const reply = await this.call('acquireLock', () =>
      this.client.set(fullKey, token, 'PX', ttlMs, 'NX'),
    );
    if (reply !== 'OK') return null;
    this.heldLocks.set(fullKey, token);
    return { name, token };
  }

  async releaseLock(handle: LockHandle): Promise<void> {
    this.assertOpen();
    const fullKey = this.key(handle.name);
    await this.call('releaseLock', () =>
      redisScripts.releaseLock.run(this.client, [fullKey], [handle.token]),
    );
    if (this.heldLocks.get(fullKey) === handle.token) this.heldLocks.delete(fullKey);
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    await this.call('publish', () => this.client.publish(this.key(channel), message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.assertOpen();
    const fullChannel = this.key(channel);
    let subscription = this.subscriptions.get(fullChannel);
    if (!subscription) {
      subscription = {
        handlers: new Set(),
        ready: this.call('subscribe', async () => {
          await this.subscriber.subscribe(fullChannel);
        }),
      };
      this.subscriptions.set(fullChannel, subscription);
    }
    // An object per call, so the same function subscribed twice is unsubscribed once per call.
    const entry = { handler };
    subscription.handlers.add(entry);
    try {
      await subscription.ready;
    } catch (error) {
      subscription.handlers.delete(entry);
      if (this.subscriptions.get(fullChannel) === subscription) {
        this.subscriptions.delete(fullChannel);
      }
      throw error;
    }

    const current = subscription;
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      current.handlers.delete(entry);
      if (current.handlers.size > 0 || this.subscriptions.get(fullChannel) !== current) return;
      this.subscriptions.delete(fullChannel);
      if (this.state !== 'open') return;
      try {
        await this.call('unsubscribe', () => this.subscriber.unsubscribe(fullChannel));
      } catch (error) {
        // No handler is left, so a stray message is dropped; nothing for the caller to do.
        this.onError(error);
      }
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.call('ping', () => this.client.ping(), PING_TIMEOUT_MS);
  }

  async close(): Promise<void> {
    if (this.state === 'open') {
      this.state = 'closing';
      this.closing = this.shutdown();
    }
    await this.closing;
  }

  private async shutdown(): Promise<void> {
    // Settles already asked for go out before the leases are released and the connection quits.
    await this.flushSettles();
    const releases: Promise<unknown>[] = [];
    for (const [fullKey, members] of this.heldLeases) {
      const list = [...members.keys()];
      releases.push(this.call('close', () => this.client.zrem(fullKey, ...list)));
    }
    for (const [fullKey, token] of this.heldLocks) {
      releases.push(
        this.call('close', () => redisScripts.releaseLock.run(this.client, [fullKey], [token])),
      );
    }
    for (const result of await Promise.allSettled(releases)) {
      // What could not be released expires with its TTL.
      if (result.status === 'rejected') this.onError(result.reason);
    }
    this.heldLeases.clear();
    this.heldLocks.clear();
    this.subscriptions.clear();
    this.subscriber.off('message', this.onMessage);
    await Promise.all([this.quit(this.client), this.quit(this.subscriber)]);
    this.state = 'closed';
  }

  private async quit(connection: Redis | Cluster): Promise<void> {
    try {
      await this.call('quit', () => connection.quit());
    } catch {
      // Redis is unreachable; dropping the socket (and stopping reconnects) is all that is left.
    } finally {
      // Also after a clean QUIT: only disconnect() closes the Sentinel failover detector's own
      // connections to the sentinels, which would otherwise keep the process alive.
      connection.disconnect();
    }
  }

  private readonly onMessage = (channel: string, message: string): void => {
    const subscription = this.subscriptions.get(channel);
    if (!subscription) return;
    for (const { handler } of subscription.handlers) {
      try {
        handler(message);
      } catch (error) {
        this.onError(error);
      }
    }
  };

  /** MGET on one server; in Cluster the keys may live in different slots, so one GET each. */
  private async getMany(what: string, keys: string[]): Promise<(string | null)[]> {
    this.assertOpen();
    if (keys.length === 0) return [];
    const fullKeys = keys.map((key) => this.key(key));
    const client = this.client;
    return this.call(what, () =>
      client.isCluster
        ? Promise.all(fullKeys.map((key) => client.get(key)))
        : client.mget(...fullKeys),
    );
  }

  /**
   * Runs one Redis call with a hard deadline and maps every failure to CoordinationException.
   * The deadline also covers Cluster, whose offline queue has no command timeout of its own.
   */
  private async call<T>(
    what: string,
    run: () => Promise<T>,
    timeoutMs = this.callTimeoutMs,
  ): Promise<T> {
    this.onCall?.(what);
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const message = `Redis ${what} did not answer within ${timeoutMs} ms`;
        reject(new CoordinationException(CoordinationExceptionCode.UNAVAILABLE, message));
      }, timeoutMs);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (error) {
      throw toCoordinationException(what, error);
    } finally {
      clearTimeout(timer);
      this.onDuration?.(what, (performance.now() - startedAt) / 1000);
    }
  }

  private key(key: string): string {
    return this.keyPrefix + key;
  }

  private member(leaseId: string): string {
    return `${this.instanceId}:${leaseId}`;
  }

  private trackLease(fullKey: string, member: string, ttlMs: number): void {
    let members = this.heldLeases.get(fullKey);
    if (!members) {
      members = new Map();
      this.heldLeases.set(fullKey, members);
    }
    members.set(member, Date.now() + ttlMs);
    // Leases that expired without a release would otherwise pile up here.
    this.heldLeasesSincePrune += 1;
    if (this.heldLeasesSincePrune < HELD_LEASE_PRUNE_EVERY) return;
    this.heldLeasesSincePrune = 0;
    const now = Date.now();
    for (const [key, held] of this.heldLeases) {
      for (const [heldMember, expiresAtMs] of held) if (expiresAtMs < now) held.delete(heldMember);
      if (held.size === 0) this.heldLeases.delete(key);
    }
  }

  private untrackLease(fullKey: string, member: string): void {
    const members = this.heldLeases.get(fullKey);
    members?.delete(member);
    if (members?.size === 0) this.heldLeases.delete(fullKey);
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new CoordinationException(CoordinationExceptionCode.CLOSED, 'Coordinator is closed');
    }
  }
}
