import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { ApiKeyHasher } from 'src/infra/crypto/api-key-hasher';
import { checkKey } from './api-key-policy';
import { ApiKeyException } from './api-keys.exception';
import { KeyRejectionCode } from './api-key.types';
import { MAX_SECRET_LENGTH } from './api-key-secret';
import { toPolicy } from './api-key.mapper';
import type { ApiKeyPolicy } from './api-key.types';
import { ApiKeysRepository, type ApiKeyUse } from './api-keys.repository';

/** Keys known to this instance at once; beyond it the least recently used are dropped. */
const MAX_ENTRIES = 10_000;
/** Unknown digests remembered, so a client retrying a wrong key does not query SQL each time. */
const MAX_NEGATIVE_ENTRIES = 10_000;
const NEGATIVE_TTL_MS = 5_000;
/** First use (which starts a relative expiry) reaches SQL within this. */
const USE_FLUSH_INTERVAL_MS = 5_000;
/** last_used_at is written at most this often per key: it is for humans, minute precision. */
const LAST_USED_RESOLUTION_MS = 60_000;
const SUBSCRIBE_RETRY_MS = 5_000;
/** While SQL is unreachable, one warning per this interval, not one per request. */
const STALE_WARNING_INTERVAL_MS = 10_000;
/** A message on the invalidation channel that drops every cached key. */
export const INVALIDATE_ALL = '*';

interface Entry {
  policy: ApiKeyPolicy | null;
  expiresAtMs: number;
}

/**
 * Turns a presented secret into the key's policy: digest, then an in-process cache, then SQL on
 * a miss. Zero SQL on the hot path once warm.
 *
 * Every admin change publishes the key id on `keyInvalidation`; every instance drops that key at
 * once, so a disable on one instance holds on all of them within the pub/sub latency. The TTL
 * (API_KEY_CACHE_TTL_MS) only bounds staleness should a message be lost.
 *
 * An expired entry is kept until SQL answers: should SQL be unreachable, the key's last known
 * policy keeps serving (an admin change would have dropped the entry outright), so a database
 * outage does not turn away the keys in use. A key never seen here gets a 503 until SQL is back.
 */
@Injectable()
export class ApiKeyAuthenticator implements OnModuleInit, OnApplicationShutdown {
  /** digest -> entry, in least-recently-used order (a Map iterates in insertion order). */
  private readonly entries = new Map<string, Entry>();
  private readonly negative = new Map<string, number>();
  /** key id -> digest of its cached entry, to drop it by id. */
  private readonly digestOf = new Map<string, string>();
  /** One SQL lookup per digest at a time, however many requests miss together. */
  private readonly loading = new Map<string, Promise<ApiKeyPolicy | null>>();
  /** Bumped by every invalidation; a lookup that raced one is returned but not cached. */
  private generation = 0;

  private readonly pendingUse = new Map<string, ApiKeyUse>();
  private readonly lastUseWritten = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private subscribeTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private lastStaleWarningMs = 0;

  constructor(
    private readonly repository: ApiKeysRepository,
    private readonly hasher: ApiKeyHasher,
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.subscribe();
    this.flushTimer = setInterval(() => void this.flushUsage(), USE_FLUSH_INTERVAL_MS);
    this.flushTimer.unref();
  }

  /** Runs after the HTTP server drained, before the database and coordinator close. */
  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.flushTimer);
    clearTimeout(this.subscribeTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.().catch(() => undefined);
    await this.flushUsage();
  }

  /**
   * The policy of the key with this secret, or null when no key has it. Deleted, disabled and
   * expired keys are returned as they are: `checkKey` tells them apart. Recording the use of a
   * usable key (first use, last use) happens off the hot path.
   */
  async authenticate(secret: string, now = Date.now()): Promise<ApiKeyPolicy | null> {
    if (secret.length === 0 || secret.length > MAX_SECRET_LENGTH) return null;
    const digest = this.hasher.digest(secret);
    let policy = this.cached(digest, now);
    if (policy === undefined) policy = await this.load(digest);
    if (policy !== null && checkKey(policy, now) === null)
      policy = this.noteUse(policy, digest, now);
    return policy;
  }

  /** Drops a key from this instance's cache (the service also publishes it to the others). */
  invalidate(keyId: string): void {
    this.generation += 1;
    // A lookup in flight may have read the row before the change: let later callers start anew.
    this.loading.clear();
    if (keyId === INVALIDATE_ALL) {
      this.entries.clear();
      this.digestOf.clear();
      return;
    }
    const digest = this.digestOf.get(keyId);
    if (digest !== undefined) this.entries.delete(digest);
    this.digestOf.delete(keyId);
  }

  /** Cached keys (positive entries), for tests and metrics. */
  get size(): number {
    return this.entries.size;
  }

  /** Writes pending first / last use to SQL; failed writes are kept for the next flush. */
  async flushUsage(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.pendingUse.size === 0) return;
    const uses = [...this.pendingUse.values()];
    this.pendingUse.clear();
    this.flushing = this.repository
      .recordUse(uses)
      .catch((error: unknown) => {
        appLogger.warn({ err: error, keys: uses.length }, 'recording API key use failed; retrying');
        for (const use of uses) this.mergeUse(use);
      })
      .finally(() => {
        this.flushing = undefined;
      });
    await this.flushing;
  }

  private cached(digest: string, now: number): ApiKeyPolicy | null | undefined {
    const entry = this.entries.get(digest);
    if (entry !== undefined) {
      if (entry.expiresAtMs > now) {
        // Re-insert: the Map's order is the eviction order.
        this.entries.delete(digest);
        this.entries.set(digest, entry);
        return entry.policy;
      }
      // Expired: kept as the fallback should the reload fail (see load).
      return undefined;
    }
    const negativeUntil = this.negative.get(digest);
    if (negativeUntil !== undefined) {
      if (negativeUntil > now) return null;
      this.negative.delete(digest);
    }
    return undefined;
  }

  private load(digest: string): Promise<ApiKeyPolicy | null> {
    const inFlight = this.loading.get(digest);
    if (inFlight !== undefined) return inFlight;
    const generation = this.generation;
    const promise = this.repository
      .findByDigest(digest)
      .then(
        (record) => {
          const policy = record === undefined ? null : toPolicy(record);
          if (generation === this.generation) this.store(digest, policy, Date.now());
          return policy;
        },
        (error: unknown) => this.stale(digest, error),
      )
      .finally(() => {
        if (this.loading.get(digest) === promise) this.loading.delete(digest);
      });
    this.loading.set(digest, promise);
    return promise;
  }

  /** The expired entry's policy when SQL failed, or a 503 when this instance never had the key. */
  private stale(digest: string, error: unknown): ApiKeyPolicy {
    const entry = this.entries.get(digest);
    const now = Date.now();
    if (now - this.lastStaleWarningMs >= STALE_WARNING_INTERVAL_MS) {
      this.lastStaleWarningMs = now;
      appLogger.warn(
        { err: error, servedFromCache: entry?.policy != null },
        'reading an API key from SQL failed; serving cached keys until it answers',
      );
    }
    if (entry?.policy != null) return entry.policy;
    throw new ApiKeyException(
      KeyRejectionCode.KEY_STORE_UNAVAILABLE,
      'API keys cannot be checked right now; retry shortly',
    );
  }

  private dropEntry(digest: string): void {
    const entry = this.entries.get(digest);
    if (entry === undefined) return;
    this.entries.delete(digest);
    if (entry.policy !== null && this.digestOf.get(entry.policy.id) === digest) {
      this.digestOf.delete(entry.policy.id);
    }
  }

  private store(digest: string, policy: ApiKeyPolicy | null, now: number): void {
    if (policy === null) {
      this.dropEntry(digest);
      if (this.negative.size >= MAX_NEGATIVE_ENTRIES) this.evictOldest(this.negative);
      this.negative.set(digest, now + NEGATIVE_TTL_MS);
      return;
    }
    this.negative.delete(digest);
    // A rotated key's old digest may still be cached under the same id.
    const previous = this.digestOf.get(policy.id);
    if (previous !== undefined && previous !== digest) this.entries.delete(previous);
    if (!this.entries.has(digest) && this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.entries().next().value;
      if (oldest !== undefined) {
        this.entries.delete(oldest[0]);
        if (oldest[1].policy !== null) this.digestOf.delete(oldest[1].policy.id);
      }
    }
    this.entries.set(digest, { policy, expiresAtMs: now + this.config.env.API_KEY_CACHE_TTL_MS });
    this.digestOf.set(policy.id, digest);
  }

  private evictOldest(map: Map<string, unknown>): void {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }

  /**
   * Queues the use for the next flush. A first use also updates the cached policy at once, so
   * this instance starts a relative expiry's clock now rather than after the next SQL read.
   */
  private noteUse(policy: ApiKeyPolicy, digest: string, now: number): ApiKeyPolicy {
    let current = policy;
    let firstUsedAt: number | null = null;
    if (policy.firstUsedAt === null) {
      firstUsedAt = now;
      current = Object.freeze({ ...policy, firstUsedAt: now });
      const entry = this.entries.get(digest);
      if (entry?.policy === policy) this.entries.set(digest, { ...entry, policy: current });
    } else if (now - (this.lastUseWritten.get(policy.id) ?? 0) < LAST_USED_RESOLUTION_MS) {
      return current;
    }
    this.lastUseWritten.set(policy.id, now);
    if (this.lastUseWritten.size > MAX_ENTRIES) this.evictOldest(this.lastUseWritten);
    this.mergeUse({ id: policy.id, firstUsedAt, lastUsedAt: now });
    return current;
  }

  private mergeUse(use: ApiKeyUse): void {
    const pending = this.pendingUse.get(use.id);
    if (pending === undefined) {
      this.pendingUse.set(use.id, use);
      return;
    }
    const firstUsedAt =
      pending.firstUsedAt === null || use.firstUsedAt === null
        ? (pending.firstUsedAt ?? use.firstUsedAt)
        : Math.min(pending.firstUsedAt, use.firstUsedAt);
    this.pendingUse.set(use.id, {
      id: use.id,
      firstUsedAt,
      lastUsedAt: Math.max(pending.lastUsedAt, use.lastUsedAt),
    });
  }

  /**
   * Subscribes to invalidations. When the coordinator cannot subscribe at start (Redis down),
   * the instance still starts and keeps retrying; until then the TTL bounds staleness.
   */
  private async subscribe(retry = false): Promise<void> {
    try {
      this.unsubscribe = await this.coordinator.subscribe(
        coordinationKeys.channels.keyInvalidation,
        (message) => this.invalidate(message),
      );
      // Changes made while unsubscribed were never heard of: start from SQL again.
      if (retry) this.invalidate(INVALIDATE_ALL);
    } catch (error) {
      appLogger.warn({ err: error }, 'subscribing to API key invalidations failed; retrying');
      if (this.stopped) return;
      this.subscribeTimer = setTimeout(() => void this.subscribe(true), SUBSCRIBE_RETRY_MS);
      this.subscribeTimer.unref();
    }
  }
}
