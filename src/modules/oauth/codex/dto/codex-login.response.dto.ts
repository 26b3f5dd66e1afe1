/** A started Codex login: open authorizeUrl, sign in, then finish it with its state. */
export class CodexLoginResponseDto {
  /** The sign-in page at auth.openai.com, with this login's PKCE challenge and state. */
  authorizeUrl!: string;
  /** Send it back with the code (POST …/exchange); also the callback URL's `state`. */
  state!: string;
  /** Where the browser lands after signing in (nothing listens there: copy that URL). */
  redirectUri!: string;
  /** ISO 8601: the login must be finished before then. */
  expiresAt!: string;
}
