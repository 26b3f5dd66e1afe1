import { Injectable } from '@nestjs/common';
import { sql, type Expression, type SqlBool } from 'kysely';
import type { SortOrder } from 'src/common/http/list-query.dto';
import { InjectDb } from 'src/infra/database/database.module';
import type { AccountGroupsTable, Db } from 'src/infra/database/database.types';
import { likeContains } from 'src/infra/database/like';
import type { AccountGroupSortField } from './dto/account-group.dto';

export type AccountGroupRecord = AccountGroupsTable;

export interface AccountGroupListQuery {
  platform?: string;
  /** Case-insensitive substring of the name or description. */
  search?: string;
  sortBy: AccountGroupSortField;
  sortOrder: SortOrder;
  page: number;
  pageSize: number;
}

function sortColumn(field: AccountGroupSortField): Expression<unknown> {
  switch (field) {
    case 'name':
      return sql`lower(name)`;
    case 'createdAt':
      return sql`created_at`;
    case 'updatedAt':
      return sql`updated_at`;
  }
}

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

  /** One page of groups, and how many match in all. */
  async page(
    query: AccountGroupListQuery,
  ): Promise<{ records: AccountGroupRecord[]; total: number }> {
    let selection = this.db.selectFrom('account_groups');
    if (query.platform !== undefined) selection = selection.where('platform', '=', query.platform);
    if (query.search !== undefined) {
      const pattern = likeContains(query.search);
      selection = selection.where((eb) =>
        eb.or([
          sql<SqlBool>`lower(name) like ${pattern} escape '\\'`,
          sql<SqlBool>`lower(coalesce(description, '')) like ${pattern} escape '\\'`,
        ]),
      );
    }
    const [records, count] = await Promise.all([
      selection
        .selectAll()
        .orderBy(sortColumn(query.sortBy), query.sortOrder)
        .orderBy('id', query.sortOrder)
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize)
        .execute(),
      selection.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { records, total: Number(count.n) };
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
