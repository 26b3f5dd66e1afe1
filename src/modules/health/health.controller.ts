import { Controller, Get, Res, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import type { Response } from 'express';
import { Public } from 'src/common/auth/route-access.decorator';
import { ConfigService } from 'src/config/config.service';
import { DependencyHealthIndicators } from './health.indicators';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly dependencies: DependencyHealthIndicators,
    private readonly config: ConfigService,
  ) {}

  /** The process is up and its event loop answers. */
  @Public()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /**
   * The database (and Redis when configured) answer within HEALTH_CHECK_TIMEOUT_MS; else 503. With
   * AMQP_URL, `billingStream` reports the broker connection but never fails readiness.
   */
  @Public()
  @Get('ready')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) res: Response): Promise<HealthCheckResult> {
    const checks = [() => this.dependencies.database()];
    if (this.config.redisMode !== 'none') checks.push(() => this.dependencies.redis());
    if (this.dependencies.billingStreamEnabled) {
      checks.push(() => Promise.resolve(this.dependencies.billingStream()));
    }
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        res.status(503);
        return error.getResponse() as HealthCheckResult;
      }
      throw error;
    }
  }
}
