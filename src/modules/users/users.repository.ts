import { Injectable } from '@nestjs/common';
import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type SqlBool,
  type Transaction,
} from 'kysely';
import type { Role } from 'src/common/auth/route-access.decorator';
import { InjectDb } from 'src/infra/database/database.module';
import type { Database, Db, UsersTable } from 'src/infra/database/database.types';
import type { UserSortField } from './dto/user.dto';

export type UserRecord = UsersTable;

/** What an admin may change on a user (the password has its own path). */
export interface UserPatch {
  role?: Role;
  disabled?: boolean;
  /** JSON UserCaps */
  caps?: string;
}

export interface UserListQuery {
  page: number;
  pageSize: number;
  search?: string;
  role?: Role;
  disabled?: boolean;
  sortBy: UserSortField;
  sortOrder: 'asc' | 'desc';
}

/** Why a guarded change was not made. */
export type UserChangeRefusal = 'not-found' | 'last-admin';

type Eb = ExpressionBuilder<Database, 'users'>;

function likeContains(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function sortColumn(field: UserSortField): Expression<unknown> {
  switch (field) {
    case 'username':
      return sql`lower(username)`;
    case 'role':
      return sql`role`;
    case 'createdAt':
      return sql`created_at`;
    case 'lastLoginAt':
      return sql`last_login_at`;
  }
}

function isEnabledAdmin(user: { role: string; disabled: number }): boolean {
  return user.role === 'admin' && user.disabled === 0;
}

@Injectable()
export class UsersRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insert(user: UserRecord): Promise<void> {
    await this.db.insertInto('users').values(user).execute();
  }

  async list(query: UserListQuery): Promise<{ rows: UserRecord[]; total: number }> {
    const filter = (eb: Eb): Expression<SqlBool> => eb.and(this.conditions(eb, query));
    const sort = sortColumn(query.sortBy);
    const [rows, count] = await Promise.all([
      this.db
        .selectFrom('users')
        .selectAll()
        .where(filter)
        // Users who never logged in sort last in both directions, on both engines.
        .orderBy(sql`case when ${sort} is null then 1 else 0 end`)
        .orderBy(sort, query.sortOrder)
        .orderBy('id', query.sortOrder)
        .limit(query.pageSize)
        .offset((query.page - 1) * query.pageSize)
        .execute(),
      this.db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where(filter)
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /**
   * Applies an admin's change, unless it would leave no enabled admin. Disabling or enabling
   * revokes the user's session tokens. Returns the user as now stored, or why not.
   */
  async update(id: string, patch: UserPatch, now: number): Promise<UserRecord | UserChangeRefusal> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.lockAdminsAndRead(trx, id);
      if (current === undefined) return 'not-found';
      const next = {
        role: patch.role ?? current.role,
        disabled: patch.disabled === undefined ? current.disabled : patch.disabled ? 1 : 0,
      };
      if (isEnabledAdmin(current) && !isEnabledAdmin(next)) {
        if ((await this.otherEnabledAdmins(trx, id)) === 0) return 'last-admin';
      }
      const disabledChanged = next.disabled !== current.disabled;
      return trx
        .updateTable('users')
        .set((eb) => ({
          role: next.role,
          disabled: next.disabled,
          ...(patch.caps === undefined ? {} : { caps: patch.caps }),
          updated_at: now,
          token_version: disabledChanged ? eb('token_version', '+', 1) : eb.ref('token_version'),
        }))
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
    });
  }

  /**
   * Deletes the user, unless they are the last enabled admin. Their keys are disabled and
   * detached in the same transaction (they stay as ordinary disabled keys an admin may look at,
   * re-enable or delete; `owner` still names the user). Returns the ids of those keys.
   */
  async remove(id: string, now: number): Promise<string[] | UserChangeRefusal> {
    return this.db.transaction().execute(async (trx) => {
      const current = await this.lockAdminsAndRead(trx, id);
      if (current === undefined) return 'not-found';
      if (isEnabledAdmin(current) && (await this.otherEnabledAdmins(trx, id)) === 0) {
        return 'last-admin';
      }
      const keys = await trx
        .updateTable('api_keys')
        .set({
          enabled: 0,
          user_id: null,
          // Strictly increasing, as every key write: optimistic concurrency compares it.
          updated_at: sql<number>`case when updated_at >= ${now} then updated_at + 1 else ${now} end`,
        })
        .where('user_id', '=', id)
        .returning('id')
        .execute();
      await trx.deleteFrom('users').where('id', '=', id).execute();
      return keys.map((key) => key.id);
    });
  }

  /** Sets the password and revokes every session token issued before. */
  /**
   * Sets the password and revokes every session token issued before; the user authenticates
   * locally from now on.
   */
  async setPasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({
        password_hash: passwordHash,
        auth_source: 'local',
        ldap_dn: null,
        updated_at: now,
        token_version: eb('token_version', '+', 1),
      }))
      .where('id', '=', id)
      .execute();
  }

  /** Enables or disables the user; either way, session tokens issued before are revoked. */
  async setDisabled(id: string, disabled: boolean, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({
        disabled: disabled ? 1 : 0,
        updated_at: now,
        token_version: eb('token_version', '+', 1),
      }))
      .where('id', '=', id)
      .execute();
  }

  /** Revokes every session token of the user issued so far. */
  async bumpTokenVersion(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('users')
      .set((eb) => ({ updated_at: now, token_version: eb('token_version', '+', 1) }))
      .where('id', '=', id)
      .execute();
  }

  /** A directory login: the role its groups grant now, the DN it resolved to. */
  async updateDirectoryUser(
    id: string,
    change: { role: UserRecord['role']; ldapDn: string; changed: boolean },
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        role: change.role,
        ldap_dn: change.ldapDn,
        last_login_at: now,
        ...(change.changed ? { updated_at: now } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  async touchLogin(id: string, now: number): Promise<void> {
    await this.db.updateTable('users').set({ last_login_at: now }).where('id', '=', id).execute();
  }

  /**
   * Writes every enabled admin's row (to itself) before reading the target: on PostgreSQL those
   * row locks make two admins demoting each other at once take turns, so the second one counts
   * after the first committed and the last admin stays. SQLite runs one writer at a time anyway.
   */
  private async lockAdminsAndRead(
    trx: Transaction<Database>,
    id: string,
  ): Promise<UserRecord | undefined> {
    await trx
      .updateTable('users')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .execute();
    return trx.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  private async otherEnabledAdmins(trx: Transaction<Database>, id: string): Promise<number> {
    const row = await trx
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .where('id', '<>', id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private conditions(eb: Eb, query: UserListQuery): Expression<SqlBool>[] {
    const conditions: Expression<SqlBool>[] = [];
    if (query.role !== undefined) conditions.push(eb('role', '=', query.role));
    if (query.disabled !== undefined) {
      conditions.push(eb('disabled', '=', query.disabled ? 1 : 0));
    }
    if (query.search !== undefined && query.search.length > 0) {
      conditions.push(sql<SqlBool>`lower(username) like ${likeContains(query.search)} escape '\\'`);
    }
    return conditions;
  }
}
