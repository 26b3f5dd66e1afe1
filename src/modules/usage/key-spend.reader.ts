import { Injectable } from '@nestjs/common';
import { UsageStatsRepository } from './usage-stats.repository';
import { splitRange, type TimeRange } from './usage-range';

/**
 * What a key has spent in a period according to SQL, the durable record: budget counters in the
 * coordinator are seeded from it when the coordinator has lost them (a restart of the embedded
 * default, a Redis flush) and reconciled with it. Whole hours and days come from the
 * aggregates, which outlive request-log retention; only the minutes at either edge are summed
 * from the request log.
 */
@Injectable()
export class KeySpendReader {
  constructor(private readonly repository: UsageStatsRepository) {}

  /** Billed micro-dollars (price multiplier applied) of requests started in the range. */
  async spentMicros(keyId: string, range: TimeRange): Promise<number> {
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
}
