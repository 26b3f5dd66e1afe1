import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { isRole } from 'src/common/auth/route-access.decorator';
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
  ) {}

  /** Checks the password (throttled per username and source address) and issues a session. */
  async login(username: string, password: string, address: string): Promise<LoginResponseDto> {
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

  /** Revokes every session token of the user, on every instance. */
  async logout(userId: string): Promise<void> {
    await this.users.revokeSessions(userId);
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
