import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { CodexExchangeInput } from '../codex-oauth-login.service';

/**
 * Finishes a Codex login: its state with the code, or with the whole URL the browser landed on.
 * Creates a codex-oauth account (`name`, `proxy`), or replaces the credentials of `accountId`.
 */
export class CodexExchangeDto implements CodexExchangeInput {
  @IsString()
  @MaxLength(256)
  state!: string;

  /** The callback URL's `code` parameter. */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  code?: string;

  /** `http://localhost:1455/auth/callback?code=…&state=…`, as the browser's address bar shows it. */
  @IsOptional()
  @IsString()
  @MaxLength(8192)
  callbackUrl?: string;

  /** The new account's name (default: the login's email). With accountId, a new name for it. */
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(128)
  @Matches(/\S/, { message: 'name must not be blank' })
  name?: string;

  /** An existing codex-oauth account (id or name) whose credentials this login replaces. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  accountId?: string;

  /** A new account's proxy (http://, https:// or socks5://): the exchange goes through it too. */
  @IsOptional()
  @IsString()
  @MaxLength(2048)
  proxy?: string;
}
