import { Module } from '@nestjs/common';
import { NotificationDeliveriesRepository } from './notification-deliveries.repository';
import { NotificationDispatcher } from './notification-dispatcher';
import { NotificationRetentionService } from './notification-retention.service';
import { NotificationSender } from './notification-sender';
import { NotificationTargetsRepository } from './notification-targets.repository';
import { NotificationsAuditLoader } from './notifications-audit.loader';
import { NotificationsController } from './notifications.controller';
import { NotificationsService } from './notifications.service';

/**
 * Notifications: targets (a custom webhook, chat platforms through channels/registry.ts, email),
 * the dispatcher that delivers `notification` outbox events to them with retries, and the
 * delivery log; NotificationRetentionService prunes old events and finished deliveries. Features
 * raise events through NotificationOutbox (src/infra/outbox), never through this module.
 */
@Module({
  controllers: [NotificationsController],
  providers: [
    NotificationTargetsRepository,
    NotificationDeliveriesRepository,
    NotificationSender,
    NotificationsService,
    NotificationDispatcher,
    NotificationsAuditLoader,
    NotificationRetentionService,
  ],
  exports: [NotificationDispatcher],
})
export class WebhooksModule {}
