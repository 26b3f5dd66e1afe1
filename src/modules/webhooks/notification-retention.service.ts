import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { pruneInBatchesUnderLock } from 'src/infra/coordination/locked-prune';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { NotificationDeliveriesRepository } from './notification-deliveries.repository';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
export const NOTIFICATION_RETENTION_LOCK = coordinationKeys.lock('job:notification-retention');

/**
 * Deletes what notifications leave behind once NOTIFY_RETENTION_DAYS have passed (0 keeps it
 * forever): processed `notification` outbox events (fanned out already; each delivery keeps its
 * own copy of the message) and deliveries in a final state (delivered or failed). Pending
 * deliveries and unprocessed events are never pruned, however old. Once an event row is gone its
 * dedupe key may fire again, so a condition that never resets (a `total` budget) notifies again
 * at most once per retention period. Hourly, on one instance at a time (a coordinator lock).
 */
@Injectable()
export class NotificationRetentionService implements OnApplicationShutdown {
  private readonly retentionDays: number;
  private stopping = false;

  constructor(
    config: ConfigService,
    private readonly outbox: OutboxRepository,
    private readonly deliveries: NotificationDeliveriesRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {
    this.retentionDays = config.env.NOTIFY_RETENTION_DAYS;
  }

  onApplicationShutdown(): void {
    this.stopping = true;
  }

  @Interval(HOUR_MS)
  async scheduled(): Promise<void> {
    try {
      await this.prune();
    } catch (error) {
      appLogger.error({ err: error }, 'notification retention job failed');
    }
  }

  /**
   * One run. Returns the events and deliveries deleted, or null when retention is off or another
   * instance holds the job.
   */
  async prune(now = Date.now()): Promise<{ events: number; deliveries: number } | null> {
    if (this.retentionDays === 0) return null;
    const before = now - this.retentionDays * DAY_MS;
    const result = await pruneInBatchesUnderLock(
      this.coordinator,
      NOTIFICATION_RETENTION_LOCK,
      [
        (limit) => this.outbox.pruneProcessed(before, limit, 'notification'),
        (limit) => this.deliveries.pruneFinal(before, limit),
      ],
      () => this.stopping,
    );
    if (result === null) return null;
    const [events, deliveries] = result;
    if (events + deliveries > 0) {
      appLogger.info(
        { events, deliveries, before: new Date(before).toISOString(), days: this.retentionDays },
        'notification events and deliveries pruned',
      );
    }
    return { events, deliveries };
  }
}
