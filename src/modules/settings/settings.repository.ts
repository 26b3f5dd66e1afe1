import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, SettingsTable } from 'src/infra/database/database.types';

/** A stored override: `value` is the setting's JSON. */
export type SettingRecord = SettingsTable;

/**
 * The runtime settings' rows in the `settings` table (key, JSON value, updated_at), on SQLite and
 * PostgreSQL alike. Only the keys asked for are read: the table is a general key/value store
 * that other features may share.
 */
@Injectable()
export class SettingsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /** The rows of these keys, by key. */
  async list(keys: readonly string[]): Promise<SettingRecord[]> {
    if (keys.length === 0) return [];
    return this.db
      .selectFrom('settings')
      .selectAll()
      .where('key', 'in', [...keys])
      .orderBy('key')
      .execute();
  }

  /** Writes and removes rows in one transaction: every change is stored, or none. */
  async apply(upserts: readonly SettingRecord[], removals: readonly string[]): Promise<void> {
    if (upserts.length === 0 && removals.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const record of upserts) {
        await trx
          .insertInto('settings')
          .values(record)
          .onConflict((oc) =>
            oc.column('key').doUpdateSet({ value: record.value, updated_at: record.updated_at }),
          )
          .execute();
      }
      if (removals.length > 0) {
        await trx
          .deleteFrom('settings')
          .where('key', 'in', [...removals])
          .execute();
      }
    });
  }
}
