import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { pruneInBatchesUnderLock } from 'src/infra/coordination/locked-prune';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';

const HOUR_MS = 3_600_000;
const JOB_LOCK = coordinationKeys.lock('job:billing-outbox-retention');

/**
 * Deletes published billing events (outbox topic `usage`, processed) older than
 * AMQP_OUTBOX_RETENTION_HOURS: the request log holds the same facts, the outbox rows only serve a
 * replay (set processed_at back to null to publish a range again). Hourly, on one instance at a
 * time (a coordinator lock), as the request-log retention job does; only with the stream on.
 * Pending events are never pruned, however old.
 */
@Injectable()
export class BillingOutboxRetention implements OnApplicationShutdown {
  private readonly retentionHours: number;
  private readonly enabled: boolean;
  private stopping = false;

  constructor(
    config: ConfigService,
    private readonly outbox: OutboxRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {
    this.retentionHours = config.env.AMQP_OUTBOX_RETENTION_HOURS;
    this.enabled = config.env.AMQP_URL !== undefined && this.retentionHours > 0;
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  @Interval(HOUR_MS)
  async scheduled(): Promise<void> {
    try {
      await this.prune();
    } catch (error) {
      appLogger.error({ err: error }, 'billing outbox retention job failed');
    }
  }

  /** One run; returns the number deleted, or null when off or another instance holds the job. */
  async prune(now = Date.now()): Promise<number | null> {
    if (!this.enabled) return null;
    const before = now - this.retentionHours * HOUR_MS;
    const result = await pruneInBatchesUnderLock(
      this.coordinator,
      JOB_LOCK,
      [(limit) => this.outbox.pruneProcessed(before, limit, 'usage')],
      () => this.stopping,
    );
    if (result === null) return null;
    const [deleted] = result;
    if (deleted > 0) {
      appLogger.info(
        { deleted, before: new Date(before).toISOString() },
        'published billing events pruned from the outbox',
      );
    }
    return deleted;
  }
}
