import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isRole } from 'src/common/auth/route-access.decorator';
import { adminErrorOutcome } from 'src/common/http/admin-exception.filter';
import { currentRequestId } from 'src/common/logging/request-context';
import { AuditRecorder } from 'src/modules/audit/audit-recorder.service';
import { ANONYMOUS_ACTOR, AUDIT_SUCCESS, AUTH_ACTIONS } from 'src/modules/audit/audit.types';
import { UsersService } from 'src/modules/users/users.service';
import { AuthException, AuthExceptionCode } from './auth.exception';
import type { LoginResponseDto, SessionUserDto } from './dto/login.dto';
import { LoginThrottle } from './login-throttle';

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
    private readonly audit: AuditRecorder,
  ) {}

  /**
   * Checks the password (throttled per username and source address) and issues a session.
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
    let user;
    try {
      user = await this.users.verifyPassword(username, password);
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
