import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { BoundedQueue } from 'src/common/collections/bounded-queue';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import type { AuditLogTable } from 'src/infra/database/database.types';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { auditDiff } from './audit-diff';
import { maskSecretText, sanitize } from './audit-sanitizer';
import { AuditRepository } from './audit.repository';
import { AUDIT_SUCCESS, type AuditEvent } from './audit.types';

/** Rows per INSERT. */
const BATCH_ROWS = 200;
const RETRY_BASE_MS = 250;
const RETRY_MAX_MS = 5000;
const ERROR_LOG_EVERY_MS = 30_000;
/** Refusals in a row, nothing stored, that mean the database refuses every write. */
const ISOLATION_PROBES = 3;
/** A snapshot or diff larger than this (JSON characters) is stored as a marker instead. */
const MAX_JSON_CHARS = 64 * 1024;

const DROP_REASONS = ['queue_full', 'rejected', 'shutdown'] as const;
type DropReason = (typeof DROP_REASONS)[number];

function clip(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  return value.length > max ? value.slice(0, max) : value;
}

function json(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = JSON.stringify(value);
  return text.length > MAX_JSON_CHARS
    ? JSON.stringify({ truncated: true, chars: text.length })
    : text;
}

/**
 * The row stored for an event: snapshots sanitized, the diff computed (on a success that has a
 * snapshot; a failed mutation changed nothing), free-text columns masked and cut to their size
 * so that no row can fail its insert.
 */
export function toAuditRow(event: AuditEvent, now = Date.now()): AuditLogTable {
  const at = event.at ?? now;
  const hasSnapshot = event.before !== undefined || event.after !== undefined;
  return {
    id: timeOrderedId(at),
    at,
    actor: clip(maskSecretText(event.actor), 200) ?? '',
    actor_id: clip(event.actorId, 64),
    actor_role: clip(event.actorRole, 32),
    source: clip(event.source, 64) ?? '',
    action: clip(event.action, 120) ?? '',
    target_type: clip(event.targetType, 64),
    target_id: clip(
      event.targetId === null || event.targetId === undefined
        ? null
        : maskSecretText(event.targetId),
      200,
    ),
    outcome: clip(event.outcome, 64) ?? '',
    status: event.status ?? null,
    request_id: clip(event.requestId, 64),
    diff:
      event.outcome === AUDIT_SUCCESS && hasSnapshot
        ? json(auditDiff(event.before ?? null, event.after ?? null))
        : null,
    before: json(event.before === undefined ? null : sanitize(event.before)),
    after: json(event.after === undefined ? null : sanitize(event.after)),
  };
}

/**
 * Write-behind for audit rows, like the usage recorder's: `record` builds the row (sanitized)
 * and queues it, never blocking nor throwing; a flusher inserts batches right after. A failed
 * write is logged and retried with backoff; the request that caused the row is never failed by
 * it. While the database is down the queue holds AUDIT_QUEUE_MAX rows, then drops the oldest
 * (counted in `switchyard_audit_rows_dropped_total`, logged). On shutdown (after the HTTP server
 * closed, before the database does) everything queued is written, for at most
 * SHUTDOWN_TIMEOUT_MS. `write` is the awaited path the CLI takes: it exits right after.
 */
@Injectable()
export class AuditRecorder implements OnApplicationShutdown {
  private readonly queue: BoundedQueue<AuditLogTable>;
  private readonly shutdownTimeoutMs: number;
  private running: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private closed = false;
  private lastErrorLogAt = 0;
  private inFlight = 0;
  private droppedSinceLog = 0;
  private lastDropLogAt = 0;
  private readonly written: Counter;
  private readonly dropped: Counter<'reason'>;

  constructor(
    config: ConfigService,
    metrics: MetricsService,
    private readonly repository: AuditRepository,
  ) {
    this.queue = new BoundedQueue<AuditLogTable>(config.env.AUDIT_QUEUE_MAX);
    this.shutdownTimeoutMs = config.env.SHUTDOWN_TIMEOUT_MS;
    const registers = [metrics.registry];
    const pending = (): number => this.pending;
    new Gauge({
      name: 'switchyard_audit_queue_depth',
      help: 'Audit rows waiting to be written',
      registers,
      collect() {
        this.set(pending());
      },
    });
    this.written = new Counter({
      name: 'switchyard_audit_rows_written_total',
      help: 'Audit rows written to the database',
      registers,
    });
    this.dropped = new Counter({
      name: 'switchyard_audit_rows_dropped_total',
      help: 'Audit rows lost: queue_full (oldest evicted while the database was unreachable), rejected (refused by the database), shutdown (unwritten when shutdown timed out)',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of DROP_REASONS) this.dropped.inc({ reason }, 0);
  }

  get pending(): number {
    return this.queue.size + this.inFlight;
  }

  /** Queues one row. Never blocks, never throws. */
  record(event: AuditEvent): void {
    try {
      const evicted = this.queue.push(toAuditRow(event));
      if (evicted > 0) this.drop('queue_full', evicted);
      if (this.timer === null && this.running === null) this.schedule(0);
    } catch (error) {
      appLogger.error({ err: error, action: event.action }, 'audit row could not be queued');
    }
  }

  /** Writes one row now (the CLI's path). A failure is logged, not thrown. */
  async write(event: AuditEvent): Promise<void> {
    try {
      await this.repository.insertMany([toAuditRow(event)]);
      this.written.inc();
    } catch (error) {
      this.drop('rejected', 1);
      appLogger.error({ err: error, action: event.action }, 'audit row could not be written');
    }
  }

  /** Writes everything queued so far; rejects when the database refuses (rows stay queued). */
  async flush(): Promise<void> {
    for (;;) {
      if (this.running !== null) {
        await this.running;
        continue;
      }
      if (this.queue.size === 0) return;
      this.clearTimer();
      if (!(await this.run())) throw new Error('audit rows could not be written');
    }
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    const deadline = Date.now() + this.shutdownTimeoutMs;
    while (this.pending > 0 && Date.now() < deadline) {
      try {
        await this.flush();
      } catch {
        await new Promise((resolve) =>
          setTimeout(resolve, Math.max(0, Math.min(this.retryDelay(), deadline - Date.now()))),
        );
      }
    }
    const left = this.queue.size;
    if (left > 0) {
      this.queue.take(left);
      this.drop('shutdown', left);
      appLogger.error({ lost: left }, 'audit rows unwritten at shutdown');
    }
  }

  private schedule(delayMs: number): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run().then((ok) => {
        if (this.queue.size > 0) this.schedule(ok ? 0 : this.retryDelay());
      });
    }, delayMs);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private retryDelay(): number {
    return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.failures, 10));
  }

  /** One pass over the queue; false when the database refused and rows went back. */
  private run(): Promise<boolean> {
    const running = this.drain().finally(() => {
      this.running = null;
    });
    this.running = running;
    return running;
  }

  private async drain(): Promise<boolean> {
    while (this.queue.size > 0) {
      const batch = this.queue.take(BATCH_ROWS);
      this.inFlight = batch.length;
      try {
        await this.repository.insertMany(batch);
        this.written.inc(batch.length);
        this.failures = 0;
      } catch (error) {
        // One bad row must not hold the others back: try them one by one. When none goes in,
        // the database is down: all go back and the flusher retries later.
        const refused = await this.insertEach(batch);
        if (refused === 'down') {
          const evicted = this.queue.putBack(batch);
          if (evicted > 0) this.drop('queue_full', evicted);
          this.failures += 1;
          this.logFailure(error, batch.length);
          return false;
        }
        if (refused.length > 0) {
          this.drop('rejected', refused.length);
          appLogger.error(
            { err: error, rejected: refused.map((row) => row.action) },
            'audit rows refused by the database',
          );
        }
      } finally {
        this.inFlight = 0;
      }
    }
    return true;
  }

  /**
   * The rows of a refused batch one by one; the ones refused again are returned. 'down' when
   * the first ISOLATION_PROBES all fail: the database refuses everything, nothing was written.
   */
  private async insertEach(batch: AuditLogTable[]): Promise<AuditLogTable[] | 'down'> {
    const refused: AuditLogTable[] = [];
    let stored = 0;
    for (const row of batch) {
      try {
        await this.repository.insertMany([row]);
        this.written.inc();
        stored += 1;
      } catch {
        refused.push(row);
        if (stored === 0 && refused.length >= Math.min(ISOLATION_PROBES, batch.length)) {
          // Nothing of this batch is stored yet: all of it goes back.
          return 'down';
        }
      }
    }
    return refused;
  }

  private logFailure(error: unknown, rows: number): void {
    const now = Date.now();
    if (now - this.lastErrorLogAt < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLogAt = now;
    appLogger.error(
      { err: error, rows, queued: this.queue.size },
      'audit rows could not be written; retrying',
    );
  }

  private drop(reason: DropReason, count: number): void {
    this.dropped.inc({ reason }, count);
    if (reason !== 'queue_full') return;
    this.droppedSinceLog += count;
    const now = Date.now();
    if (now - this.lastDropLogAt < ERROR_LOG_EVERY_MS) return;
    appLogger.warn({ dropped: this.droppedSinceLog }, 'audit queue full: oldest rows dropped');
    this.droppedSinceLog = 0;
    this.lastDropLogAt = now;
  }
}
