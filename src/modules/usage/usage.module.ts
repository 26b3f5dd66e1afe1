import { Module } from '@nestjs/common';
import { PricingAuditLoader } from './pricing-audit.loader';
import { PricingController } from './pricing.controller';
import { PricingRepository } from './pricing.repository';
import { PricingService } from './pricing.service';
import { UsageRecorder } from './usage-recorder.service';
import { UsageRetentionService } from './usage-retention.service';
import { UsageStatsModule } from './usage-stats.module';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';

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
    UsageRepository,
    UsageRecorder,
    UsageRetentionService,
  ],
  exports: [PricingService, UsageRecorder, UsageStatsModule],
})
export class UsageModule {}
