import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { OAuthExchangeInput, OAuthLoginTarget } from '../oauth-login-flow';

/**
 * Where a login (or an imported credentials file) goes, for every OAuth family: a new account
 * (`name`, `proxy`), or an existing one of the family (`accountId`) whose credentials it replaces.
 */
export class OAuthLoginTargetDto implements OAuthLoginTarget {
  /** The new account's name (the family's default when omitted). With accountId, a new name. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  /** An existing account of the family (id or name) whose credentials this login replaces. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  accountId?: string;

  /** A new account's proxy (http://, https:// or socks5://): the login's calls use it too. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proxy?: string;
}

/** Finishes a login: its state with the code, or with the whole URL the browser landed on. */
export class OAuthExchangeDto extends OAuthLoginTargetDto implements OAuthExchangeInput {
  @IsString()
  @MaxLength(256)
  state!: string;

  /** The authorization code (the callback URL's `code` parameter, or the code the page showed). */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  code?: string;

  /** The whole URL the browser landed on, as its address bar shows it. */
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  callbackUrl?: string;
}
