import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, RoutingRulesTable } from 'src/infra/database/database.types';

export type RoutingRuleRecord = RoutingRulesTable;

export type RoutingRuleChanges = Partial<Omit<RoutingRuleRecord, 'id' | 'created_at'>> & {
  updated_at: number;
};

/** The `routing_rules` table, on SQLite and PostgreSQL alike. */
@Injectable()
export class RoutingRulesRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /** Every rule, in a stable order (the rule router sorts them for matching). */
  async listAll(): Promise<RoutingRuleRecord[]> {
    return this.db
      .selectFrom('routing_rules')
      .selectAll()
      .orderBy('priority')
      .orderBy('id')
      .execute();
  }

  /** One key's rules (apiKeyId) or the global ones (null), by priority. */
  async listScope(apiKeyId: string | null): Promise<RoutingRuleRecord[]> {
    let query = this.db.selectFrom('routing_rules').selectAll();
    query =
      apiKeyId === null
        ? query.where('api_key_id', 'is', null)
        : query.where('api_key_id', '=', apiKeyId);
    return query.orderBy('priority').orderBy('id').execute();
  }

  async findById(id: string): Promise<RoutingRuleRecord | undefined> {
    return this.db.selectFrom('routing_rules').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The highest priority in one scope, or null when it has no rules. */
  async maxPriority(apiKeyId: string | null): Promise<number | null> {
    let query = this.db.selectFrom('routing_rules').select((eb) => eb.fn.max('priority').as('max'));
    query =
      apiKeyId === null
        ? query.where('api_key_id', 'is', null)
        : query.where('api_key_id', '=', apiKeyId);
    const row = await query.executeTakeFirst();
    return row?.max ?? null;
  }

  async insert(record: RoutingRuleRecord): Promise<void> {
    await this.db.insertInto('routing_rules').values(record).execute();
  }

  /** Returns false when there is no rule with this id. */
  async update(id: string, changes: RoutingRuleChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('routing_rules')
      .set(changes)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns false when there was no rule with this id. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('routing_rules')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
