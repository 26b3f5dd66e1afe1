import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, ModelRoutesTable } from 'src/infra/database/database.types';

export type ModelRouteRecord = ModelRoutesTable;

export type ModelRouteChanges = Partial<
  Pick<ModelRouteRecord, 'pattern' | 'platform' | 'target_model' | 'position' | 'enabled' | 'note'>
> & { updated_at: number };

/** The `model_routes` table, on SQLite and PostgreSQL alike. */
@Injectable()
export class ModelRoutesRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /** Every route, in a stable order (the router sorts them for matching). */
  async listAll(): Promise<ModelRouteRecord[]> {
    return this.db
      .selectFrom('model_routes')
      .selectAll()
      .orderBy('position')
      .orderBy('id')
      .execute();
  }

  async findById(id: string): Promise<ModelRouteRecord | undefined> {
    return this.db.selectFrom('model_routes').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByPattern(pattern: string): Promise<ModelRouteRecord | undefined> {
    return this.db
      .selectFrom('model_routes')
      .selectAll()
      .where('pattern', '=', pattern)
      .executeTakeFirst();
  }

  /** The highest position in use, or null when there are no routes. */
  async maxPosition(): Promise<number | null> {
    const row = await this.db
      .selectFrom('model_routes')
      .select((eb) => eb.fn.max('position').as('max'))
      .executeTakeFirst();
    return row?.max ?? null;
  }

  async insert(record: ModelRouteRecord): Promise<void> {
    await this.db.insertInto('model_routes').values(record).execute();
  }

  /** Returns false when there is no route with this id. */
  async update(id: string, changes: ModelRouteChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('model_routes')
      .set(changes)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns false when there was no route with this id. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('model_routes').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
