import { Module } from '@nestjs/common';
import { UsageStatsRepository } from './usage-stats.repository';
import { UsageStatsService } from './usage-stats.service';

/**
 * The usage stats queries alone (read side), for features that show usage without running the
 * usage write path: the admin usage routes, a key's own usage, a user's self-service usage.
 * Needs only the global Config and Database modules.
 */
@Module({
  providers: [UsageStatsRepository, UsageStatsService],
  exports: [UsageStatsService],
})
export class UsageStatsModule {}
