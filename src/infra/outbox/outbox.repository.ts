import { Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { InjectDb } from 'src/infra/database/database.module';
import type { Database, Db, OutboxEventsTable } from 'src/infra/database/database.types';
import type { OutboxEvent, OutboxEventInput, OutboxTopic } from './outbox.types';

/** Where an append runs: the caller's transaction, so the event commits with its cause. */
export type OutboxExecutor = Db | Transaction<Database>;

export function toOutboxRow(event: OutboxEventInput, now: number = Date.now()): OutboxEventsTable {
  const createdAt = event.createdAt ?? now;
  return {
    id: event.id ?? timeOrderedId(createdAt),
    topic: event.topic,
    type: event.type,
    partition_key: event.partitionKey ?? null,
    dedupe_key: event.dedupeKey ?? null,
    payload: JSON.stringify(event.payload),
    created_at: createdAt,
    processed_at: null,
  };
}

function fromRow(row: OutboxEventsTable): OutboxEvent {
  return {
    id: row.id,
    topic: row.topic as OutboxTopic,
    type: row.type,
    partitionKey: row.partition_key,
    dedupeKey: row.dedupe_key,
    payload: JSON.parse(row.payload) as unknown,
    createdAt: Number(row.created_at),
    processedAt: row.processed_at === null ? null : Number(row.processed_at),
  };
}

/** The outbox table: append with the cause, read what a topic has not handed on yet, mark it. */
@Injectable()
export class OutboxRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /**
   * Appends events on `executor` (pass the transaction of the change that caused them). An event
   * whose id or dedupe key is already stored is skipped. Resolves with the number stored.
   */
  async append(events: readonly OutboxEventInput[], executor: OutboxExecutor = this.db) {
    if (events.length === 0) return 0;
    const now = Date.now();
    const result = await executor
      .insertInto('outbox_events')
      .values(events.map((event) => toOutboxRow(event, now)))
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  /** The oldest `limit` events of a topic not yet processed, in id (creation) order. */
  async pending(topic: OutboxTopic, limit: number): Promise<OutboxEvent[]> {
    const rows = await this.db
      .selectFrom('outbox_events')
      .selectAll()
      .where('topic', '=', topic)
      .where('processed_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(fromRow);
  }

  async markProcessed(
    ids: readonly string[],
    at: number = Date.now(),
    executor: OutboxExecutor = this.db,
  ): Promise<void> {
    if (ids.length === 0) return;
    await executor
      .updateTable('outbox_events')
      .set({ processed_at: at })
      .where('id', 'in', [...ids])
      .execute();
  }

  /** Events of a topic not yet processed (the outbox depth). */
  async countPending(topic: OutboxTopic): Promise<number> {
    const row = await this.db
      .selectFrom('outbox_events')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('topic', '=', topic)
      .where('processed_at', 'is', null)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * Deletes up to `limit` processed events created before `before` (of one topic when given: the
   * topics keep their events for different times); returns how many went.
   */
  async pruneProcessed(before: number, limit: number, topic?: OutboxTopic): Promise<number> {
    const result = await this.db
      .deleteFrom('outbox_events')
      .where('id', 'in', (eb) => {
        let ids = eb
          .selectFrom('outbox_events')
          .select('id')
          .where('processed_at', 'is not', null)
          .where('created_at', '<', before);
        if (topic !== undefined) ids = ids.where('topic', '=', topic);
        return ids.limit(limit);
      })
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
