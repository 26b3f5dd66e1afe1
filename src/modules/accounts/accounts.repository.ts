import { Injectable } from '@nestjs/common';
import { sql, type Expression, type SqlBool, type Transaction } from 'kysely';
import type { SortOrder } from 'src/common/http/list-query.dto';
import { InjectDb } from 'src/infra/database/database.module';
import type { AccountsTable, Database, Db } from 'src/infra/database/database.types';
import { likeContains } from 'src/infra/database/like';
import type { AccountSortField } from './dto/list-accounts.query.dto';

export type AccountRecord = AccountsTable;

export interface AccountFilter {
  platform?: string;
  type?: string;
  enabled?: boolean;
  status?: string;
  groupId?: string;
  /** Case-insensitive substring of the name. */
  search?: string;
  /** Only these accounts (an empty list matches none). */
  ids?: readonly string[];
}

export interface AccountListQuery extends AccountFilter {
  sortBy: AccountSortField;
  sortOrder: SortOrder;
  page: number;
  pageSize: number;
}

function sortColumn(field: AccountSortField): Expression<unknown> {
  switch (field) {
    case 'priority':
      return sql`priority`;
    case 'name':
      return sql`lower(name)`;
    case 'createdAt':
      return sql`created_at`;
    case 'lastUsedAt':
      return sql`last_used_at`;
  }
}

export type AccountChanges = Partial<Omit<AccountRecord, 'id' | 'created_at'>>;

/** The accounts table and each account's group memberships. */
@Injectable()
export class AccountsRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  /** Inserts an account and its memberships in one transaction. */
  async insert(record: AccountRecord, groupIds: string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values(record).execute();
      if (groupIds.length > 0) {
        await trx
          .insertInto('account_group_members')
          .values(groupIds.map((group_id) => ({ group_id, account_id: record.id })))
          .execute();
      }
    });
  }

  /**
   * Applies changes; when groupIds is given the memberships are replaced in the same
   * transaction. Returns false when the account does not exist.
   */
  async update(id: string, changes: AccountChanges, groupIds?: string[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('accounts')
        .set(changes)
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      if (groupIds !== undefined) {
        await trx.deleteFrom('account_group_members').where('account_id', '=', id).execute();
        if (groupIds.length > 0) {
          await trx
            .insertInto('account_group_members')
            .values(groupIds.map((group_id) => ({ group_id, account_id: id })))
            .execute();
        }
      }
      return true;
    });
  }

  /**
   * Compare-and-set on the sealed columns: applies changes only while credentials (and proxy,
   * when given) still hold the values the caller read, so a token refresh or an admin edit made
   * meanwhile is never overwritten with older secrets. False when the row changed or is gone.
   */
  async updateIfSealed(
    id: string,
    expected: { credentials: string; proxy?: string | null },
    changes: AccountChanges,
  ): Promise<boolean> {
    let query = this.db
      .updateTable('accounts')
      .set(changes)
      .where('id', '=', id)
      .where('credentials', '=', expected.credentials);
    if (expected.proxy !== undefined) {
      const proxy = expected.proxy;
      query = proxy === null ? query.where('proxy', 'is', null) : query.where('proxy', '=', proxy);
    }
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes the account; memberships and health events go with it (ON DELETE CASCADE). */
  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('accounts').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async findById(id: string): Promise<AccountRecord | undefined> {
    return this.db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByName(name: string): Promise<AccountRecord | undefined> {
    return this.db.selectFrom('accounts').selectAll().where('name', '=', name).executeTakeFirst();
  }

  async findByIds(ids: string[]): Promise<AccountRecord[]> {
    if (ids.length === 0) return [];
    return this.db.selectFrom('accounts').selectAll().where('id', 'in', ids).execute();
  }

  /** A page of accounts by priority (preferred first), then name, with the total count. */
  async list(query: AccountListQuery): Promise<{ records: AccountRecord[]; total: number }> {
    const filter = query;
    let selection = this.db.selectFrom('accounts');
    if (filter.platform !== undefined) {
      selection = selection.where('platform', '=', filter.platform);
    }
    if (filter.type !== undefined) selection = selection.where('type', '=', filter.type);
    if (filter.enabled !== undefined) {
      selection = selection.where('enabled', '=', filter.enabled ? 1 : 0);
    }
    if (filter.status !== undefined) selection = selection.where('status', '=', filter.status);
    if (filter.groupId !== undefined) {
      const groupId = filter.groupId;
      selection = selection.where('id', 'in', (eb) =>
        eb.selectFrom('account_group_members').select('account_id').where('group_id', '=', groupId),
      );
    }
    if (filter.search !== undefined) {
      selection = selection.where(
        sql<SqlBool>`lower(name) like ${likeContains(filter.search)} escape '\\'`,
      );
    }
    if (filter.ids !== undefined) {
      const ids = [...filter.ids];
      selection =
        ids.length === 0 ? selection.where(sql<SqlBool>`1 = 0`) : selection.where('id', 'in', ids);
    }
    const sort = sortColumn(query.sortBy);
    const [records, count] = await Promise.all([
      selection
        .selectAll()
        // Accounts without a value sort last in both directions, on both engines (they disagree).
        .orderBy(sql`case when ${sort} is null then 1 else 0 end`)
        .orderBy(sort, query.sortOrder)
        .orderBy(sql`lower(name)`, 'asc')
        // A unique tie-breaker keeps pages stable when sort values repeat.
        .orderBy('id', 'asc')
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize)
        .execute(),
      selection.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { records, total: Number(count.n) };
  }

  /** Every account: the pool's load. */
  async listAll(): Promise<AccountRecord[]> {
    return this.db.selectFrom('accounts').selectAll().orderBy('id').execute();
  }

  /** account id -> group ids, for the given accounts (every account when ids is omitted). */
  async groupIdsByAccount(ids?: string[]): Promise<Map<string, string[]>> {
    let query = this.db.selectFrom('account_group_members').select(['account_id', 'group_id']);
    if (ids !== undefined) {
      if (ids.length === 0) return new Map();
      query = query.where('account_id', 'in', ids);
    }
    const rows = await query.orderBy('group_id').execute();
    const byAccount = new Map<string, string[]>();
    for (const row of rows) {
      const list = byAccount.get(row.account_id);
      if (list === undefined) byAccount.set(row.account_id, [row.group_id]);
      else list.push(row.group_id);
    }
    return byAccount;
  }

  /**
   * Sets the status. With `onTransition`, the row changes only when its status differs, and
   * onTransition runs in the same transaction only when it did (the notification of the
   * transition commits with it, once, however many requests or instances raced to set it).
   */
  async setStatus(
    id: string,
    status: string,
    reason: string | null,
    now: number,
    onTransition?: (trx: Transaction<Database>) => Promise<unknown>,
  ): Promise<boolean> {
    if (onTransition === undefined) {
      const result = await this.db
        .updateTable('accounts')
        .set({ status, status_reason: reason, updated_at: now })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    }
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('accounts')
        .set({ status, status_reason: reason, updated_at: now })
        .where('id', '=', id)
        .where('status', '<>', status)
        .executeTakeFirst();
      const changed = Number(result.numUpdatedRows) > 0;
      if (changed) await onTransition(trx);
      return changed;
    });
  }

  /** Writes last-used times without touching updated_at (it is usage, not a configuration change). */
  async touchLastUsed(entries: { id: string; at: number }[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const { id, at } of entries) {
        await trx.updateTable('accounts').set({ last_used_at: at }).where('id', '=', id).execute();
      }
    });
  }
}
