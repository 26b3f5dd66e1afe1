import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from 'src/common/auth/route-access.decorator';
import { PasswordHasher } from './password-hasher';
import { UserSessionStateCache, type UserSessionState } from './user-session-state.cache';
import { UsersRepository, type UserRecord } from './users.repository';

export type { UserSessionState } from './user-session-state.cache';
export type { UserRecord } from './users.repository';

/**
 * The password hash of directory users: not a bcrypt hash, so no password compares equal to it
 * should a directory user ever reach a local check.
 */
const NO_LOCAL_PASSWORD = '!ldap';

export type DirectoryUserSync =
  | { outcome: 'created' | 'updated'; user: UserRecord }
  | { outcome: 'local-user-exists' | 'disabled' };

export interface CreatedAdmin {
  username: string;
  /** Present only when the password was generated and must be shown once. */
  generatedPassword?: string;
}

@Injectable()
export class UsersService {
  /** Compared against when the user does not exist, so timing does not reveal valid usernames. */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly sessions: UserSessionStateCache,
  ) {}

  /** On an empty database, creates the first admin; returns undefined when users already exist. */
  async bootstrapAdmin(username: string, password?: string): Promise<CreatedAdmin | undefined> {
    if ((await this.users.count()) > 0) return undefined;
    const generated = password === undefined ? generatePassword() : undefined;
    const now = Date.now();
    try {
      await this.users.insert({
        id: randomUUID(),
        username,
        password_hash: await this.hasher.hash(password ?? generated ?? ''),
        role: 'admin',
        disabled: 0,
        created_at: now,
        updated_at: now,
        last_login_at: null,
        token_version: 0,
        auth_source: 'local',
        ldap_dn: null,
      });
    } catch (error) {
      // Replicas starting together on an empty database race here; the loser finds a user.
      if ((await this.users.count()) > 0) return undefined;
      throw error;
    }
    return { username, generatedPassword: generated };
  }

  /** Creates a local user with this role; the password is generated (and returned) when omitted. */
  async createLocalUser(
    username: string,
    role: Role,
    password?: string,
  ): Promise<{ user: UserRecord; password: string }> {
    const secret = password ?? generatePassword();
    const now = Date.now();
    const user: UserRecord = {
      id: randomUUID(),
      username,
      password_hash: await this.hasher.hash(secret),
      role,
      disabled: 0,
      created_at: now,
      updated_at: now,
      last_login_at: null,
      token_version: 0,
      auth_source: 'local',
      ldap_dn: null,
    };
    await this.users.insert(user);
    return { user, password: secret };
  }

  /**
   * Returns the user when the password matches and the user is enabled; the same bcrypt work
   * whether or not the user exists.
   */
  async verifyPassword(username: string, password: string): Promise<UserRecord | undefined> {
    const found = await this.users.findByUsername(username);
    // Directory users have no local password: the same work as an unknown user, then refused.
    const user = found?.auth_source === 'local' ? found : undefined;
    const hash = user?.password_hash ?? (await this.dummy());
    const ok = await this.hasher.compare(password, hash);
    if (!ok || user === undefined || user.disabled === 1) return undefined;
    await this.users.touchLogin(user.id, Date.now());
    return user;
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    return this.users.findByUsername(username);
  }

  /**
   * After the directory accepted a login: creates the directory user on their first login, or
   * brings their role and DN up to date (a role change applies to their open sessions at once).
   * Refused when a local user holds the username or the user is disabled here.
   */
  async syncDirectoryUser(entry: {
    username: string;
    dn: string;
    role: Role;
  }): Promise<DirectoryUserSync> {
    const now = Date.now();
    let user = await this.users.findByUsername(entry.username);
    if (user === undefined) {
      const created: UserRecord = {
        id: randomUUID(),
        username: entry.username,
        password_hash: NO_LOCAL_PASSWORD,
        role: entry.role,
        disabled: 0,
        created_at: now,
        updated_at: now,
        last_login_at: now,
        token_version: 0,
        auth_source: 'ldap',
        ldap_dn: entry.dn,
      };
      try {
        await this.users.insert(created);
        return { outcome: 'created', user: created };
      } catch (error) {
        // Two first logins of one user at once: the loser finds the winner's row.
        user = await this.users.findByUsername(entry.username);
        if (user === undefined) throw error;
      }
    }
    if (user.auth_source !== 'ldap') return { outcome: 'local-user-exists' };
    if (user.disabled === 1) return { outcome: 'disabled' };
    const roleChanged = user.role !== entry.role;
    await this.users.updateDirectoryUser(
      user.id,
      { role: entry.role, ldapDn: entry.dn, changed: roleChanged || user.ldap_dn !== entry.dn },
      now,
    );
    if (roleChanged) await this.sessions.changed(user.id);
    return { outcome: 'updated', user: { ...user, role: entry.role, ldap_dn: entry.dn } };
  }

  async findById(id: string): Promise<UserRecord | undefined> {
    return this.users.findById(id);
  }

  /** Token version, disabled flag and role of a user, as admin sessions are checked against. */
  sessionState(id: string): Promise<UserSessionState | null> {
    return this.sessions.get(id);
  }

  /** Revokes every session token of the user (logout). */
  async revokeSessions(id: string): Promise<void> {
    await this.users.bumpTokenVersion(id, Date.now());
    await this.sessions.changed(id);
  }

  /** Disables (or enables) a user; their session tokens stop working at once either way. */
  async setDisabled(username: string, disabled: boolean): Promise<boolean> {
    const user = await this.users.findByUsername(username);
    if (user === undefined) return false;
    await this.users.setDisabled(user.id, disabled, Date.now());
    await this.sessions.changed(user.id);
    return true;
  }

  /**
   * Sets a new password (generated when omitted) and revokes the user's session tokens; creates
   * the admin when it does not exist. A directory user becomes a local one (the way back in when
   * the directory is down): they then log in with this password, and the directory no longer
   * decides their role.
   */
  async resetPassword(username: string, password?: string): Promise<string> {
    const next = password ?? generatePassword();
    const hash = await this.hasher.hash(next);
    const user = await this.users.findByUsername(username);
    const now = Date.now();
    if (user === undefined) {
      await this.users.insert({
        id: randomUUID(),
        username,
        password_hash: hash,
        role: 'admin',
        disabled: 0,
        created_at: now,
        updated_at: now,
        last_login_at: null,
        token_version: 0,
        auth_source: 'local',
        ldap_dn: null,
      });
    } else {
      await this.users.setPasswordHash(user.id, hash, now);
      await this.sessions.changed(user.id);
    }
    return next;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(randomBytes(16).toString('hex')).catch((error: unknown) => {
      this.dummyHash = undefined;
      throw error;
    });
    return this.dummyHash;
  }
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
