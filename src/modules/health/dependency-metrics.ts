import { Inject, Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { ConfigService } from 'src/config/config.service';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import { InjectDb, pingDatabase } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { ScrapeCache } from 'src/modules/metrics/scrape-cache';
import { withTimeout } from './health.indicators';

/** Scrapes probe the dependencies at most this often. */
const PROBE_TTL_MS = 5000;

type Dependency = 'database' | 'redis';

/**
 * `switchyard_dependency_up{dependency}`: 1 when the database (and Redis, when configured)
 * answered a ping within HEALTH_CHECK_TIMEOUT_MS, else 0, the same checks as /health/ready. Probed
 * at scrape time, at most once per PROBE_TTL_MS whatever the scrape rate. A probe that fails is a
 * 0, never a failed scrape: the alert needs the scrape to succeed to say so.
 */
@Injectable()
export class DependencyMetrics implements OnModuleInit {
  private readonly dependencies: Dependency[];
  private readonly probes: ScrapeCache<Record<Dependency, number>>;

  constructor(
    private readonly config: ConfigService,
    @InjectDb() private readonly db: Db,
    @Inject(COORDINATOR) private readonly coordinator: Coordinator,
    @Optional() private readonly metrics?: MetricsService,
  ) {
    this.dependencies = config.redisMode === 'none' ? ['database'] : ['database', 'redis'];
    this.probes = new ScrapeCache(() => this.probe(), PROBE_TTL_MS, { database: 0, redis: 0 });
  }

  onModuleInit(): void {
    if (this.metrics === undefined) return;
    const { probes, dependencies } = this;
    new Gauge({
      name: 'switchyard_dependency_up',
      help: 'Whether a dependency answered its health check (1) or not (0): database, redis',
      labelNames: ['dependency'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const up = await probes.get();
        for (const dependency of dependencies) this.set({ dependency }, up[dependency]);
      },
    });
  }

  private async probe(): Promise<Record<Dependency, number>> {
    const timeoutMs = this.config.env.HEALTH_CHECK_TIMEOUT_MS;
    const up = (check: Promise<unknown>, what: string): Promise<number> =>
      withTimeout(check, timeoutMs, what).then(
        () => 1,
        () => 0,
      );
    const [database, redis] = await Promise.all([
      up(pingDatabase(this.db), 'database'),
      this.config.redisMode === 'none' ? Promise.resolve(0) : up(this.coordinator.ping(), 'redis'),
    ]);
    return { database, redis };
  }
}
