import { Injectable } from '@nestjs/common';
import { InjectDb } from 'src/infra/database/database.module';
import type { Db, UsersTable } from 'src/infra/database/database.types';

export type UserRecord = UsersTable;

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
}
