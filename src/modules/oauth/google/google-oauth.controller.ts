import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { GoogleExchangeDto, GoogleImportDto } from './dto/google-exchange.dto';
import { GoogleLoginResponseDto } from './dto/google-login.response.dto';
import { parseGeminiCredsFile } from './gemini-creds-file';
import { GoogleOAuthLoginService } from './google-oauth-login.service';

/** The Google login of gemini-oauth accounts (Code Assist), for the admin UI and API clients. */
@Controller('admin/api/oauth/google')
export class GoogleOAuthController {
  constructor(private readonly login: GoogleOAuthLoginService) {}

  @Roles('admin', 'operator')
  @Post('authorize')
  @HttpCode(200)
  authorize(): Promise<GoogleLoginResponseDto> {
    return this.login.authorize();
  }

  @Roles('admin', 'operator')
  @Post('exchange')
  @HttpCode(200)
  exchange(@Body() body: GoogleExchangeDto): Promise<AccountResponseDto> {
    return this.login.exchange(body);
  }

  /** Adds the login of a Gemini CLI oauth_creds.json (its text in `credentials`). */
  @Roles('admin', 'operator')
  @Post('import')
  @HttpCode(200)
  import(@Body() body: GoogleImportDto): Promise<AccountResponseDto> {
    const { credentials, ...target } = body;
    return this.login.importTokens(parseGeminiCredsFile(credentials), target);
  }
}
