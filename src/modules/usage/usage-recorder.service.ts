import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { BoundedQueue } from 'src/common/collections/bounded-queue';
import { JOURNAL_HEARTBEAT_MS, journalHost, UsageJournal, type ClaimedFile } from './usage-journal';
import { retentionHorizon } from './usage-range';
import { UsageRepository, type UsageBatchWriter } from './usage.repository';
import type { UsageEvent } from './usage.types';

const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 5000;
const OUTAGE_LOG_EVERY_MS = 30_000;
const DROP_LOG_EVERY_MS = 10_000;
/**
 * A batch that fails this many times in a row while the database still answers a ping probably
 * holds an event the database will never take; it is then written event by event so that one
 * bad event cannot hold every later one back.
 */
const SUSPECT_BATCH_AFTER_FAILURES = 3;
/** Refusals in a row, with nothing stored, that mean the database refuses every write. */
const ISOLATION_PROBES = 3;

const DROP_REASONS = ['queue_full', 'rejected', 'shutdown'] as const;
export type UsageDropReason = (typeof DROP_REASONS)[number];

type RecorderState = 'open' | 'draining' | 'closed';

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function message(error: unknown): string {
  return toError(error).message;
}

/**
 * Write-behind for usage events. The relay calls `record` when a request finishes; the event
 * goes into a bounded in-memory queue and the call returns at once. A flusher writes batches of
 * up to USAGE_BATCH_SIZE, each in one transaction, as soon as a batch is full and at the latest
 * USAGE_FLUSH_INTERVAL_MS after the first waiting event arrived.
 *
 * When the database fails, the batch goes back to the front of the queue and is retried with
 * backoff (up to 5 s); nothing reaches the relay. While it stays down the queue keeps at most
 * USAGE_QUEUE_MAX events (plus the one batch being written); beyond that the oldest are dropped,
 * counted in `switchyard_usage_events_dropped_total` and logged. On shutdown everything queued is
 * written, for at most SHUTDOWN_TIMEOUT_MS.
 *
 * With USAGE_JOURNAL (the default) every event is also appended to a local journal (see
 * UsageJournal) in the same event-loop turn, and its segment is deleted once its events are in
 * SQL. At start, journals of dead processes are replayed before the server listens: rows are
 * idempotent by request id, so an event both stored and still journaled is not counted twice.
 * Events dropped from a full queue or at a shutdown that timed out stay in the journal and are
 * replayed at the next start.
 */
@Injectable()
export class UsageRecorder implements OnModuleInit, OnApplicationShutdown {
  private readonly queue: BoundedQueue<UsageEvent>;
  private readonly journalDir: string | null;
  private readonly journalFsync: boolean;
  private journal: UsageJournal | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly journalErrors: Counter;
  private readonly replayedTotal: Counter;
  private readonly batchSize: number;
  private readonly flushIntervalMs: number;
  private readonly shutdownTimeoutMs: number;

  private state: RecorderState = 'open';
  /** Events taken from the queue by the write in progress. */
  private inFlight = 0;
  private running: Promise<boolean> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerIsRetry = false;
  private immediate: NodeJS.Immediate | null = null;

  private consecutiveFailures = 0;
  private lastError: unknown = undefined;
  private outageStartedAt: number | null = null;
  private lastOutageLogAt = 0;
  private droppedSinceLog = 0;
  private lastDropLogAt = 0;

  private readonly writtenTotal: Counter;
  private readonly droppedTotal: Counter<'reason'>;
  private readonly flushDuration: Histogram<'outcome'>;

  constructor(
    config: ConfigService,
    metrics: MetricsService,
    @Inject(UsageRepository) private readonly writer: UsageBatchWriter,
    private readonly settings: RuntimeSettings,
  ) {
    const env = config.env;
    this.queue = new BoundedQueue<UsageEvent>(env.USAGE_QUEUE_MAX);
    this.batchSize = Math.min(env.USAGE_BATCH_SIZE, env.USAGE_QUEUE_MAX);
    this.flushIntervalMs = env.USAGE_FLUSH_INTERVAL_MS;
    this.shutdownTimeoutMs = env.SHUTDOWN_TIMEOUT_MS;
    this.journalDir = env.USAGE_JOURNAL ? join(config.dataDir, 'usage-journal') : null;
    this.journalFsync = env.USAGE_JOURNAL_FSYNC;

    const registers = [metrics.registry];
    const pending = (): number => this.pending;
    new Gauge({
      name: 'switchyard_usage_queue_depth',
      help: 'Usage events waiting to be written (queued plus the batch being written)',
      registers,
      collect() {
        this.set(pending());
      },
    });
    this.writtenTotal = new Counter({
      name: 'switchyard_usage_events_written_total',
      help: 'Usage events written to the database',
      registers,
    });
    this.droppedTotal = new Counter({
      name: 'switchyard_usage_events_dropped_total',
      help: 'Usage events lost: queue_full (oldest evicted while the database was unreachable), rejected (refused by the database), shutdown (unwritten when shutdown timed out)',
      labelNames: ['reason'] as const,
      registers,
    });
    // Export every reason at 0 from the start, so alerts on increase() see the first drop.
    for (const reason of DROP_REASONS) this.droppedTotal.inc({ reason }, 0);
    this.flushDuration = new Histogram({
      name: 'switchyard_usage_flush_duration_seconds',
      help: 'Time to write one usage batch, by outcome',
      labelNames: ['outcome'] as const,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.journalErrors = new Counter({
      name: 'switchyard_usage_journal_errors_total',
      help: 'Failed writes to the local usage journal (the events still go to SQL, but a crash then could lose them)',
      registers,
    });
    this.replayedTotal = new Counter({
      name: 'switchyard_usage_journal_replayed_total',
      help: 'Usage events read back from journals of processes that died before storing them',
      registers,
    });
  }

  /**
   * Opens this process's journal and replays those of dead processes before the server listens,
   * so the usage of a crashed run is in SQL (or queued, when the database is down) at start.
   */
  async onModuleInit(): Promise<void> {
    if (this.journalDir === null) return;
    try {
      this.journal = new UsageJournal({
        dir: this.journalDir,
        owner: { host: journalHost(hostname()), pid: process.pid, start: Date.now() },
        fsync: this.journalFsync,
        onWriteError: () => this.journalErrors.inc(),
      });
    } catch (error) {
      // A read-only DATA_DIR must not keep the relay from serving: usage still goes to SQL.
      this.journalErrors.inc();
      appLogger.error(
        { err: error, dir: this.journalDir },
        'usage journal unavailable: usage is written to SQL only, a crash could lose the last second of it',
      );
      return;
    }
    await this.replay(this.journal.claimOrphans());
    this.heartbeat = setInterval(() => this.journalHeartbeat(), JOURNAL_HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  /**
   * Resolves once every event recorded so far is in the journal (in the kernel, not necessarily
   * on disk): the relay awaits it before it ends a response, so a response the client saw
   * complete has its usage on record even if the process dies the next moment.
   */
  journaled(): Promise<void> {
    return this.journal === null ? Promise.resolve() : this.journal.journaled();
  }
  /** Events not yet written: queued plus the batch being written. */
  get pending(): number {
    return this.queue.size + this.inFlight;
  }

  /** Queues a finished request's usage. Never blocks, never does I/O, never throws. */
  record(event: UsageEvent): void {
    try {
      this.journal?.append(event);
      const evicted = this.queue.push(event);
      if (evicted > 0) this.drop('queue_full', evicted);
      if (this.state === 'open') this.wake();
      else this.runSoon();
    } catch (error) {
      appLogger.error({ err: error }, 'usage event could not be queued');
    }
  }

  /**
   * Writes every queued event now. Rejects with the database's error when a write fails; the
   * events then stay queued and the flusher keeps retrying them.
   */
  async flush(): Promise<void> {
    while (this.running !== null || this.queue.size > 0) {
      if (this.running !== null) {
        await this.running;
        continue;
      }
      if (!(await this.run(true))) throw toError(this.lastError);
    }
  }

  /**
   * Runs after the HTTP server has closed (Nest calls it once in-flight requests are done) and
   * before the database module closes its pool (global modules shut down last), so every event
   * the relay recorded can still be written.
   */
  async onApplicationShutdown(): Promise<void> {
    this.state = 'draining';
    this.clearTimers();
    const deadline = Date.now() + this.shutdownTimeoutMs;
    let deadlineTimer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      deadlineTimer = setTimeout(() => resolve('timeout'), this.shutdownTimeoutMs);
    });
    const drain = async (): Promise<'done'> => {
      for (;;) {
        try {
          await this.flush();
          return 'done';
        } catch {
          const wait = Math.min(this.retryDelay(), deadline - Date.now());
          if (wait <= 0) return 'done';
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    };
    try {
      await Promise.race([drain(), timedOut]);
    } finally {
      clearTimeout(deadlineTimer);
      this.state = 'closed';
    }
    const left = this.pending;
    if (left > 0) {
      this.drop('shutdown', left);
      appLogger.error(
        { lost: left, err: { message: message(this.lastError) }, journaled: this.journal !== null },
        this.journal === null
          ? 'usage events could not be written before shutdown: lost'
          : 'usage events could not be written before shutdown: left in the journal for the next start',
      );
      this.queue.take(this.queue.size);
    }
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.journal?.close();
  }

  private journalHeartbeat(): void {
    const journal = this.journal;
    if (journal === null) return;
    journal.heartbeat();
    // Another host's process that died on a shared DATA_DIR: its file goes stale, then is taken.
    const orphans = journal.claimOrphans();
    if (orphans.length > 0) void this.replay(orphans);
  }

  /**
   * Stores claimed journals' events directly, batch by batch; when the database fails, the rest
   * goes through the queue like any event. Events older than the request-log retention are not
   * replayed: their rows may have been stored and pruned already, and replaying them would count
   * them twice in the aggregates.
   */
  private async replay(files: ClaimedFile[]): Promise<void> {
    const journal = this.journal;
    if (journal === null || files.length === 0) return;
    const horizon = retentionHorizon(Date.now(), this.settings.get('requestLogRetentionDays'));
    const events: UsageEvent[] = [];
    const tooOld: UsageEvent[] = [];
    let unreadable = 0;
    for (const file of files) {
      unreadable += file.unreadable;
      for (const event of file.events) (event.at < horizon ? tooOld : events).push(event);
    }
    journal.settle(tooOld);
    this.replayedTotal.inc(events.length);
    appLogger.warn(
      { files: files.length, events: events.length, tooOld: tooOld.length, unreadable },
      'replaying usage journals left by a process that stopped before storing them',
    );
    let stored = 0;
    let next = 0;
    try {
      while (next < events.length) {
        const batch = events.slice(next, next + this.batchSize);
        stored += await this.writer.writeBatch(batch);
        next += batch.length;
        journal.settle(batch);
      }
    } catch (error) {
      appLogger.error(
        { err: { message: message(error) }, left: events.length - next },
        'replayed usage could not be stored yet: queued and retried',
      );
      for (const event of events.slice(next)) {
        const evicted = this.queue.push(event);
        if (evicted > 0) this.drop('queue_full', evicted);
      }
      if (this.state === 'open') this.wake();
    }
    appLogger.info({ replayed: next, newRows: stored }, 'usage journal replayed');
  }

  /** Arms the flusher for newly queued events: at once for a full batch, else after the interval. */
  private wake(): void {
    // A running flush picks new events up itself; a pending retry must not be hurried.
    if (this.running !== null || this.timerIsRetry) return;
    if (this.queue.size >= this.batchSize) this.runSoon();
    else if (this.timer === null) this.setTimer(this.flushIntervalMs, false);
  }

  /**
   * Starts a flush on the next turn of the event loop. Never synchronously: better-sqlite3 writes
   * synchronously, and that must not happen inside the relay's own call.
   */
  private runSoon(): void {
    if (this.immediate !== null || this.running !== null) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      void this.run(false);
    });
    this.immediate.unref();
  }

  private setTimer(ms: number, isRetry: boolean): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerIsRetry = isRetry;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerIsRetry = false;
      void this.run(true);
    }, ms);
    this.timer.unref();
  }

  private clearTimers(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.timer = null;
    this.timerIsRetry = false;
    this.immediate = null;
  }

  /** One flush at a time; `all` writes a trailing partial batch too (the interval elapsed). */
  private run(all: boolean): Promise<boolean> {
    if (this.running !== null) return this.running;
    // A full-batch run leaves the interval timer alone: the events it leaves behind keep their
    // deadline from when the first of them arrived.
    if (all && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
      this.timerIsRetry = false;
    }
    const run = this.drainQueue(all)
      .catch((error: unknown) => {
        appLogger.error({ err: error }, 'usage flusher failed unexpectedly');
        return false;
      })
      .then((ok) => {
        this.running = null;
        this.afterRun(ok);
        return ok;
      });
    this.running = run;
    return run;
  }

  private async drainQueue(all: boolean): Promise<boolean> {
    while (
      this.queue.size > 0 &&
      (all || this.state !== 'open' || this.queue.size >= this.batchSize)
    ) {
      if (!(await this.writeNextBatch())) return false;
    }
    return true;
  }

  private afterRun(ok: boolean): void {
    switch (this.state) {
      case 'open':
        if (!ok) this.setTimer(this.retryDelay(), true);
        else if (this.queue.size > 0) this.wake();
        return;
      case 'draining':
        // onApplicationShutdown retries until its deadline.
        if (ok && this.queue.size > 0) this.runSoon();
        return;
      case 'closed':
        if (ok && this.queue.size > 0) {
          this.runSoon();
        } else if (!ok && this.queue.size > 0) {
          // Recorded after the shutdown drain (a late module hook) and the database is gone.
          const lost = this.queue.take(this.queue.size).length;
          this.drop('shutdown', lost);
          appLogger.error(
            { lost, err: { message: message(this.lastError) } },
            'usage events recorded after shutdown could not be written: lost',
          );
        }
        return;
    }
  }

  private async writeNextBatch(): Promise<boolean> {
    const batch = this.queue.take(this.batchSize);
    this.inFlight = batch.length;
    const endTimer = this.flushDuration.startTimer();
    try {
      await this.writer.writeBatch(batch);
      endTimer({ outcome: 'ok' });
      this.journal?.settle(batch);
      this.written(batch.length);
      return true;
    } catch (error) {
      endTimer({ outcome: 'error' });
      return await this.handleFailure(batch, error);
    } finally {
      this.inFlight = 0;
    }
  }

  private async handleFailure(batch: UsageEvent[], error: unknown): Promise<boolean> {
    this.consecutiveFailures += 1;
    this.lastError = error;
    if (
      this.consecutiveFailures >= SUSPECT_BATCH_AFTER_FAILURES &&
      (await this.databaseAnswers())
    ) {
      return this.writeOneByOne(batch);
    }
    this.requeue(batch);
    this.noteOutage(error);
    return false;
  }

  /**
   * Writes a suspect batch event by event. An event is dropped only when the database refuses it
   * while taking others in the same pass; when it takes none of the first few, the database is
   * refusing writes altogether (disk full, read-only after a failover) and everything is kept.
   */
  private async writeOneByOne(batch: UsageEvent[]): Promise<boolean> {
    const refused: { event: UsageEvent; error: unknown }[] = [];
    let stored = 0;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      try {
        await this.writer.writeBatch([event]);
        this.journal?.settle([event]);
        stored += 1;
        this.written(1);
      } catch (error) {
        this.lastError = error;
        const refusesAll = stored === 0 && refused.length + 1 >= ISOLATION_PROBES;
        if (refusesAll || !(await this.databaseAnswers())) {
          this.requeue([...refused.map((r) => r.event), ...batch.slice(i)]);
          this.noteOutage(error);
          return false;
        }
        refused.push({ event, error });
      }
    }
    if (stored === 0 && refused.length > 0) {
      this.requeue(refused.map((r) => r.event));
      this.noteOutage(this.lastError);
      return false;
    }
    for (const { event, error } of refused) {
      // Replaying it would be refused again: it leaves the journal with the drop.
      this.journal?.settle([event]);
      this.drop('rejected', 1);
      appLogger.error(
        { err: { message: message(error) }, usageRequestId: event.requestId },
        'usage event refused by the database while it took others: dropped',
      );
    }
    this.consecutiveFailures = 0;
    return true;
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.writer.ping();
      return true;
    } catch {
      return false;
    }
  }

  private requeue(batch: UsageEvent[]): void {
    const evicted = this.queue.putBack(batch);
    if (evicted > 0) this.drop('queue_full', evicted);
  }

  private retryDelay(): number {
    const exponent = Math.max(0, this.consecutiveFailures - 1);
    return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(exponent, 16));
  }

  private written(count: number): void {
    this.writtenTotal.inc(count);
    if (this.outageStartedAt !== null) {
      appLogger.info(
        { outageMs: Date.now() - this.outageStartedAt, queued: this.queue.size },
        'usage writes resumed',
      );
    }
    this.outageStartedAt = null;
    this.consecutiveFailures = 0;
  }

  private noteOutage(error: unknown): void {
    const now = Date.now();
    const first = this.outageStartedAt === null;
    if (first) this.outageStartedAt = now;
    if (first || now - this.lastOutageLogAt >= OUTAGE_LOG_EVERY_MS) {
      this.lastOutageLogAt = now;
      appLogger.warn(
        { err: { message: message(error) }, queued: this.pending, queueMax: this.queue.maxSize },
        'usage writes failing: events are kept in memory and retried',
      );
    }
  }

  private drop(reason: UsageDropReason, count: number): void {
    this.droppedTotal.inc({ reason }, count);
    if (reason !== 'queue_full') return; // the other reasons log their own line
    // One line per 10 s at most: during an outage every new event evicts one.
    this.droppedSinceLog += count;
    const now = Date.now();
    if (now - this.lastDropLogAt >= DROP_LOG_EVERY_MS) {
      appLogger.warn(
        { dropped: this.droppedSinceLog, queueMax: this.queue.maxSize },
        'usage queue full while the database is unreachable: oldest events dropped',
      );
      this.lastDropLogAt = now;
      this.droppedSinceLog = 0;
    }
  }
}
