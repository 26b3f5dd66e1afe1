import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { DependencyMetrics } from './dependency-metrics';
import { HealthController } from './health.controller';
import { DependencyHealthIndicators } from './health.indicators';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [DependencyHealthIndicators, DependencyMetrics],
})
export class HealthModule {}
