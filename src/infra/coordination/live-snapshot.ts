import { appLogger } from 'src/common/logging/app-logger';
import type { Coordinator } from './coordinator.port';

export interface LiveSnapshotOptions {
  /**
   * Reload this often even without a message: heals messages lost while Redis reconnected, and
   * picks up changes made by a process that shares the database but not the coordinator.
   */
  safetyReloadMs: number;
  /** After a failed subscribe at start, try again this often (the safety reload covers the gap). */
  subscribeRetryMs: number;
}

export const DEFAULT_LIVE_SNAPSHOT_OPTIONS: LiveSnapshotOptions = {
  safetyReloadMs: 60_000,
  subscribeRetryMs: 5_000,
};

/** What a snapshot is made of: its rows read from SQL, and how to compile them. */
export interface LiveSnapshotSource<T, R> {
  /** For logs: "model routes", "routing rules". */
  readonly name: string;
  /** Channels whose messages mean the rows may have changed. */
  readonly channels: readonly string[];
  /** Reads the rows; a reload whose rows are the same (by JSON) changes nothing. */
  read(): Promise<R>;
  /** Compiles rows read by `read()` into the snapshot. */
  build(rows: R): T;
}

/**
 * A compiled, in-memory view of some SQL rows that every instance keeps fresh: reloaded at once by
 * the instance that changed the rows (its service awaits `reload()` before answering), by every
 * other instance when the change is announced on one of the source's channels, and periodically,
 * which bounds staleness should a message be lost. A reload that fails keeps the previous
 * snapshot; reloads asked for while one runs share one follow-up, so a caller always sees rows
 * read after its call and a burst of messages costs two reads.
 */
export class LiveSnapshot<T, R = unknown> {
  private snapshot: T;
  /** The rows the snapshot was built from: a reload that reads the same rows changes nothing. */
  private fingerprint: string | null = null;
  private currentVersion = 0;
  private initialLoad: Promise<void> | undefined;
  private loading: Promise<void> | null = null;
  private followUp: Promise<void> | null = null;
  private safetyTimer: NodeJS.Timeout | null = null;
  private subscribeTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribes: (() => Promise<void>)[] = [];
  private readonly listeners = new Set<(version: number) => void>();
  private destroyed = false;

  constructor(
    private readonly source: LiveSnapshotSource<T, R>,
    empty: T,
    private readonly coordinator: Coordinator,
    private readonly options: LiveSnapshotOptions,
  ) {
    this.snapshot = empty;
  }

  /** The current snapshot: synchronous, no I/O. */
  get current(): T {
    return this.snapshot;
  }

  /** Increments whenever a reload changed the rows; lets readers cache derived values. */
  get version(): number {
    return this.currentVersion;
  }

  /** Subscribes (before the first load, so no change can fall between the two), then loads. */
  async start(): Promise<void> {
    await this.subscribe(false);
    await this.ensureLoaded();
    this.safetyTimer = setInterval(() => this.reloadQuietly(), this.options.safetyReloadMs);
    this.safetyTimer.unref();
  }

  async stop(): Promise<void> {
    this.destroyed = true;
    if (this.safetyTimer !== null) clearInterval(this.safetyTimer);
    if (this.subscribeTimer !== null) clearTimeout(this.subscribeTimer);
    this.safetyTimer = this.subscribeTimer = null;
    const unsubscribes = this.unsubscribes.splice(0);
    await Promise.all(unsubscribes.map((off) => off().catch(() => undefined)));
    await this.loading?.catch(() => undefined);
  }

  /** Notified after each reload that changed the rows. Returns an unsubscribe function. */
  onReload(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once the first load has completed (starting it when nobody has yet). */
  ensureLoaded(): Promise<void> {
    this.initialLoad ??= this.reload().catch((error: unknown) => {
      this.initialLoad = undefined;
      throw error;
    });
    return this.initialLoad;
  }

  /** Reloads from SQL now; calls made while a reload runs share one follow-up reload. */
  reload(): Promise<void> {
    if (this.loading === null) {
      this.loading = this.load().finally(() => {
        this.loading = null;
      });
      return this.loading;
    }
    this.followUp ??= this.loading
      .catch(() => undefined)
      .then(() => {
        this.followUp = null;
        return this.reload();
      });
    return this.followUp;
  }

  private reloadQuietly(): void {
    if (this.destroyed) return;
    this.reload().catch((error: unknown) => {
      appLogger.warn(
        { err: error },
        `${this.source.name} could not be reloaded; keeping the current ones`,
      );
    });
  }

  private async load(): Promise<void> {
    const rows = await this.source.read();
    const fingerprint = JSON.stringify(rows);
    if (fingerprint === this.fingerprint) return;
    this.snapshot = this.source.build(rows);
    this.fingerprint = fingerprint;
    this.currentVersion += 1;
    for (const listener of this.listeners) {
      try {
        listener(this.currentVersion);
      } catch (error) {
        appLogger.error({ err: error }, `${this.source.name} reload listener failed`);
      }
    }
  }

  /**
   * Subscribes to the source's channels. When the coordinator cannot subscribe (Redis down at
   * start), the instance still starts and keeps trying; until then the safety reload bounds
   * staleness.
   */
  private async subscribe(retry: boolean): Promise<void> {
    try {
      for (const channel of this.source.channels.slice(this.unsubscribes.length)) {
        const off = await this.coordinator.subscribe(channel, () => this.reloadQuietly());
        if (this.destroyed) {
          await off().catch(() => undefined);
          return;
        }
        this.unsubscribes.push(off);
      }
      // Changes made while unsubscribed were never announced here.
      if (retry) this.reloadQuietly();
    } catch (error) {
      appLogger.warn({ err: error }, `subscribing to ${this.source.name} changes failed; retrying`);
      if (this.destroyed) return;
      this.subscribeTimer = setTimeout(() => {
        this.subscribeTimer = null;
        void this.subscribe(true);
      }, this.options.subscribeRetryMs);
      this.subscribeTimer.unref();
    }
  }
}
