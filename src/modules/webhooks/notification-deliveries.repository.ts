import { Injectable } from '@nestjs/common';
import type { Transaction } from 'kysely';
import { InjectDb } from 'src/infra/database/database.module';
import type { Database, Db, NotificationDeliveriesTable } from 'src/infra/database/database.types';

export type NotificationDeliveryRecord = NotificationDeliveriesTable;

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryListQuery {
  targetId?: string;
  status?: DeliveryStatus;
  eventType?: string;
  page: number;
  pageSize: number;
}

/** The outcome of one attempt, applied only if the row is still as the sender read it. */
export interface AttemptResult {
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  durationMs: number;
  deliveredAt: number | null;
  now: number;
}

const NUMERIC = [
  'attempts',
  'next_attempt_at',
  'last_status',
  'last_duration_ms',
  'delivered_at',
  'created_at',
  'updated_at',
] as const;

function normalise(row: NotificationDeliveryRecord): NotificationDeliveryRecord {
  // PostgreSQL returns bigint columns as strings.
  const copy = { ...row } as Record<string, unknown>;
  for (const column of NUMERIC) {
    const value = copy[column];
    if (value !== null && value !== undefined) copy[column] = Number(value);
  }
  return copy as unknown as NotificationDeliveryRecord;
}

/**
 * The notification_deliveries table: the retry queue and the delivery log in one. Every state
 * change is a compare-and-set on (status = 'pending', attempts, next_attempt_at as read), so two
 * instances, or an instance whose lock expired mid-tick, can never both send one attempt.
 */
@Injectable()
export class NotificationDeliveriesRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /** Inserts deliveries; a row whose (event, target) pair exists is skipped. Returns how many. */
  async insertMany(
    records: readonly NotificationDeliveryRecord[],
    executor: Db | Transaction<Database> = this.db,
  ): Promise<number> {
    if (records.length === 0) return 0;
    const result = await executor
      .insertInto('notification_deliveries')
      .values([...records])
      .onConflict((oc) => oc.columns(['event_id', 'target_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0);
  }

  /** Pending deliveries whose next attempt is due, the most overdue first. */
  async due(now: number, limit: number): Promise<NotificationDeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(normalise);
  }

  /**
   * Takes one attempt of a delivery: moves its next attempt to `until` (past the send timeout)
   * so nobody else finds it due meanwhile. False when another sender got there first.
   */
  async claim(row: NotificationDeliveryRecord, until: number, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('notification_deliveries')
      .set({ next_attempt_at: until, updated_at: now })
      .where('id', '=', row.id)
      .where('status', '=', 'pending')
      .where('attempts', '=', row.attempts)
      .where('next_attempt_at', '=', row.next_attempt_at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records an attempt's outcome (attempts + 1), only while the row is as it was read. */
  async recordAttempt(id: string, readAttempts: number, result: AttemptResult): Promise<boolean> {
    const updated = await this.db
      .updateTable('notification_deliveries')
      .set({
        status: result.status,
        attempts: readAttempts + 1,
        next_attempt_at: result.nextAttemptAt,
        last_status: result.lastStatus,
        last_error: result.lastError === null ? null : result.lastError.slice(0, 500),
        last_duration_ms: result.durationMs,
        delivered_at: result.deliveredAt,
        updated_at: result.now,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('attempts', '=', readAttempts)
      .executeTakeFirst();
    return Number(updated.numUpdatedRows) > 0;
  }

  /** Puts a delivery that gave up back in the queue, due now. False unless it had failed. */
  async retry(id: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('notification_deliveries')
      .set({ status: 'pending', next_attempt_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'failed')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async findById(id: string): Promise<NotificationDeliveryRecord | undefined> {
    const row = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : normalise(row);
  }

  /** A page of the log, newest first, with the total count. */
  async list(
    query: DeliveryListQuery,
  ): Promise<{ records: NotificationDeliveryRecord[]; total: number }> {
    let selection = this.db.selectFrom('notification_deliveries');
    if (query.targetId !== undefined) selection = selection.where('target_id', '=', query.targetId);
    if (query.status !== undefined) selection = selection.where('status', '=', query.status);
    if (query.eventType !== undefined) {
      selection = selection.where('event_type', '=', query.eventType);
    }
    const [rows, count] = await Promise.all([
      selection
        .selectAll()
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize)
        .execute(),
      selection.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { records: rows.map(normalise), total: Number(count.n) };
  }

  /**
   * Deletes up to `limit` deliveries that reached a final state (delivered or failed) and were
   * created and last changed before `before`; pending ones stay, however old. Returns how many.
   */
  async pruneFinal(before: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('notification_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('notification_deliveries')
          .select('id')
          // created_at is indexed; updated_at keeps a delivery retried by hand a full period.
          .where('created_at', '<', before)
          .where('updated_at', '<', before)
          .where('status', 'in', ['delivered', 'failed'])
          .limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Deliveries still pending (the retry queue's depth). */
  async countPending(): Promise<number> {
    const row = await this.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
