import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { UsersService } from 'src/modules/users/users.service';
import { AuthException, AuthExceptionCode } from './auth.exception';
import type { LoginResponseDto, SessionUserDto } from './dto/login.dto';

interface SessionClaims {
  sub: string;
  username: string;
  role: string;
  exp?: number;
}

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly jwt: JwtService,
  ) {}

  async login(username: string, password: string): Promise<LoginResponseDto> {
    const user = await this.users.verifyPassword(username, password);
    if (user === undefined) {
      throw new AuthException(
        AuthExceptionCode.INVALID_CREDENTIALS,
        'invalid username or password',
      );
    }
    const token = await this.jwt.signAsync({
      sub: user.id,
      username: user.username,
      role: user.role,
    } satisfies SessionClaims);
    const { exp } = this.jwt.decode<SessionClaims>(token);
    return {
      token,
      expiresAt: new Date((exp ?? 0) * 1000).toISOString(),
      user: { id: user.id, username: user.username, role: user.role },
    };
  }

  /** Verifies an admin session token; throws AuthException when it is not valid. */
  async verifyAdmin(token: string): Promise<SessionUserDto> {
    let claims: SessionClaims;
    try {
      claims = await this.jwt.verifyAsync<SessionClaims>(token);
    } catch {
      throw new AuthException(
        AuthExceptionCode.INVALID_TOKEN,
        'session token is invalid or expired',
      );
    }
    if (claims.role !== 'admin') {
      throw new AuthException(AuthExceptionCode.FORBIDDEN, 'admin role required');
    }
    return { id: claims.sub, username: claims.username, role: claims.role };
  }
}
