import { IsBoolean, IsOptional } from 'class-validator';

/** Starts a Claude login; `setupToken` asks for Claude Code's long-lived inference-only token. */
export class ClaudeAuthorizeDto {
  /** `claude setup-token`: scope user:inference alone, valid one year, never refreshed. */
  @IsOptional()
  @IsBoolean()
  setupToken?: boolean;
}
