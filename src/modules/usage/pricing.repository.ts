import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, PricingOverridesTable } from 'src/infra/database/database.types';

export type PriceOverrideRecord = PricingOverridesTable;

@Injectable()
export class PricingRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async list(): Promise<PriceOverrideRecord[]> {
    return this.db.selectFrom('pricing_overrides').selectAll().orderBy('model').execute();
  }

  async upsert(record: PriceOverrideRecord): Promise<void> {
    await this.db
      .insertInto('pricing_overrides')
      .values(record)
      .onConflict((oc) =>
        oc.column('model').doUpdateSet({ price: record.price, updated_at: record.updated_at }),
      )
      .execute();
  }

  /** Returns false when there was no override for the model. */
  async delete(model: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('pricing_overrides')
      .where('model', '=', model)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
