import { appLogger } from 'src/common/logging/app-logger';

/** Something holding a lease that must be renewed while it lives. */
export interface RenewableLease {
  /**
   * Extends the lease; resolves false when the lease is gone (it expired, or was released),
   * rejects on coordinator errors.
   */
  renew(): Promise<boolean>;
  /** Logged beside a failed renewal (ids only, never secrets). */
  readonly logContext: Record<string, string>;
}

/** The renewal timer ticks at most this far apart, so a lease is renewed close to when it is due. */
const RENEW_TICK_MAX_MS = 1000;

/**
 * Renews leases every third of their TTL from one timer per process instead of an interval per
 * request (which cost a timer to create and clear on every request, and thousands of timers
 * under many long streams). The timer runs only while some lease is renewing; renewals stay
 * spread over time as each comes due.
 *
 * A lease whose renewal answers "gone" is dropped here and logged once: renewing it again can
 * never succeed, and a renewer that kept going would keep a lost request's slot alive for ever.
 * A renewal that fails on a coordinator error is retried at the next due time, since the lease
 * may still be there; its owner's release ends it either way.
 */
export class LeaseRenewer {
  private readonly due = new Map<RenewableLease, number>();
  private timer: NodeJS.Timeout | undefined;
  readonly intervalMs: number;
  private readonly tickMs: number;

  constructor(leaseTtlMs: number) {
    this.intervalMs = Math.max(1, Math.floor(leaseTtlMs / 3));
    this.tickMs = Math.min(this.intervalMs, RENEW_TICK_MAX_MS);
  }

  get size(): number {
    return this.due.size;
  }

  add(lease: RenewableLease): void {
    if (this.due.has(lease)) return;
    this.due.set(lease, Date.now() + this.intervalMs);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.tick(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(lease: RenewableLease): void {
    // The timer stops at its next tick when nothing is left, not here: with one request at a
    // time, stopping and starting it on every request would cost what it saves.
    this.due.delete(lease);
  }

  has(lease: RenewableLease): boolean {
    return this.due.has(lease);
  }

  /** Stops every renewal (shutdown). */
  clear(): void {
    this.due.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.due.size === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = Date.now();
    for (const [lease, dueAt] of this.due) {
      if (dueAt > now) continue;
      this.due.set(lease, dueAt + this.intervalMs);
      lease.renew().then(
        (renewed) => {
          if (renewed || !this.due.has(lease)) return;
          this.due.delete(lease);
          appLogger.warn(lease.logContext, 'lease lost before its request ended; renewal stopped');
        },
        (error: unknown) => {
          appLogger.warn({ err: error, ...lease.logContext }, 'lease renewal failed');
        },
      );
    }
  }
}
