import { Module } from '@nestjs/common';
import { KeySpendReader } from './key-spend.reader';
import { UsageStatsRepository } from './usage-stats.repository';

/**
 * The usage record's answer to "what has this key spent in this period", for admission's budget
 * seeding. Its own module so that API keys need only the database, not the usage write path.
 */
@Module({
  providers: [UsageStatsRepository, KeySpendReader],
  exports: [KeySpendReader],
})
export class KeySpendModule {}
