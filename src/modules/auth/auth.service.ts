import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isRole } from 'src/common/auth/route-access.decorator';
import { appLogger } from 'src/common/logging/app-logger';
import { UsersService, type UserRecord } from 'src/modules/users/users.service';
import { adminErrorOutcome } from 'src/common/http/admin-exception.filter';
import { currentRequestId } from 'src/common/logging/request-context';
import { AuditRecorder } from 'src/modules/audit/audit-recorder.service';
import { ANONYMOUS_ACTOR, AUDIT_SUCCESS, AUTH_ACTIONS } from 'src/modules/audit/audit.types';
import { AuthException, AuthExceptionCode } from './auth.exception';
import type { LoginResponseDto, SessionUserDto } from './dto/login.dto';
import { LdapDirectory } from './ldap-directory';
import { LoginThrottle } from './login-throttle';

/** The users table's limit. */
const MAX_USERNAME_LENGTH = 64;

interface SessionClaims {
  sub: string;
  username: string;
  role: string;
  /** The user's token version at login; logout, password reset and disable bump it. */
  ver: number;
  exp?: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly jwt: JwtService,
    private readonly throttle: LoginThrottle,
    private readonly directory: LdapDirectory,
    private readonly audit: AuditRecorder,
  ) {}

  /**
   * Checks the password (throttled per username and source address) and issues a session. A local
   * user with that username is checked locally; anyone else, when LDAP is configured, by the
   * directory (see authenticateWithDirectory).
   * Every attempt leaves one audit row: `auth.login`, `auth.lockout` (refused by the throttle
   * without a check) or `auth.login_failed` (wrong password, too many checks at once, a broken
   * check), with the username typed as the target and never the password.
   */
  async login(username: string, password: string, address: string): Promise<LoginResponseDto> {
    const requestId = currentRequestId() ?? null;
    try {
      const session = await this.checkLogin(username, password, address);
      this.audit.record({
        actor: session.user.username,
        actorId: session.user.id,
        actorRole: session.user.role,
        source: address,
        action: AUTH_ACTIONS.login,
        targetType: 'users',
        targetId: session.user.id,
        outcome: AUDIT_SUCCESS,
        status: 200,
        requestId,
      });
      return session;
    } catch (error) {
      const { status, code } = adminErrorOutcome(error);
      this.audit.record({
        actor: ANONYMOUS_ACTOR,
        source: address,
        action:
          code === (AuthExceptionCode.LOGIN_THROTTLED as string)
            ? AUTH_ACTIONS.lockout
            : AUTH_ACTIONS.loginFailed,
        targetType: 'users',
        targetId: username,
        outcome: code,
        status,
        requestId,
      });
      throw error;
    }
  }

  private async checkLogin(
    username: string,
    password: string,
    address: string,
  ): Promise<LoginResponseDto> {
    const attempt = await this.throttle.begin(username, address);
    let user: UserRecord | undefined;
    try {
      user = await this.authenticate(username, password);
    } catch (error) {
      await attempt.abandoned();
      throw error;
    }
    if (user === undefined) {
      await attempt.failed();
      throw new AuthException(
        AuthExceptionCode.INVALID_CREDENTIALS,
        'invalid username or password',
      );
    }
    await attempt.succeeded();
    const token = await this.jwt.signAsync({
      sub: user.id,
      username: user.username,
      role: user.role,
      ver: Number(user.token_version),
    } satisfies SessionClaims);
    const { exp } = this.jwt.decode<SessionClaims>(token);
    return {
      token,
      expiresAt: new Date((exp ?? 0) * 1000).toISOString(),
      user: { id: user.id, username: user.username, role: user.role },
    };
  }

  /** The user these credentials log in, or undefined when they are refused. */
  private async authenticate(username: string, password: string): Promise<UserRecord | undefined> {
    const known = await this.users.findByUsername(username);
    if (known?.auth_source === 'ldap' || (known === undefined && this.directory.enabled)) {
      return this.authenticateWithDirectory(username, password, known);
    }
    // Local users, and unknown ones when there is no directory (same bcrypt work either way).
    return this.users.verifyPassword(username, password);
  }

  /**
   * The directory decides: the user must exist there, bind with the password and sit in a group of
   * LDAP_ROLE_MAP (or LDAP_DEFAULT_ROLE be set). The first login creates the Switchyard user; each
   * login sets their role from their groups now. A directory user who is gone from the directory
   * or from every mapped group has their open sessions revoked by the attempt that finds it out.
   * Refusals look like a wrong password to the caller (no oracle for directory passwords); the log
   * says why.
   */
  private async authenticateWithDirectory(
    login: string,
    password: string,
    known: UserRecord | undefined,
  ): Promise<UserRecord | undefined> {
    if (!this.directory.enabled) {
      appLogger.warn({ username: login }, 'LDAP login refused: LDAP_URL is not set');
      return undefined;
    }
    const check = await this.directory.check(login, password);
    if (check.outcome === 'wrong-password') return undefined;
    if (check.outcome === 'unknown-user') {
      await this.revokeDirectoryUser(known, 'the directory has no such user');
      return undefined;
    }
    if (check.role === undefined) {
      const user = known ?? (await this.users.findByUsername(check.username));
      await this.revokeDirectoryUser(user, 'the user is in no group of LDAP_ROLE_MAP');
      appLogger.warn(
        { username: check.username, groups: check.groups.map((group) => group.dn) },
        'LDAP login refused: the user is in no group of LDAP_ROLE_MAP and LDAP_DEFAULT_ROLE is empty',
      );
      return undefined;
    }
    if (check.username.length > MAX_USERNAME_LENGTH) {
      appLogger.warn(
        { dn: check.dn },
        `LDAP login refused: the username is longer than ${MAX_USERNAME_LENGTH} characters`,
      );
      return undefined;
    }
    const synced = await this.users.syncDirectoryUser({
      username: check.username,
      dn: check.dn,
      role: check.role,
    });
    switch (synced.outcome) {
      case 'local-user-exists':
        appLogger.warn(
          { username: check.username, dn: check.dn },
          'LDAP login refused: a local user has this username',
        );
        return undefined;
      case 'disabled':
        return undefined;
      case 'created':
        appLogger.info(
          { username: check.username, dn: check.dn, role: check.role },
          'LDAP user created by their first login',
        );
        return synced.user;
      case 'updated':
        return synced.user;
    }
  }

  private async revokeDirectoryUser(user: UserRecord | undefined, reason: string): Promise<void> {
    if (user?.auth_source !== 'ldap') return;
    await this.users.revokeSessions(user.id);
    appLogger.warn(
      { username: user.username, reason },
      "LDAP login refused; the user's open sessions are revoked",
    );
  }

  /** Revokes every session token of the user, on every instance (an `auth.logout` row). */
  async logout(user: SessionUserDto, address: string): Promise<void> {
    await this.users.revokeSessions(user.id);
    this.audit.record({
      actor: user.username,
      actorId: user.id,
      actorRole: user.role,
      source: address,
      action: AUTH_ACTIONS.logout,
      targetType: 'users',
      targetId: user.id,
      outcome: AUDIT_SUCCESS,
      status: 204,
      requestId: currentRequestId() ?? null,
    });
  }

  /**
   * Verifies a session token against the user as it is now (briefly cached): a token issued
   * before a logout, password reset or disable, or of a deleted or disabled user, is refused.
   * Returns the user with their current role (a role change applies at once); throws AuthException when it is not valid.
   */
  async verifySession(token: string): Promise<SessionUserDto> {
    let claims: SessionClaims;
    try {
      claims = await this.jwt.verifyAsync<SessionClaims>(token);
    } catch {
      throw new AuthException(
        AuthExceptionCode.INVALID_TOKEN,
        'session token is invalid or expired',
      );
    }
    const state = typeof claims.sub === 'string' ? await this.users.sessionState(claims.sub) : null;
    // Tokens without a version predate revocable sessions: they cannot be revoked, so refused.
    if (state === null || state.disabled || state.tokenVersion !== claims.ver) {
      throw new AuthException(
        AuthExceptionCode.INVALID_TOKEN,
        'session has been revoked; log in again',
      );
    }
    if (!isRole(state.role)) {
      throw new AuthException(AuthExceptionCode.FORBIDDEN, 'the user has no known role');
    }
    return { id: state.id, username: state.username, role: state.role };
  }
}
