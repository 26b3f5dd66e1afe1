import type { ClaudeLoginVariant } from '../claude-oauth.protocol';

/** A started Claude login: open authorizeUrl, sign in, then finish it with its state. */
export class ClaudeLoginResponseDto {
  /** The sign-in page, with this login's PKCE challenge, Claude Code's client, scopes and state. */
  authorizeUrl!: string;
  /** Send it back with the code (POST …/exchange); also the `state` half of `code#state`. */
  state!: string;
  /** Where the browser lands after signing in: the page that shows `code#state`. */
  redirectUri!: string;
  /** ISO 8601: the login must be finished before then. */
  expiresAt!: string;
  /** `login` (refreshable subscription login) or `setup-token` (one year, never refreshed). */
  variant!: ClaudeLoginVariant;
  /** The scopes the sign-in asks for. */
  scopes!: string[];
}
