import { Injectable } from '@nestjs/common';
import { InjectDb, pingDatabase } from 'src/infra/database/database.module';
import type { Db, RequestLogTable } from 'src/infra/database/database.types';
import { aggregateRows, toRequestLogRow, uniqueById } from './usage-batch';
import type { UsageEvent } from './usage.types';

/** Rows per INSERT: 21 columns x 1000 stays under SQLite's 32766 and PostgreSQL's 65535 bind limit. */
const ROWS_PER_STATEMENT = 1000;

/** Where the usage recorder writes; a port so its queueing can be tested without a database. */
export interface UsageBatchWriter {
  /**
   * Stores a batch in one transaction: its request-log rows and the aggregates of the rows that
   * were new. Idempotent: events already stored (same request id) change nothing. Resolves with
   * the number of rows newly stored.
   */
  writeBatch(events: readonly UsageEvent[]): Promise<number>;
  /** Rejects when the database does not answer. */
  ping(): Promise<void>;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

@Injectable()
export class UsageRepository implements UsageBatchWriter {
  constructor(@InjectDb() private readonly db: Db) {}

  async writeBatch(events: readonly UsageEvent[]): Promise<number> {
    const rows = uniqueById(events.map(toRequestLogRow));
    if (rows.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      const inserted = new Set<string>();
      for (const chunk of chunks(rows, ROWS_PER_STATEMENT)) {
        const result = await trx
          .insertInto('request_log')
          .values(chunk)
          .onConflict((oc) => oc.column('id').doNothing())
          .returning('id')
          .execute();
        for (const { id } of result) inserted.add(id);
      }
      // Only rows this transaction inserted are aggregated: a batch delivered twice (a commit
      // whose acknowledgement was lost, then retried) must not count twice.
      const fresh: RequestLogTable[] = rows.filter((row) => inserted.has(row.id));
      for (const chunk of chunks(aggregateRows(fresh), ROWS_PER_STATEMENT)) {
        await trx
          .insertInto('usage_aggregates')
          .values(chunk)
          .onConflict((oc) =>
            oc.columns(['bucket', 'bucket_start', 'dim', 'dim_id']).doUpdateSet((eb) => ({
              requests: eb('usage_aggregates.requests', '+', eb.ref('excluded.requests')),
              errors: eb('usage_aggregates.errors', '+', eb.ref('excluded.errors')),
              input_tokens: eb(
                'usage_aggregates.input_tokens',
                '+',
                eb.ref('excluded.input_tokens'),
              ),
              output_tokens: eb(
                'usage_aggregates.output_tokens',
                '+',
                eb.ref('excluded.output_tokens'),
              ),
              cache_5m_tokens: eb(
                'usage_aggregates.cache_5m_tokens',
                '+',
                eb.ref('excluded.cache_5m_tokens'),
              ),
              cache_1h_tokens: eb(
                'usage_aggregates.cache_1h_tokens',
                '+',
                eb.ref('excluded.cache_1h_tokens'),
              ),
              cache_read_tokens: eb(
                'usage_aggregates.cache_read_tokens',
                '+',
                eb.ref('excluded.cache_read_tokens'),
              ),
              cost_micros: eb('usage_aggregates.cost_micros', '+', eb.ref('excluded.cost_micros')),
              unpriced_requests: eb(
                'usage_aggregates.unpriced_requests',
                '+',
                eb.ref('excluded.unpriced_requests'),
              ),
            })),
          )
          .execute();
      }
      return fresh.length;
    });
  }

  async ping(): Promise<void> {
    await pingDatabase(this.db);
  }
}
