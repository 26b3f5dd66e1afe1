import { Module } from '@nestjs/common';
import { PricingController } from './pricing.controller';
import { PricingRepository } from './pricing.repository';
import { PricingService } from './pricing.service';
import { UsageRecorder } from './usage-recorder.service';
import { UsageStatsRepository } from './usage-stats.repository';
import { UsageStatsService } from './usage-stats.service';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';

/**
 * Pricing, the usage write-behind (request log + aggregates) and the stats queries. Needs the
 * global ConfigModule, DatabaseModule, CoordinationModule and MetricsModule.
 */
@Module({
  controllers: [UsageController, PricingController],
  providers: [
    PricingRepository,
    PricingService,
    UsageRepository,
    UsageRecorder,
    UsageStatsRepository,
    UsageStatsService,
  ],
  exports: [PricingService, UsageRecorder, UsageStatsService],
})
export class UsageModule {}
