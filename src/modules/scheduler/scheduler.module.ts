import { Module } from '@nestjs/common';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { Scheduler } from './scheduler.service';

@Module({
  imports: [AccountsModule],
  providers: [Scheduler],
  exports: [Scheduler],
})
export class SchedulerModule {}
