import { GoogleOAuthException, GoogleOAuthExceptionCode } from './google-oauth.exception';
import type { GoogleTokens } from './google-token.client';

/**
 * Gemini CLI's `~/.gemini/oauth_creds.json`, as it caches google-auth-library's Credentials
 * (oauth2.ts cacheCredentials): `{ access_token, refresh_token, scope, token_type, id_token?,
 * expiry_date }` (epoch ms).
 */
function invalid(message: string): GoogleOAuthException {
  return new GoogleOAuthException(GoogleOAuthExceptionCode.INVALID_CREDENTIALS_FILE, message);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The login in an oauth_creds.json (its text or parsed object); a clear error when none. */
export function parseGeminiCredsFile(content: string | Record<string, unknown>): GoogleTokens {
  let parsed: unknown = content;
  if (typeof content === 'string') {
    try {
      parsed = JSON.parse(content);
    } catch {
      throw invalid('the credentials file is not JSON');
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('the credentials file is not a JSON object');
  }
  const file = parsed as Record<string, unknown>;
  if (typeof file.type === 'string' && file.type !== 'authorized_user') {
    throw invalid(
      `the credentials file holds ${file.type} credentials, not a Google login: sign in to Gemini CLI with Google first`,
    );
  }
  const accessToken = text(file.access_token);
  const refreshToken = text(file.refresh_token);
  if (accessToken === undefined && refreshToken === undefined) {
    throw invalid('the credentials file has neither access_token nor refresh_token');
  }
  // Only a refresh token (an ADC authorized_user file): the refresher fetches an access token.
  const tokens: GoogleTokens = { accessToken: accessToken ?? '' };
  if (refreshToken !== undefined) tokens.refreshToken = refreshToken;
  if (typeof file.expiry_date === 'number' && Number.isFinite(file.expiry_date)) {
    tokens.expiresAt = file.expiry_date;
  }
  const scope = text(file.scope);
  if (scope !== undefined) tokens.scope = scope;
  return tokens;
}
