import { Global, Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { RelayMetrics } from './relay-metrics';

@Global()
@Module({
  controllers: [MetricsController],
  providers: [MetricsService, RelayMetrics],
  exports: [MetricsService, RelayMetrics],
})
export class MetricsModule {}
