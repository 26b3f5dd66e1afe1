import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ROUTE_ACCESS, type RouteAccess } from 'src/common/auth/route-access.decorator';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { AuthService } from './auth.service';
import type { SessionUserDto } from './dto/login.dto';

export interface AdminRequest extends Request {
  /** The signed-in user, set by the guard on every route that declares roles. */
  admin?: SessionUserDto;
}

/** Global guard: enforces the access rule each route declares, and refuses undeclared routes. */
@Injectable()
export class RouteAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly auth: AuthService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access = this.reflector.getAllAndOverride<RouteAccess | undefined>(ROUTE_ACCESS, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (access === 'public' || access === 'api-key') {
      // API keys are checked by the relay's admission step, which answers in the caller's dialect.
      return true;
    }
    if (access === undefined) {
      throw new AuthException(
        AuthExceptionCode.ROUTE_WITHOUT_ACCESS_RULE,
        'route declares no access rule',
      );
    }
    const req = context.switchToHttp().getRequest<AdminRequest>();
    const header = req.headers.authorization;
    if (header === undefined || !header.startsWith('Bearer ')) {
      throw new AuthException(AuthExceptionCode.MISSING_TOKEN, 'session token required');
    }
    const user = await this.auth.verifySession(header.slice('Bearer '.length));
    if (!(access as readonly string[]).includes(user.role)) {
      throw new AuthException(
        AuthExceptionCode.FORBIDDEN,
        `the ${user.role} role may not do this; it needs one of: ${access.join(', ')}`,
      );
    }
    req.admin = user;
    return true;
  }
}
