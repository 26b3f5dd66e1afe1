import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { AccountGroupsTable, Db } from 'src/infra/database/database.types';

export type AccountGroupRecord = AccountGroupsTable;

export type AccountGroupChanges = Partial<Pick<AccountGroupRecord, 'name' | 'description'>> & {
  updated_at: number;
};

/** Account groups and their members. */
@Injectable()
export class AccountGroupsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async insert(record: AccountGroupRecord, accountIds: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('account_groups').values(record).execute();
      if (accountIds.length > 0) {
        await trx
          .insertInto('account_group_members')
          .values(accountIds.map((account_id) => ({ group_id: record.id, account_id })))
          .execute();
      }
    });
  }

  async update(id: string, changes: AccountGroupChanges): Promise<boolean> {
    const result = await this.db
      .updateTable('account_groups')
      .set(changes)
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes the group; its memberships go with it (ON DELETE CASCADE), the accounts stay. */
  async delete(id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('account_groups')
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<AccountGroupRecord | undefined> {
    return this.db.selectFrom('account_groups').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByName(name: string): Promise<AccountGroupRecord | undefined> {
    return this.db
      .selectFrom('account_groups')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
  }

  async findByIds(ids: string[]): Promise<AccountGroupRecord[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('account_groups').selectAll().where('id', 'in', ids).execute();
  }

  async list(platform?: string): Promise<AccountGroupRecord[]> {
    let query = this.db.selectFrom('account_groups').selectAll();
    if (platform !== undefined) query = query.where('platform', '=', platform);
    return query.orderBy('name').execute();
  }

  /** group id -> member account ids, for the given groups. */
  async memberIds(groupIds: string[]): Promise<Map<string, string[]>> {
    const members = new Map<string, string[]>(groupIds.map((id) => [id, []]));
    if (groupIds.length === 0) return members;
    const rows = await this.db
      .selectFrom('account_group_members')
      .select(['group_id', 'account_id'])
      .where('group_id', 'in', groupIds)
      .orderBy('account_id')
      .execute();
    for (const row of rows) members.get(row.group_id)?.push(row.account_id);
    return members;
  }

  /** Replaces the members of a group in one transaction. */
  async replaceMembers(groupId: string, accountIds: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('account_group_members').where('group_id', '=', groupId).execute();
      if (accountIds.length > 0) {
        await trx
          .insertInto('account_group_members')
          .values(accountIds.map((account_id) => ({ group_id: groupId, account_id })))
          .execute();
      }
    });
  }
}
