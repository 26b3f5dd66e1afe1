import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { ScrapeCache } from 'src/modules/metrics/scrape-cache';
import { OutboxRepository } from './outbox.repository';
import type { OutboxTopic } from './outbox.types';

const TOPICS = ['notification', 'usage'] as const satisfies readonly OutboxTopic[];

/** Scrapes read the pending counts at most this often (one COUNT per topic each time). */
const PENDING_TTL_MS = 5000;

/**
 * `switchyard_outbox_pending{topic}`: events written and not yet handed on, read from SQL at
 * scrape time (a shared table: every instance reports the same figure; aggregate with max). The
 * counts are cached for a few seconds so scrapes never hammer the database; when SQL cannot be
 * read the last counts stay (switchyard_dependency_up tells the database is down).
 */
@Injectable()
export class OutboxMetrics implements OnModuleInit {
  private readonly pending = new ScrapeCache<Record<OutboxTopic, number>>(
    async () => {
      const [notification, usage] = await Promise.all(
        TOPICS.map((topic) => this.outbox.countPending(topic)),
      );
      return { notification: notification ?? 0, usage: usage ?? 0 };
    },
    PENDING_TTL_MS,
    { notification: 0, usage: 0 },
  );

  constructor(
    private readonly outbox: OutboxRepository,
    @Optional() private readonly metrics?: MetricsService,
  ) {}

  onModuleInit(): void {
    if (this.metrics === undefined) return;
    const pending = this.pending;
    new Gauge({
      name: 'switchyard_outbox_pending',
      help: 'Outbox events not yet delivered or published, by topic (shared by every instance)',
      labelNames: ['topic'] as const,
      registers: [this.metrics.registry],
      async collect() {
        const counts = await pending.get();
        for (const topic of TOPICS) this.set({ topic }, counts[topic]);
      },
    });
  }
}
