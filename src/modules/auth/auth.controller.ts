import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { AdminOnly, Public } from 'src/common/auth/route-access.decorator';
import { AuthService } from './auth.service';
import { LoginRequestDto, LoginResponseDto, SessionUserDto } from './dto/login.dto';
import type { AdminRequest } from './route-access.guard';

@Controller('admin/api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Public()
  @Post('login')
  @HttpCode(200)
  login(@Body() body: LoginRequestDto): Promise<LoginResponseDto> {
    return this.auth.login(body.username, body.password);
  }

  @AdminOnly()
  @Get('me')
  me(@Req() req: AdminRequest): SessionUserDto {
    return req.admin as SessionUserDto;
  }
}
