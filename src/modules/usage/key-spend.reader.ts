import { Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { UsageRecorder } from './usage-recorder.service';
import { UsageStatsRepository } from './usage-stats.repository';
import { splitRange, type TimeRange } from './usage-range';

/** How long a read waits for this instance's queued usage to reach SQL. */
const FLUSH_WAIT_MS = 2000;

/**
 * What a key has spent in a period according to SQL, the durable record: budget counters in the
 * coordinator are seeded from it when the coordinator has lost them (a restart of the embedded
 * default, a Redis flush) and reconciled with it. Whole hours and days come from the
 * aggregates, which outlive request-log retention; only the minutes at either edge are summed
 * from the request log.
 */
@Injectable()
export class KeySpendReader {
  constructor(
    private readonly repository: UsageStatsRepository,
    @Optional() private readonly moduleRef?: ModuleRef,
  ) {}

  /**
   * Billed micro-dollars (price multiplier applied) of requests started in the range. Usage this
   * instance has queued but not yet written is written first (waiting at most FLUSH_WAIT_MS):
   * a request that just finished here is in the answer, not only in the lost counter.
   */
  async spentMicros(keyId: string, range: TimeRange): Promise<number> {
    await this.flushQueuedUsage();
    const { days, hours, raw } = splitRange(range);
    const [aggregated, logged] = await Promise.all([
      days !== null || hours.length > 0
        ? this.repository.aggregateTotals({ dim: 'key', dimId: keyId, days, hours })
        : Promise.resolve([]),
      raw.length > 0 ? this.repository.requestLogTotals(raw, { keyId }) : Promise.resolve([]),
    ]);
    let micros = 0;
    for (const totals of [...aggregated, ...logged]) micros += totals.costMicros;
    return micros;
  }

  private async flushQueuedUsage(): Promise<void> {
    let recorder: UsageRecorder | undefined;
    try {
      // Looked up, not injected: the recorder lives in UsageModule, which API keys do not import.
      recorder = this.moduleRef?.get(UsageRecorder, { strict: false });
    } catch {
      return;
    }
    if (recorder === undefined || recorder.pending === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      recorder.flush().catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, FLUSH_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }
}
