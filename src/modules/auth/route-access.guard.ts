import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ROUTE_ACCESS, type RouteAccess } from 'src/common/auth/route-access.decorator';
import { AuthException, AuthExceptionCode } from './auth.exception';
import { AuthService } from './auth.service';
import type { SessionUserDto } from './dto/login.dto';

export interface AdminRequest extends Request {
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
    switch (access) {
      case 'public':
      case 'api-key':
        // API keys are checked by the relay's admission step, which answers in the caller's dialect.
        return true;
      case 'admin': {
        const req = context.switchToHttp().getRequest<AdminRequest>();
        const header = req.headers.authorization;
        if (header === undefined || !header.startsWith('Bearer ')) {
          throw new AuthException(AuthExceptionCode.MISSING_TOKEN, 'admin session token required');
        }
        req.admin = await this.auth.verifyAdmin(header.slice('Bearer '.length));
        return true;
      }
      case undefined:
        throw new AuthException(
          AuthExceptionCode.ROUTE_WITHOUT_ACCESS_RULE,
          'route declares no access rule',
        );
    }
  }
}
