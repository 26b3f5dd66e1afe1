import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { Public, Roles } from 'src/common/auth/route-access.decorator';
import { NotAudited } from 'src/modules/audit/audit.decorators';
import { AuthService } from './auth.service';
import { LoginRequestDto, LoginResponseDto, SessionUserDto } from './dto/login.dto';
import type { AdminRequest } from './route-access.guard';

@Controller('admin/api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginRequestDto, @Req() req: Request): Promise<LoginResponseDto> {
    // The TCP peer: a client cannot choose it, as it could an X-Forwarded-For header.
    return this.auth.login(body.username, body.password, req.socket.remoteAddress ?? 'unknown');
  }

  @Roles('admin', 'operator', 'viewer', 'user')
  @Get('me')
  me(@Req() req: AdminRequest): SessionUserDto {
    return req.admin as SessionUserDto;
  }

  /** Ends every session of the caller (all their tokens, on every instance). */
  @Roles('admin', 'operator', 'viewer', 'user')
  // AuthService records `auth.logout` itself, as it does the login events.
  @NotAudited()
  @Post('logout')
  @HttpCode(204)
  logout(@Req() req: AdminRequest): Promise<void> {
    return this.auth.logout(req.admin as SessionUserDto, req.socket.remoteAddress ?? 'unknown');
  }
}
