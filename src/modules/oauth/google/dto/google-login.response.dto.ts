/** A started Google login: open authorizeUrl, sign in, then finish it with its state. */
export class GoogleLoginResponseDto {
  /** Google's sign-in page, with this login's PKCE challenge, Gemini CLI's scopes and state. */
  authorizeUrl!: string;
  /** Send it back with the code (POST …/exchange). */
  state!: string;
  /** Where Google shows the code after signing in. */
  redirectUri!: string;
  /** ISO 8601: the login must be finished before then. */
  expiresAt!: string;
}
