import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, NotificationTargetsTable } from 'src/infra/database/database.types';

export type NotificationTargetRecord = NotificationTargetsTable;

export type NotificationTargetChanges = Partial<
  Omit<NotificationTargetRecord, 'id' | 'created_at'>
>;

function normalise(row: NotificationTargetRecord): NotificationTargetRecord {
  // PostgreSQL returns bigint columns as strings.
  return { ...row, created_at: Number(row.created_at), updated_at: Number(row.updated_at) };
}

/** The notification_targets table. */
@Injectable()
export class NotificationTargetsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async insert(record: NotificationTargetRecord): Promise<void> {
    await this.db.insertInto('notification_targets').values(record).execute();
  }

  async update(id: string, changes: NotificationTargetChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('notification_targets')
      .set(changes)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes the target; its delivery log goes with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('notification_targets')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<NotificationTargetRecord | undefined> {
    const row = await this.db
      .selectFrom('notification_targets')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? undefined : normalise(row);
  }

  async findByName(name: string): Promise<NotificationTargetRecord | undefined> {
    const row = await this.db
      .selectFrom('notification_targets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : normalise(row);
  }

  /** Every target by name (a handful: no paging). */
  async list(): Promise<NotificationTargetRecord[]> {
    const rows = await this.db
      .selectFrom('notification_targets')
      .selectAll()
      .orderBy('name')
      .orderBy('id')
      .execute();
    return rows.map(normalise);
  }

  async listEnabled(): Promise<NotificationTargetRecord[]> {
    const rows = await this.db
      .selectFrom('notification_targets')
      .selectAll()
      .where('enabled', '=', 1)
      .orderBy('id')
      .execute();
    return rows.map(normalise);
  }
}
