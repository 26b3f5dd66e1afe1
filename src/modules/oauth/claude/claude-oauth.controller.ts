import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { ClaudeOAuthLoginService } from './claude-oauth-login.service';
import { ClaudeAuthorizeDto } from './dto/claude-authorize.dto';
import { ClaudeExchangeDto } from './dto/claude-exchange.dto';
import { ClaudeLoginResponseDto } from './dto/claude-login.response.dto';

/** The Claude login of claude-oauth accounts (and setup tokens), for the admin UI and API. */
@Controller('admin/api/oauth/claude')
export class ClaudeOAuthController {
  constructor(private readonly login: ClaudeOAuthLoginService) {}

  @Roles('admin', 'operator')
  @Post('authorize')
  @HttpCode(200)
  authorize(@Body() body: ClaudeAuthorizeDto): Promise<ClaudeLoginResponseDto> {
    return this.login.authorize(body);
  }

  @Roles('admin', 'operator')
  @Post('exchange')
  @HttpCode(200)
  exchange(@Body() body: ClaudeExchangeDto): Promise<AccountResponseDto> {
    return this.login.exchange(body);
  }
}
