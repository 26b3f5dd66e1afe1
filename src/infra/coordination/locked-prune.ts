import type { Coordinator } from './coordinator.port';

/** Rows deleted per statement: short transactions, so writers and readers never wait long. */
export const PRUNE_BATCH_ROWS = 5000;
/** The job's lock outlives a run; a run stops itself well before and goes on at the next one. */
const JOB_LOCK_TTL_MS = 10 * 60_000;
const RUN_BUDGET_MS = JOB_LOCK_TTL_MS / 2;

/** Deletes at most `limit` rows and says how many went. */
export type PruneBatch = (limit: number) => Promise<number>;

/**
 * One run of a retention job: under the job's coordinator lock (one instance at a time), each
 * step is called batch after batch until it deletes less than a full batch, the process is
 * stopping or the run's time budget is spent (the next run goes on). Resolves with the rows each
 * step deleted, or null when another instance holds the lock.
 */
export async function pruneInBatchesUnderLock(
  coordinator: Coordinator,
  lock: string,
  steps: readonly PruneBatch[],
  isStopping: () => boolean,
): Promise<number[] | null> {
  const held = await coordinator.acquireLock(lock, JOB_LOCK_TTL_MS);
  if (held === null) return null;
  const started = Date.now();
  const deleted = steps.map(() => 0);
  try {
    for (const [i, step] of steps.entries()) {
      for (;;) {
        const n = await step(PRUNE_BATCH_ROWS);
        deleted[i] += n;
        if (n < PRUNE_BATCH_ROWS || isStopping()) break;
        if (Date.now() - started > RUN_BUDGET_MS) return deleted;
        // SQLite deletes on the event loop: let requests through between batches.
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (isStopping()) break;
    }
  } finally {
    await coordinator.releaseLock(held).catch(() => undefined);
  }
  return deleted;
}
