import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { GoogleExchangeInput, GoogleLoginTarget } from '../google-oauth-login.service';

/** Where a login or an imported file goes: a new account, or an existing one (accountId). */
export class GoogleLoginTargetDto implements GoogleLoginTarget {
  /** The new account's name (default `gemini-<project>`). With accountId, a new name for it. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  /** An existing gemini-oauth account (id or name) whose credentials this login replaces. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  accountId?: string;

  /** A new account's proxy (http://, https:// or socks5://): the login's calls use it too. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proxy?: string;

  /** The Google Cloud project to use (Gemini CLI's GOOGLE_CLOUD_PROJECT); found when omitted. */
  @IsOptional()
  @IsString()
  @MaxLength(128)
  projectId?: string;
}

/** Finishes a Google login: its state with the code Google showed, or the whole callback URL. */
export class GoogleExchangeDto extends GoogleLoginTargetDto implements GoogleExchangeInput {
  @IsString()
  @MaxLength(256)
  state!: string;

  @IsOptional()
  @IsString()
  @MaxLength(4096)
  code?: string;

  /** `https://codeassist.google.com/authcode?code=…&state=…`, as the address bar shows it. */
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  callbackUrl?: string;
}

/** Gemini CLI's oauth_creds.json (its parsed content), to add as a gemini-oauth account. */
export class GoogleImportDto extends GoogleLoginTargetDto {
  @IsString()
  @MaxLength(65536)
  credentials!: string;
}
