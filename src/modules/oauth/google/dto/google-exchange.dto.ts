import { IsOptional, IsString, MaxLength } from 'class-validator';
import { OAuthExchangeDto, OAuthLoginTargetDto } from '../../dto/oauth-login.dto';
import type { GoogleExchangeInput, GoogleLoginTarget } from '../google-oauth-login.service';

/** Where a login or an imported file goes (a new account's name defaults to `gemini-<project>`). */
export class GoogleLoginTargetDto extends OAuthLoginTargetDto implements GoogleLoginTarget {
  /** The Google Cloud project to use (Gemini CLI's GOOGLE_CLOUD_PROJECT); found when omitted. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  projectId?: string;
}

/**
 * Finishes a Google login: its state with the code Google showed, or the whole callback URL
 * (`https://codeassist.google.com/authcode?code=…&state=…`).
 */
export class GoogleExchangeDto extends OAuthExchangeDto implements GoogleExchangeInput {
  /** The Google Cloud project to use (Gemini CLI's GOOGLE_CLOUD_PROJECT); found when omitted. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  projectId?: string;
}

/** Gemini CLI's oauth_creds.json (its parsed content), to add as a gemini-oauth account. */
export class GoogleImportDto extends GoogleLoginTargetDto {
  @IsString()
  @MaxLength(65536)
  credentials!: string;
}
