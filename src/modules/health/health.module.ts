import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { BillingStreamModule } from 'src/modules/billing-stream/billing-stream.module';
import { DependencyMetrics } from './dependency-metrics';
import { HealthController } from './health.controller';
import { DependencyHealthIndicators } from './health.indicators';

@Module({
  imports: [TerminusModule.forRoot({ logger: false }), BillingStreamModule],
  controllers: [HealthController],
  providers: [DependencyHealthIndicators, DependencyMetrics],
})
export class HealthModule {}
