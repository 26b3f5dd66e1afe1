import { Injectable } from '@nestjs/common';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Role } from 'src/common/auth/route-access.decorator';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import type {
  CreateUserRequestDto,
  ListUsersQueryDto,
  UpdateUserRequestDto,
  UserCapsDto,
  UserListResponseDto,
  UserResponseDto,
  UserWithPasswordResponseDto,
} from './dto/user.dto';
import { PasswordHasher } from './password-hasher';
import {
  assertCapsConsistent,
  DEFAULT_USER_CAPS,
  parseCaps,
  type CapLimits,
  type UserCaps,
} from './user-caps';
import { UserSessionStateCache, type UserSessionState } from './user-session-state.cache';
import { UsersException, UsersExceptionCode } from './users.exception';
import { UsersRepository, type UserPatch, type UserRecord } from './users.repository';

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
    private readonly keys: ApiKeysService,
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
        caps: null,
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
    caps: UserCaps = DEFAULT_USER_CAPS,
  ): Promise<{ user: UserRecord; password: string }> {
    assertCapsConsistent(caps);
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
      caps: JSON.stringify(caps),
      auth_source: 'local',
      ldap_dn: null,
    };
    try {
      await this.users.insert(user);
    } catch (error) {
      if ((await this.users.findByUsername(username)) !== undefined) throw usernameTaken(username);
      throw error;
    }
    return { user, password: secret };
  }

  async list(query: ListUsersQueryDto): Promise<UserListResponseDto> {
    const { rows, total } = await this.users.list({
      page: query.page,
      pageSize: query.pageSize,
      search: query.search,
      role: query.role,
      disabled: query.disabled,
      sortBy: query.sortBy,
      sortOrder: query.sortOrder,
    });
    return { items: rows.map(toUserResponse), total, page: query.page, pageSize: query.pageSize };
  }

  async get(id: string): Promise<UserResponseDto> {
    return toUserResponse(await this.find(id));
  }

  /** A local user; the password is generated and returned once when omitted. */
  async create(input: CreateUserRequestDto): Promise<UserWithPasswordResponseDto> {
    if ((await this.users.findByUsername(input.username)) !== undefined) {
      throw usernameTaken(input.username);
    }
    const caps = mergeCaps(DEFAULT_USER_CAPS, input.caps);
    const { user, password } = await this.createLocalUser(
      input.username,
      input.role,
      input.password,
      caps,
    );
    return withPassword(user, input.password === undefined ? password : undefined);
  }

  /**
   * Role, disabled and caps. A role change applies to the user's next request; disabling ends
   * their sessions and stops their keys on every instance at once (enabling brings back the
   * keys that were enabled). The last enabled admin cannot be demoted or disabled.
   */
  async update(id: string, input: UpdateUserRequestDto): Promise<UserResponseDto> {
    const current = await this.find(id);
    const patch: UserPatch = { role: input.role, disabled: input.disabled };
    if (input.caps !== undefined) {
      const caps = mergeCaps(parseCaps(current.caps, id), input.caps);
      assertCapsConsistent(caps);
      patch.caps = JSON.stringify(caps);
    }
    const updated = this.accepted(id, await this.users.update(id, patch, Date.now()));
    if (updated.role !== current.role || updated.disabled !== current.disabled) {
      await this.sessions.changed(id);
    }
    if (updated.disabled !== current.disabled)
      await this.keys.invalidate(await this.keys.idsOfUser(id));
    return toUserResponse(updated);
  }

  /**
   * Deletes the user: their sessions end, and their keys are disabled and detached (kept as
   * ordinary disabled keys an admin may inspect or re-enable). Not the last enabled admin.
   */
  async remove(id: string): Promise<void> {
    const detached = this.accepted(id, await this.users.remove(id, Date.now()));
    await this.sessions.changed(id);
    await this.keys.invalidate(detached);
  }

  /** A new password (generated and returned once when omitted); the user's sessions end. */
  async resetPasswordOf(id: string, password?: string): Promise<UserWithPasswordResponseDto> {
    await this.find(id);
    const next = password ?? generatePassword();
    await this.users.setPasswordHash(id, await this.hasher.hash(next), Date.now());
    await this.sessions.changed(id);
    return withPassword(await this.find(id), password === undefined ? next : undefined);
  }

  /** The caps the user's own keys must fit. */
  async capsOf(id: string): Promise<UserCaps> {
    return parseCaps((await this.find(id)).caps, id);
  }

  async findByUsername(username: string): Promise<UserRecord | undefined> {
    return this.users.findByUsername(username);
  }

  private async find(id: string): Promise<UserRecord> {
    const user = await this.users.findById(id);
    if (user === undefined) throw UsersException.notFound(id);
    return user;
  }

  private accepted<T>(id: string, result: T | 'not-found' | 'last-admin'): T {
    if (result === 'not-found') throw UsersException.notFound(id);
    if (result === 'last-admin') {
      throw new UsersException(
        UsersExceptionCode.LAST_ADMIN,
        'this is the last enabled admin: make another user an admin first',
      );
    }
    return result;
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
        caps: null,
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

  /**
   * Disables (or enables) a user by name, without the last-admin guard (a break-glass path; the
   * admin API and the CLI go through `update`). Their session tokens stop working at once either
   * way, and so do their keys while disabled.
   */
  async setDisabled(username: string, disabled: boolean): Promise<boolean> {
    const user = await this.users.findByUsername(username);
    if (user === undefined) return false;
    await this.users.setDisabled(user.id, disabled, Date.now());
    await this.sessions.changed(user.id);
    await this.keys.invalidate(await this.keys.idsOfUser(user.id));
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
        caps: null,
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

function usernameTaken(username: string): UsersException {
  return new UsersException(
    UsersExceptionCode.USERNAME_TAKEN,
    `a user named ${JSON.stringify(username)} already exists`,
  );
}

/** Caps after an admin's change: absent fields keep their value, a null limit removes it. */
export function mergeCaps(current: UserCaps, change: UserCapsDto | undefined): UserCaps {
  if (change === undefined) return { ...current, limits: { ...current.limits } };
  const limits: CapLimits = { ...current.limits };
  for (const [field, value] of Object.entries(change.limits ?? {}) as [
    keyof CapLimits,
    unknown,
  ][]) {
    if (value === null) delete limits[field];
    else if (typeof value === 'number') limits[field] = value;
  }
  return {
    maxKeys: change.maxKeys ?? current.maxKeys,
    limits,
    models:
      change.models === undefined ? current.models : change.models && [...new Set(change.models)],
    platforms:
      change.platforms === undefined
        ? current.platforms
        : change.platforms && [...new Set(change.platforms)],
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(Number(ms)).toISOString();
}

export function toUserResponse(user: UserRecord): UserResponseDto {
  const caps = parseCaps(user.caps, user.id);
  return {
    id: user.id,
    username: user.username,
    role: user.role,
    disabled: Number(user.disabled) === 1,
    authSource: user.auth_source,
    caps: { ...caps, limits: { ...caps.limits } },
    createdAt: iso(user.created_at) as string,
    updatedAt: iso(user.updated_at) as string,
    lastLoginAt: iso(user.last_login_at),
  };
}

function withPassword(
  user: UserRecord,
  generatedPassword: string | undefined,
): UserWithPasswordResponseDto {
  const response: UserWithPasswordResponseDto = toUserResponse(user);
  if (generatedPassword !== undefined) response.generatedPassword = generatedPassword;
  return response;
}

export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
