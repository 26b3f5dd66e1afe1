import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/** bcrypt cost: about 250 ms of one core per hash or compare with bcryptjs. */
export const BCRYPT_ROUNDS = 12;

type Job =
  | { op: 'hash'; password: string; rounds: number }
  | { op: 'compare'; password: string; hash: string };

interface Pending {
  job: Job;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

/**
 * The worker's whole program. bcryptjs is pure JavaScript: its async API still runs the rounds on
 * the calling thread in ~100 ms slices, so 8 parallel logins pushed relay latency from 12 ms to
 * about 3 s. Here the rounds run on their own threads. Passed as source (eval) rather than a file
 * so it runs the same from dist/ and from the TypeScript sources under jest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcryptPath);
try {
  // A low CPU priority for this thread only (Linux: a thread is a task of its own), so a flood
  // of logins mostly takes CPU the relay leaves idle. Nice 10 rather than 19: a login on a busy
  // one-core host still completes in seconds.
  const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
  require('node:os').setPriority(tid, 10);
} catch {
  // Elsewhere the thread keeps the process's priority.
}
parentPort.on('message', (job) => {
  try {
    const result =
      job.op === 'hash'
        ? bcrypt.hashSync(job.password, job.rounds)
        : bcrypt.compareSync(job.password, job.hash);
    parentPort.postMessage({ ok: true, result });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String(error && error.message) });
  }
});
`;

/**
 * bcrypt hashing and comparing on a small pool of worker threads, so password checks never block
 * the event loop the relay runs on. Jobs queue in order when every worker is busy; callers bound
 * how many they submit (the login throttle caps concurrent checks).
 */
@Injectable()
export class PasswordHasher implements OnApplicationShutdown {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;
  /**
   * Workers start on first use (a CLI command that never checks a password starts none). One per
   * core but one, at most two: password checks are rare and must leave a core to the relay.
   */
  private readonly size = Math.max(1, Math.min(2, availableParallelism() - 1));

  hash(password: string, rounds = BCRYPT_ROUNDS): Promise<string> {
    return this.run({ op: 'hash', password, rounds }) as Promise<string>;
  }

  compare(password: string, hash: string): Promise<boolean> {
    return this.run({ op: 'compare', password, hash }) as Promise<boolean>;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) {
      pending.reject(new Error('password hasher closed'));
    }
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private run(job: Job): Promise<string | boolean> {
    if (this.closed) return Promise.reject(new Error('password hasher closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((candidate) => candidate.busy === undefined);
      if (slot === undefined && this.slots.length < this.size) slot = this.spawn();
      if (slot === undefined) return;
      const pending = this.queue.shift() as Pending;
      slot.busy = pending;
      slot.worker.postMessage(pending.job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { bcryptPath: require.resolve('bcryptjs') },
    });
    // An idle pool must not keep a CLI command or a test process alive.
    worker.unref();
    const slot: Slot = { worker, busy: undefined };
    worker.on(
      'message',
      (message: { ok: boolean; result?: string | boolean; message?: string }) => {
        const pending = slot.busy;
        slot.busy = undefined;
        if (message.ok) pending?.resolve(message.result as string | boolean);
        else pending?.reject(new Error(`bcrypt failed: ${message.message ?? 'unknown error'}`));
        this.dispatch();
      },
    );
    const fail = (error: Error): void => {
      // A crashed worker is replaced on the next dispatch; its job fails rather than hangs.
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots.splice(index, 1);
      slot.busy?.reject(error);
      slot.busy = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => {
      if (this.slots.includes(slot)) fail(new Error(`bcrypt worker exited with code ${code}`));
    });
    this.slots.push(slot);
    return slot;
  }
}
