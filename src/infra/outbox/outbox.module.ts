import { Global, Module } from '@nestjs/common';
import { NotificationOutbox } from './notification-outbox';
import { OutboxMetrics } from './outbox-metrics';
import { OutboxRepository } from './outbox.repository';

/** The transactional outbox, for every feature that raises events (src/infra/outbox). */
@Global()
@Module({
  providers: [OutboxRepository, NotificationOutbox, OutboxMetrics],
  exports: [OutboxRepository, NotificationOutbox],
})
export class OutboxModule {}
