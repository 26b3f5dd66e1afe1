import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { ConfigService } from 'src/config/config.service';
import { BillingPublisher } from 'src/modules/billing-stream/billing-publisher.service';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { COORDINATOR } from 'src/infra/coordination/coordinator.port';
import { InjectDb, pingDatabase } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';

/** Rejects after ms so a hung dependency turns readiness to 503 quickly instead of hanging it. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

@Injectable()
export class DependencyHealthIndicators {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly config: ConfigService,
    @InjectDb() private readonly db: Db,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    private readonly billing: BillingPublisher,
  ) {}

  get billingStreamEnabled(): boolean {
    return this.billing.enabled;
  }

  /**
   * The billing stream's broker, for information only: always up, because a broker that is down
   * loses nothing (events wait in the outbox) and must not take the relay out of service.
   */
  billingStream(): HealthIndicatorResult {
    const { state, broker, exchange, lastError } = this.billing.status();
    return this.indicators
      .check('billingStream')
      .up({ state, broker, exchange, ...(lastError === null ? {} : { lastError }) });
  }

  async database(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('database');
    const engine = this.config.databaseEngine;
    try {
      await withTimeout(pingDatabase(this.db), this.config.env.HEALTH_CHECK_TIMEOUT_MS, 'database');
      return check.up({ engine });
    } catch (error) {
      return check.down({ engine, message: reason(error) });
    }
  }

  async redis(): Promise<HealthIndicatorResult> {
    const check = this.indicators.check('redis');
    const mode = this.config.redisMode;
    try {
      await withTimeout(this.coordinator.ping(), this.config.env.HEALTH_CHECK_TIMEOUT_MS, 'redis');
      return check.up({ mode });
    } catch (error) {
      return check.down({ mode, message: reason(error) });
    }
  }
}
