import {
  closeSync,
  fdatasync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  write,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import type { UsageEvent } from './usage.types';

/** A segment older than this (with events in it) is closed and a new one started. */
export const JOURNAL_ROTATE_MS = 10_000;
/** How often a live instance marks its files as live (mtime) and looks for orphans. */
export const JOURNAL_HEARTBEAT_MS = 30_000;
/** Another host's file untouched this long belongs to a dead instance. */
export const JOURNAL_STALE_MS = 5 * JOURNAL_HEARTBEAT_MS;

const PREFIX = 'usage';
const SUFFIX = '.ndjson';
const ERROR_LOG_EVERY_MS = 30_000;

/**
 * Who wrote a journal file: host, process id and process start time. The start time tells a
 * restarted container (same hostname, same pid 1) from the process that wrote the file.
 */
export interface JournalOwner {
  host: string;
  pid: number;
  start: number;
}

function ownerPart(owner: JournalOwner): string {
  return `${owner.host}.${owner.pid}.${owner.start.toString(36)}`;
}

/** Host names may hold dots; the file name uses dots as separators. */
export function journalHost(hostname: string): string {
  const host = hostname.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 64);
  return host.length > 0 ? host : 'host';
}

/** `usage.<host>.<pid>.<start>.<tag>.ndjson`, or undefined for any other file. */
export function parseJournalName(name: string): (JournalOwner & { tag: string }) | undefined {
  if (!name.startsWith(`${PREFIX}.`) || !name.endsWith(SUFFIX)) return undefined;
  const parts = name.slice(PREFIX.length + 1, -SUFFIX.length).split('.');
  if (parts.length !== 4) return undefined;
  const [host, pid, start, tag] = parts;
  if (!/^\d+$/.test(pid) || !/^[0-9a-z]+$/.test(start) || !/^[a-z0-9-]+$/.test(tag)) {
    return undefined;
  }
  return { host, pid: Number(pid), start: parseInt(start, 36), tag };
}

function journalName(owner: JournalOwner, tag: string): string {
  return `${PREFIX}.${ownerPart(owner)}.${tag}${SUFFIX}`;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Segment {
  name: string;
  /** Null for a file claimed from a dead process: it is read, never appended to. */
  fd: number | null;
  openedAt: number;
  /** Lines recorded for this segment and not yet handed to a write. */
  pending: string[];
  /** Events in this segment that are not yet in SQL (nor given up on). */
  outstanding: number;
  events: number;
  writing: boolean;
}

export interface UsageJournalOptions {
  dir: string;
  owner: JournalOwner;
  /** fdatasync after each write: survives a power loss too, at the cost of a disk flush. */
  fsync: boolean;
  now?: () => number;
  /** Told of each failed journal write (a metric). */
  onWriteError?: () => void;
}

export interface ClaimedFile {
  name: string;
  events: UsageEvent[];
  /** Lines that were not a usage event (a torn last line after a power loss). */
  unreadable: number;
}

/**
 * Append-only local journal of usage events, one file per process (and segment), so that a usage
 * event survives the process dying before the write-behind stored it in SQL.
 *
 * `append` is synchronous and cheap: the event's line is queued and every line of one event-loop
 * turn goes out in one `write(2)` (on the next turn, `setImmediate`) on a descriptor opened with
 * O_APPEND, after which `journaled()` resolves. There is no fsync by default: once `write` returned, the bytes are in the kernel's page
 * cache and survive the process being killed (`kill -9`, OOM, a crash), which is what this guards
 * against; a power loss or kernel crash can still lose the last seconds unless `fsync` is on.
 *
 * Segments rotate every JOURNAL_ROTATE_MS; a segment is deleted once every event in it has been
 * stored in SQL (`settle`). Files left by a dead process are claimed (renamed to this process's
 * name, so two processes never replay the same file); their events are settled like appended
 * ones, and the claimed file is deleted once all of them are stored.
 */
export class UsageJournal {
  private readonly dir: string;
  private readonly owner: JournalOwner;
  private readonly fsync: boolean;
  private readonly now: () => number;
  private readonly onWriteError: (() => void) | undefined;

  private active: Segment | null = null;
  private readonly segments = new Set<Segment>();
  private readonly segmentOf = new WeakMap<UsageEvent, Segment>();
  private seq = 0;
  private claimed = 0;
  private immediate: NodeJS.Immediate | null = null;
  /**
   * Lines are written in flushes, one at a time; a flush takes every line queued since the last
   * one (in practice one write(2)). `gen` numbers the flush the lines queued now will go out in.
   */
  private gen = 0;
  private dirty = false;
  private flushing = false;
  private waiters: { gen: number; resolve: () => void }[] = [];
  private closed = false;
  private lastErrorLogAt = 0;

  constructor(options: UsageJournalOptions) {
    this.dir = options.dir;
    this.owner = options.owner;
    this.fsync = options.fsync;
    this.now = options.now ?? Date.now;
    this.onWriteError = options.onWriteError;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Files of this process still on disk (for tests and the heartbeat). */
  get files(): string[] {
    return [...this.segments].map((s) => s.name);
  }

  /** Queues an event's line; it is written with the others of this turn. Never throws. */
  append(event: UsageEvent): void {
    if (this.closed) return;
    try {
      const segment = this.segmentForAppend();
      segment.pending.push(JSON.stringify(event));
      segment.outstanding += 1;
      segment.events += 1;
      this.segmentOf.set(event, segment);
      this.dirty = true;
      // A flush in progress takes these lines next, as soon as its write returns.
      if (this.immediate === null && !this.flushing) {
        this.immediate = setImmediate(() => {
          this.immediate = null;
          this.flush();
        });
      }
    } catch (error) {
      this.writeFailed(error);
    }
  }

  /**
   * Resolves once every event appended so far is in the journal file (or its write failed); not
   * later events: under load the journal is never idle.
   */
  journaled(): Promise<void> {
    const gen = this.dirty ? this.gen : this.flushing ? this.gen - 1 : null;
    if (gen === null) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ gen, resolve }));
  }

  /** Events stored in SQL, or given up on: their segment can go once it holds no other. */
  settle(events: readonly UsageEvent[]): void {
    for (const event of events) {
      const segment = this.segmentOf.get(event);
      if (segment === undefined) continue;
      this.segmentOf.delete(event);
      segment.outstanding -= 1;
      if (segment.outstanding === 0) this.removeIfDone(segment);
    }
  }

  /**
   * Keeps this process's files fresh (another host then knows they are live) and starts a new
   * segment when the active one is old, so a settled one can be deleted even when idle.
   */
  heartbeat(): void {
    const active = this.active;
    if (active !== null && active.events > 0 && this.now() - active.openedAt >= JOURNAL_ROTATE_MS) {
      this.active = null;
      this.removeIfDone(active);
    }
    const now = new Date(this.now());
    for (const segment of this.segments) {
      try {
        utimesSync(join(this.dir, segment.name), now, now);
      } catch {
        // A file that cannot be touched is still written; another host may claim it late.
      }
    }
  }

  /**
   * Claims every journal file whose owner is dead (renaming it to this process) and returns its
   * events. They count as this journal's own: `settle` them once stored, and the file goes.
   */
  claimOrphans(): ClaimedFile[] {
    const found: ClaimedFile[] = [];
    if (this.closed) return found;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (error) {
      appLogger.error({ err: error, dir: this.dir }, 'usage journal directory unreadable');
      return found;
    }
    const mine = new Set(this.files);
    for (const name of names) {
      if (mine.has(name)) continue;
      const parsed = parseJournalName(name);
      if (parsed === undefined || !this.isOrphan(name, parsed)) continue;
      const claimedName = journalName(this.owner, `r${(this.claimed++).toString(36)}`);
      try {
        // rename is atomic: of two processes claiming one file, one gets ENOENT.
        renameSync(join(this.dir, name), join(this.dir, claimedName));
      } catch {
        continue;
      }
      const file = this.read(claimedName);
      const segment: Segment = {
        name: claimedName,
        fd: null,
        openedAt: this.now(),
        pending: [],
        outstanding: file.events.length,
        events: file.events.length,
        writing: false,
      };
      this.segments.add(segment);
      for (const event of file.events) this.segmentOf.set(event, segment);
      if (segment.outstanding === 0) this.removeIfDone(segment);
      found.push(file);
    }
    return found;
  }

  /**
   * Writes what is queued, then closes. Segments whose events are all in SQL are deleted; the
   * others stay for the next start to replay.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.immediate !== null) {
      clearImmediate(this.immediate);
      this.immediate = null;
      this.flush();
    }
    await this.journaled();
    this.closed = true;
    this.active = null;
    for (const segment of [...this.segments]) {
      if (segment.outstanding === 0) this.removeIfDone(segment);
      else this.closeSegment(segment);
    }
  }

  private isOrphan(name: string, owner: JournalOwner): boolean {
    const me = this.owner;
    if (owner.host === me.host) {
      if (owner.pid === me.pid) return owner.start !== me.start;
      return !processAlive(owner.pid);
    }
    try {
      return this.now() - statSync(join(this.dir, name)).mtimeMs >= JOURNAL_STALE_MS;
    } catch {
      return false;
    }
  }

  private read(name: string): ClaimedFile {
    const events: UsageEvent[] = [];
    let unreadable = 0;
    let text = '';
    try {
      text = readFileSync(join(this.dir, name), 'utf8');
    } catch (error) {
      appLogger.error({ err: error, file: name }, 'usage journal unreadable');
    }
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      try {
        const event = JSON.parse(line) as UsageEvent;
        if (typeof event?.requestId === 'string' && event.requestId.length > 0) events.push(event);
        else unreadable += 1;
      } catch {
        unreadable += 1;
      }
    }
    return { name, events, unreadable };
  }

  private segmentForAppend(): Segment {
    const active = this.active;
    if (active !== null && this.now() - active.openedAt < JOURNAL_ROTATE_MS) return active;
    if (active !== null) {
      this.active = null;
      this.removeIfDone(active);
    }
    const name = journalName(this.owner, `s${(this.seq++).toString(36)}`);
    const fd = openSync(join(this.dir, name), 'a', 0o600);
    const segment: Segment = {
      name,
      fd,
      openedAt: this.now(),
      pending: [],
      outstanding: 0,
      events: 0,
      writing: false,
    };
    this.segments.add(segment);
    this.active = segment;
    return segment;
  }

  private flush(): void {
    if (this.flushing || !this.dirty) return;
    const gen = this.gen;
    this.gen += 1;
    this.dirty = false;
    this.flushing = true;
    const batch = [...this.segments].filter((s) => s.pending.length > 0 && s.fd !== null);
    for (const segment of batch) segment.writing = true;
    const next = (index: number, error: NodeJS.ErrnoException | null): void => {
      if (error !== null) this.writeFailed(error);
      if (index < batch.length) {
        this.writeSegment(batch[index], (e) => next(index + 1, e));
        return;
      }
      for (const segment of batch) {
        segment.writing = false;
        this.removeIfDone(segment);
      }
      this.flushing = false;
      const done = this.waiters.filter((w) => w.gen <= gen);
      if (done.length > 0) {
        this.waiters = this.waiters.filter((w) => w.gen > gen);
        for (const w of done) w.resolve();
      }
      // Lines queued while this flush wrote go out now.
      this.flush();
    };
    next(0, null);
  }

  /**
   * Without fsync the write is synchronous: `write(2)` of a few kilobytes into the page cache takes
   * microseconds, while handing it to libuv's thread pool cost about 120 µs of CPU per flush
   * (measured on 2 shared cores: 9 µs vs 125 µs per one-event flush), more than the relay's own
   * work per request would bear. With fsync the flush to disk takes milliseconds and must not
   * block the event loop: then both run on the thread pool.
   */
  private writeSegment(
    segment: Segment,
    done: (error: NodeJS.ErrnoException | null) => void,
  ): void {
    const data = segment.pending.join('\n') + '\n';
    segment.pending = [];
    const fd = segment.fd as number;
    if (!this.fsync) {
      let error: NodeJS.ErrnoException | null = null;
      try {
        const bytes = Buffer.from(data, 'utf8');
        let offset = 0;
        while (offset < bytes.length) offset += writeSync(fd, bytes, offset);
      } catch (e) {
        error = e as NodeJS.ErrnoException;
      }
      done(error);
      return;
    }
    write(fd, data, null, 'utf8', (error) => {
      if (error !== null) return done(error);
      fdatasync(fd, done);
    });
  }

  /**
   * Deletes a segment that is not active, holds no unsettled event and has no write running. A
   * finished segment that still holds unsettled events (dropped from a full queue, say) only gives
   * its descriptor back: it stays on disk for the next start to replay.
   */
  private removeIfDone(segment: Segment): void {
    if (segment === this.active || segment.writing || segment.pending.length > 0) return;
    if (segment.outstanding > 0) {
      if (segment.fd !== null) {
        const fd = segment.fd;
        segment.fd = null;
        try {
          closeSync(fd);
        } catch {
          // already closed
        }
      }
      return;
    }
    this.closeSegment(segment);
    try {
      unlinkSync(join(this.dir, segment.name));
    } catch (error) {
      appLogger.warn({ err: error, file: segment.name }, 'settled usage journal not removed');
    }
  }

  private closeSegment(segment: Segment): void {
    if (!this.segments.delete(segment) || segment.fd === null) return;
    try {
      closeSync(segment.fd);
    } catch {
      // already closed
    }
  }

  private writeFailed(error: unknown): void {
    this.onWriteError?.();
    const now = this.now();
    if (now - this.lastErrorLogAt < ERROR_LOG_EVERY_MS) return;
    this.lastErrorLogAt = now;
    appLogger.error(
      { err: error, dir: this.dir },
      'usage journal write failed: usage is still written to SQL, but a crash now could lose it',
    );
  }
}
