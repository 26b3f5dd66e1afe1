import { Injectable } from '@nestjs/common';
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import { InjectDb } from 'src/infra/database/database.module';
import type { ApiKeysTable, Database, Db } from 'src/infra/database/database.types';
import { likeContains } from 'src/infra/database/like';
import type { ApiKeyRecord, ApiKeyRow } from './api-key.mapper';
import type { ApiKeySortField, DeletedFilter } from './dto/list-api-keys.dto';

export interface ApiKeyListQuery {
  page: number;
  pageSize: number;
  search?: string;
  tag?: string;
  owner?: string;
  /** Only the keys of this user (self-service lists always set it). */
  userId?: string;
  enabled?: boolean;
  deleted: DeletedFilter;
  sortBy: ApiKeySortField;
  sortOrder: 'asc' | 'desc';
}

export interface ApiKeyUse {
  id: string;
  /** Set only when the key's first use is being recorded; an earlier stored one wins. */
  firstUsedAt: number | null;
  lastUsedAt: number;
}

/** Column values an update may change (never the id or the creation time). */
export type ApiKeyPatch = Partial<Omit<ApiKeysTable, 'id' | 'created_at'>>;

type Eb = ExpressionBuilder<Database, 'api_keys'>;

/**
 * When the key stops working: the fixed expiry, the relative one counted from first use, or the
 * earlier of both. The day length is cast to bigint: PostgreSQL would multiply two int4s and
 * overflow past 24 days.
 */
const EFFECTIVE_EXPIRY = sql<number | null>`case
  when expires_after_days is null or first_used_at is null then expires_at
  when expires_at is not null
    and expires_at < first_used_at + expires_after_days * cast(86400000 as bigint) then expires_at
  else first_used_at + expires_after_days * cast(86400000 as bigint)
end`;

/**
 * 1 when the key's owning user is disabled or no longer exists, else 0 (also for keys without a
 * user). A subquery rather than a join, so the list's unqualified columns stay unambiguous.
 */
const USER_DISABLED = sql<number>`case
  when api_keys.user_id is null then 0
  else coalesce((select u.disabled from users u where u.id = api_keys.user_id), 1)
end`;

function sortExpression(field: ApiKeySortField): Expression<unknown> {
  switch (field) {
    case 'name':
      return sql`lower(name)`;
    case 'createdAt':
      return sql`created_at`;
    case 'lastUsedAt':
      return sql`last_used_at`;
    case 'expiresAt':
      return EFFECTIVE_EXPIRY;
  }
}

/** Kysely over SQLite and PostgreSQL alike: only portable SQL below. */
@Injectable()
export class ApiKeysRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async insertMany(records: ApiKeyRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      // Chunks keep every statement under SQLite's bound-parameter limit.
      for (let i = 0; i < records.length; i += 50) {
        await trx
          .insertInto('api_keys')
          .values(records.slice(i, i + 50))
          .execute();
      }
    });
  }

  /** Usable keys whose limits name a daily, weekly or total cost cap (budget reconciliation). */
  async listWithBudgets(): Promise<ApiKeyRecord[]> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('deleted_at', 'is', null)
      .where('enabled', '=', 1)
      .where((eb) =>
        eb.or([
          eb('limits', 'like', '%dailyCostMicros%'),
          eb('limits', 'like', '%weeklyCostMicros%'),
          eb('limits', 'like', '%totalCostMicros%'),
        ]),
      )
      .execute();
  }

  async findById(id: string): Promise<ApiKeyRow | undefined> {
    return this.selectRows().where('id', '=', id).executeTakeFirst();
  }

  /** Deleted keys included; unknown ids are left out (any order). */
  async findByIds(ids: readonly string[]): Promise<ApiKeyRow[]> {
    if (ids.length === 0) return [];
    return this.selectRows()
      .where('id', 'in', [...ids])
      .execute();
  }

  /** Deleted keys included: the caller tells "deleted" from "unknown". */
  async findByDigest(digest: string): Promise<ApiKeyRow | undefined> {
    return this.selectRows().where('key_digest', '=', digest).executeTakeFirst();
  }

  /** Ids of every key of the user, deleted ones included (their usage is still the user's). */
  async idsOfUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select('id')
      .where('user_id', '=', userId)
      .execute();
    return rows.map((row) => row.id);
  }

  /**
   * Inserts a user's key unless they already hold `maxKeys` keys that are not deleted; returns
   * how many they held when refused, or null when inserted. The user's row is written first in
   * the same transaction: on PostgreSQL that row lock queues concurrent creates of the same user,
   * so two at once cannot both pass the count (SQLite runs one write transaction at a time).
   */
  async insertOwned(record: ApiKeyRecord, userId: string, maxKeys: number): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const locked = await trx
        .updateTable('users')
        .set((eb) => ({ updated_at: eb.ref('updated_at') }))
        .where('id', '=', userId)
        .executeTakeFirst();
      if (Number(locked.numUpdatedRows) === 0) throw new Error(`user ${userId} not found`);
      const row = await trx
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('user_id', '=', userId)
        .where('deleted_at', 'is', null)
        .executeTakeFirstOrThrow();
      const held = Number(row.n);
      if (held >= maxKeys) return held;
      await trx.insertInto('api_keys').values(record).execute();
      return null;
    });
  }

  async list(query: ApiKeyListQuery): Promise<{ rows: ApiKeyRow[]; total: number }> {
    const filter = (eb: Eb): Expression<SqlBool> => eb.and(this.conditions(eb, query));
    const sort = sortExpression(query.sortBy);
    const [rows, count] = await Promise.all([
      this.selectRows()
        .where(filter)
        // Keys without a value sort last in both directions, on both engines (they disagree).
        .orderBy(sql`case when ${sort} is null then 1 else 0 end`)
        .orderBy(sort, query.sortOrder)
        // A unique tie-breaker keeps pages stable when sort values repeat.
        .orderBy('id', query.sortOrder)
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize)
        .execute(),
      this.db
        .selectFrom('api_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(filter)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /**
   * Applies the patch only when the row is still at `expectedUpdatedAt` (optimistic
   * concurrency: two admins editing at once cannot silently undo each other's change).
   * Returns the new row, or undefined when the row changed or no longer exists.
   */
  async updateIfUnchanged(
    id: string,
    expectedUpdatedAt: number,
    patch: ApiKeyPatch,
  ): Promise<ApiKeyRecord | undefined> {
    return this.db
      .updateTable('api_keys')
      .set(patch)
      .where('id', '=', id)
      .where('updated_at', '=', expectedUpdatedAt)
      .returningAll()
      .executeTakeFirst();
  }

  /** Batched first / last use, one statement per key, in one transaction. */
  async recordUse(uses: ApiKeyUse[]): Promise<void> {
    if (uses.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const use of uses) {
        const last = sql<number>`cast(${use.lastUsedAt} as bigint)`;
        await trx
          .updateTable('api_keys')
          .set((eb) => ({
            first_used_at:
              use.firstUsedAt === null
                ? eb.ref('first_used_at')
                : eb.fn.coalesce('first_used_at', sql<number>`cast(${use.firstUsedAt} as bigint)`),
            last_used_at: sql<number>`case
              when last_used_at is null or last_used_at < ${last} then ${last}
              else last_used_at
            end`,
          }))
          .where('id', '=', use.id)
          .execute();
      }
    });
  }

  /** Every column, and whether the owning user is disabled (see USER_DISABLED). */
  private selectRows() {
    return this.db
      .selectFrom('api_keys')
      .selectAll('api_keys')
      .select(USER_DISABLED.as('user_disabled'));
  }

  private conditions(eb: Eb, query: ApiKeyListQuery): Expression<SqlBool>[] {
    const conditions: Expression<SqlBool>[] = [];
    switch (query.deleted) {
      case 'exclude':
        conditions.push(eb('deleted_at', 'is', null));
        break;
      case 'only':
        conditions.push(eb('deleted_at', 'is not', null));
        break;
      case 'include':
        break;
    }
    if (query.enabled !== undefined) conditions.push(eb('enabled', '=', query.enabled ? 1 : 0));
    if (query.owner !== undefined) conditions.push(eb('owner', '=', query.owner));
    if (query.userId !== undefined) conditions.push(eb('user_id', '=', query.userId));
    if (query.tag !== undefined) {
      // Tags are a JSON array of strings without quotes or backslashes (see TAG_PATTERN), so
      // `"tag"` in its text matches exactly one whole element.
      const pattern = likeContains(JSON.stringify(query.tag));
      conditions.push(sql<SqlBool>`lower(tags) like ${pattern} escape '\\'`);
    }
    if (query.search !== undefined && query.search.length > 0) {
      const pattern = likeContains(query.search);
      conditions.push(
        eb.or([
          sql<SqlBool>`lower(name) like ${pattern} escape '\\'`,
          sql<SqlBool>`lower(coalesce(description, '')) like ${pattern} escape '\\'`,
          sql<SqlBool>`lower(coalesce(owner, '')) like ${pattern} escape '\\'`,
        ]),
      );
    }
    return conditions;
  }
}
