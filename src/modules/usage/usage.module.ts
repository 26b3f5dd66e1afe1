import { Module } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { PricingAuditLoader } from './pricing-audit.loader';
import { PricingController } from './pricing.controller';
import { PricingRepository } from './pricing.repository';
import { PricingService } from './pricing.service';
import { UsageRecorder } from './usage-recorder.service';
import { UsageRetentionService } from './usage-retention.service';
import { UsageStatsModule } from './usage-stats.module';
import { UsageController } from './usage.controller';
import { USAGE_WRITE_OPTIONS, UsageRepository, type UsageWriteOptions } from './usage.repository';

/**
 * Pricing, the usage write-behind (request log + aggregates, with its crash journal), request-log
 * retention and the stats queries. Needs the global ConfigModule, DatabaseModule,
 * CoordinationModule and MetricsModule (and ScheduleModule for the retention job).
 */
@Module({
  imports: [UsageStatsModule],
  controllers: [UsageController, PricingController],
  providers: [
    PricingRepository,
    PricingService,
    PricingAuditLoader,
    {
      provide: USAGE_WRITE_OPTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService): UsageWriteOptions => ({
        billingStream: config.env.AMQP_URL !== undefined,
      }),
    },
    UsageRepository,
    UsageRecorder,
    UsageRetentionService,
  ],
  exports: [PricingService, UsageRecorder, UsageStatsModule],
})
export class UsageModule {}
