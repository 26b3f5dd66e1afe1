import { Module } from '@nestjs/common';
import { BillingOutboxRetention } from './billing-outbox-retention.service';
import { BillingPublisher } from './billing-publisher.service';
import { amqpConnect, BROKER_CONNECT } from './broker.port';

/**
 * The billing event stream (docs/billing-stream.md): publishes the `usage` outbox, which the
 * usage writer fills in its batch transaction when AMQP_URL is set, to a RabbitMQ topic exchange,
 * and prunes what was published. Idle without AMQP_URL. Needs the global ConfigModule,
 * OutboxModule, CoordinationModule and MetricsModule (and ScheduleModule for the retention job).
 */
@Module({
  providers: [
    { provide: BROKER_CONNECT, useValue: amqpConnect },
    BillingPublisher,
    BillingOutboxRetention,
  ],
  exports: [BillingPublisher],
})
export class BillingStreamModule {}
