import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { CodexOAuthLoginService } from './codex-oauth-login.service';
import { CodexExchangeDto } from './dto/codex-exchange.dto';
import { CodexLoginResponseDto } from './dto/codex-login.response.dto';

/** The Codex (ChatGPT) login of codex-oauth accounts, for the admin UI and API clients. */
@Controller('admin/api/oauth/codex')
export class CodexOAuthController {
  constructor(private readonly login: CodexOAuthLoginService) {}

  @Roles('admin', 'operator')
  @Post('authorize')
  @HttpCode(200)
  authorize(): Promise<CodexLoginResponseDto> {
    return this.login.authorize();
  }

  @Roles('admin', 'operator')
  @Post('exchange')
  @HttpCode(200)
  exchange(@Body() body: CodexExchangeDto): Promise<AccountResponseDto> {
    return this.login.exchange(body);
  }
}
