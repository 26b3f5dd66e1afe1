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
import { AuditRepository } from './audit.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const AUDIT_RETENTION_LOCK = coordinationKeys.lock('job:audit-retention');

/** Rows before this UTC day start are past the retention of `days` (0: keep forever). */
export function auditRetentionHorizon(now: number, days: number): number {
  return days > 0 ? Math.floor(now / DAY_MS) * DAY_MS - days * DAY_MS : Number.NEGATIVE_INFINITY;
}

/**
 * Deletes audit rows older than the `auditRetentionDays` setting (default AUDIT_RETENTION_DAYS;
 * 0 keeps them forever), read at each run so a change through the settings API applies. The horizon is a
 * UTC day start, so it moves once a day; the job looks every hour (a restart never skips a day)
 * and runs on one instance at a time under a coordinator lock, in short batches.
 */
@Injectable()
export class AuditRetentionService implements OnApplicationShutdown {
  private readonly prunedTotal: Counter;
  private stopping = false;

  constructor(
    private readonly settings: RuntimeSettings,
    metrics: MetricsService,
    private readonly repository: AuditRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {
    this.prunedTotal = new Counter({
      name: 'switchyard_audit_rows_pruned_total',
      help: 'Audit rows deleted by the retention job (AUDIT_RETENTION_DAYS)',
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
      appLogger.error({ err: error }, 'audit retention job failed');
    }
  }

  /** One run. Returns the rows deleted, or null when retention is off or another instance runs it. */
  async prune(now = Date.now()): Promise<number | null> {
    const retentionDays = this.settings.get('auditRetentionDays');
    if (retentionDays === 0) return null;
    const before = auditRetentionHorizon(now, retentionDays);
    const result = await pruneInBatchesUnderLock(
      this.coordinator,
      AUDIT_RETENTION_LOCK,
      [
        async (limit) => {
          const n = await this.repository.prune(before, limit);
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
        'audit log pruned',
      );
    }
    return deleted;
  }
}
