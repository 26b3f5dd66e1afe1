import {
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import type { NotificationPayload, OutboxEvent } from 'src/infra/outbox/outbox.types';
import type { NotificationMessage } from './channels/channel.types';
import { nextAttemptAt, type RetryPolicy } from './delivery-backoff';
import {
  NotificationDeliveriesRepository,
  type NotificationDeliveryRecord,
} from './notification-deliveries.repository';
import { NotificationSender } from './notification-sender';
import {
  NotificationTargetsRepository,
  type NotificationTargetRecord,
} from './notification-targets.repository';

/** Outbox events handed on per tick. */
export const FANOUT_BATCH = 200;
/** Deliveries sent per tick, at most SEND_CONCURRENCY at a time. */
export const SEND_BATCH = 20;
const SEND_CONCURRENCY = 4;
export const DISPATCH_LOCK = coordinationKeys.lock('notifications');

/** The message of an outbox event, as every target receives it. */
export function messageOf(event: OutboxEvent): NotificationMessage {
  const payload = event.payload as NotificationPayload;
  return {
    eventId: event.id,
    type: event.type as NotificationMessage['type'],
    occurredAt: new Date(event.createdAt).toISOString(),
    severity: payload.severity,
    title: payload.title,
    message: payload.message,
    subject: payload.subject,
    data: payload.data ?? {},
  };
}

export function subscribes(target: NotificationTargetRecord, type: string): boolean {
  if (target.events === null) return true;
  try {
    return (JSON.parse(target.events) as string[]).includes(type);
  } catch {
    return false;
  }
}

/** One delivery per (event, enabled target subscribed to its type). Pure. */
export function fanOutRows(
  events: readonly OutboxEvent[],
  targets: readonly NotificationTargetRecord[],
  now: number,
): NotificationDeliveryRecord[] {
  const rows: NotificationDeliveryRecord[] = [];
  for (const event of events) {
    const message = JSON.stringify(messageOf(event));
    for (const target of targets) {
      if (target.enabled !== 1 || !subscribes(target, event.type)) continue;
      rows.push({
        id: timeOrderedId(now),
        event_id: event.id,
        target_id: target.id,
        event_type: event.type,
        message,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        last_status: null,
        last_error: null,
        last_duration_ms: null,
        delivered_at: null,
        created_at: now,
        updated_at: now,
      });
    }
  }
  return rows;
}

/**
 * Hands `notification` outbox events to their targets, off the request path, on one instance at
 * a time (coordinator lock). Each tick:
 *
 * 1. fan-out: the oldest pending events become one delivery row per enabled, subscribed target,
 *    and are marked processed in the same transaction (a crash in between repeats the fan-out,
 *    which the unique (event, target) pair makes harmless);
 * 2. send: up to SEND_BATCH due deliveries, each first claimed by a compare-and-set that moves
 *    its next attempt past the send timeout, then recorded by a compare-and-set on the attempts
 *    read. A lock that expired mid-tick therefore still never lets a second instance send the
 *    same attempt. Failures retry with exponential backoff and jitter until NOTIFY_MAX_ATTEMPTS
 *    or NOTIFY_MAX_AGE_MS, then the delivery is `failed`.
 *
 * Ticks never overlap: the next is armed when one ends. Stopped at shutdown (the tick in
 * progress finishes first).
 */
@Injectable()
export class NotificationDispatcher implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly lockTtlMs: number;

  constructor(
    config: ConfigService,
    @InjectDb() private readonly db: Db,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    private readonly outbox: OutboxRepository,
    private readonly targets: NotificationTargetsRepository,
    private readonly deliveries: NotificationDeliveriesRepository,
    private readonly sender: NotificationSender,
  ) {
    const env = config.env;
    this.intervalMs = env.NOTIFY_POLL_INTERVAL_MS;
    this.timeoutMs = env.NOTIFY_TIMEOUT_MS;
    this.policy = {
      baseMs: env.NOTIFY_BACKOFF_BASE_MS,
      maxMs: Math.max(env.NOTIFY_BACKOFF_BASE_MS, env.NOTIFY_BACKOFF_MAX_MS),
      maxAttempts: env.NOTIFY_MAX_ATTEMPTS,
      maxAgeMs: env.NOTIFY_MAX_AGE_MS,
    };
    // Longer than the slowest tick: every round of sends bounded by the timeout, plus margin.
    this.lockTtlMs = this.timeoutMs * (Math.ceil(SEND_BATCH / SEND_CONCURRENCY) + 2) + 30_000;
  }

  onApplicationBootstrap(): void {
    this.schedule();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => {
          appLogger.warn({ err: error }, 'notification dispatch failed; retrying at the next tick');
        })
        .finally(() => {
          this.running = null;
          this.schedule();
        });
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One tick under the lock; does nothing when another instance holds it. */
  async tick(now: () => number = Date.now): Promise<{ fannedOut: number; sent: number } | null> {
    const lock = await this.coordinator.acquireLock(DISPATCH_LOCK, this.lockTtlMs);
    if (lock === null) return null;
    try {
      const fannedOut = await this.fanOut(now());
      const sent = await this.sendDue(now);
      return { fannedOut, sent };
    } finally {
      await this.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  /** Turns pending notification events into delivery rows; returns the rows created. */
  async fanOut(now: number): Promise<number> {
    const events = await this.outbox.pending('notification', FANOUT_BATCH);
    if (events.length === 0) return 0;
    const targets = await this.targets.listEnabled();
    const rows = fanOutRows(events, targets, now);
    return this.db.transaction().execute(async (trx) => {
      const inserted = await this.deliveries.insertMany(rows, trx);
      await this.outbox.markProcessed(
        events.map((event) => event.id),
        now,
        trx,
      );
      return inserted;
    });
  }

  /** Sends the deliveries that are due; returns how many attempts were made. */
  async sendDue(now: () => number = Date.now): Promise<number> {
    const due = await this.deliveries.due(now(), SEND_BATCH);
    if (due.length === 0) return 0;
    const targets = new Map((await this.targets.list()).map((t) => [t.id, t]));
    let sent = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < due.length) {
        const row = due[next++];
        if (await this.attempt(row, targets.get(row.target_id), now)) sent += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(SEND_CONCURRENCY, due.length) }, worker));
    return sent;
  }

  private async attempt(
    row: NotificationDeliveryRecord,
    target: NotificationTargetRecord | undefined,
    now: () => number,
  ): Promise<boolean> {
    const claimedAt = now();
    if (!(await this.deliveries.claim(row, claimedAt + 2 * this.timeoutMs + 5000, claimedAt))) {
      return false;
    }
    let outcome;
    if (target === undefined || target.enabled !== 1) {
      outcome = {
        ok: false,
        status: null,
        error: target === undefined ? 'the target was deleted' : 'the target is disabled',
        retryable: false,
        durationMs: 0,
      };
    } else {
      outcome = await this.sender.send(target, JSON.parse(row.message) as NotificationMessage);
    }
    const at = now();
    const attempts = row.attempts + 1;
    const retryAt = outcome.ok
      ? null
      : nextAttemptAt(attempts, row.created_at, at, outcome.retryable, this.policy);
    const status = outcome.ok ? 'delivered' : retryAt === null ? 'failed' : 'pending';
    const recorded = await this.deliveries.recordAttempt(row.id, row.attempts, {
      status,
      nextAttemptAt: retryAt,
      lastStatus: outcome.status,
      lastError: outcome.error,
      durationMs: outcome.durationMs,
      deliveredAt: outcome.ok ? at : null,
      now: at,
    });
    if (status === 'failed') {
      appLogger.warn(
        { deliveryId: row.id, targetId: row.target_id, eventType: row.event_type, attempts },
        `notification delivery gave up: ${outcome.error ?? 'unknown error'}`,
      );
    }
    return recorded;
  }
}
