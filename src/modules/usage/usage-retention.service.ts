import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { Counter } from 'prom-client';
import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { pruneInBatchesUnderLock } from 'src/infra/coordination/locked-prune';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { RuntimeSettings } from 'src/modules/settings/runtime-settings';
import { HOUR_MS, retentionHorizon } from './usage-range';
import { UsageRepository } from './usage.repository';

const JOB_LOCK = coordinationKeys.lock('job:request-log-retention');

/**
 * Deletes request-log rows older than the `requestLogRetentionDays` setting. The horizon moves once a day
 * (it is a UTC day start); the job looks every hour, so a restart never skips a day, and runs on
 * one instance at a time (a coordinator lock). Aggregates are kept: the stats service answers
 * periods before the horizon from them (see UsageStatsService).
 */
@Injectable()
export class UsageRetentionService implements OnApplicationShutdown {
  private readonly prunedTotal: Counter;
  private stopping = false;

  constructor(
    private readonly settings: RuntimeSettings,
    metrics: MetricsService,
    private readonly repository: UsageRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {
    this.prunedTotal = new Counter({
      name: 'switchyard_request_log_pruned_total',
      help: 'Request-log rows deleted by the retention job (REQUEST_LOG_RETENTION_DAYS)',
      registers: [metrics.registry],
    });
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  @Interval(HOUR_MS)
  async scheduled(): Promise<void> {
    try {
      await this.prune();
    } catch (error) {
      appLogger.error({ err: error }, 'request-log retention job failed');
    }
  }

  /**
   * One run: deletes, batch by batch, every row before the horizon. Returns the number deleted,
   * or null when retention is off or another instance holds the job.
   */
  async prune(now = Date.now()): Promise<number | null> {
    // Read per run: a change of the runtime setting applies at the next run.
    const retentionDays = this.settings.get('requestLogRetentionDays');
    if (retentionDays === 0) return null;
    const before = retentionHorizon(now, retentionDays);
    const result = await pruneInBatchesUnderLock(
      this.coordinator,
      JOB_LOCK,
      [
        async (limit) => {
          const n = await this.repository.pruneRequestLog(before, limit);
          this.prunedTotal.inc(n);
          return n;
        },
      ],
      () => this.stopping,
    );
    if (result === null) return null;
    const [deleted] = result;
    if (deleted > 0) {
      appLogger.info(
        { deleted, before: new Date(before).toISOString(), days: retentionDays },
        'request log pruned',
      );
    }
    return deleted;
  }
}
