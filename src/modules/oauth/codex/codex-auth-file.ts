import { CodexOAuthException, CodexOAuthExceptionCode } from './codex-oauth.exception';
import type { CodexTokens } from './codex-oauth.tokens';

/**
 * Codex CLI's `$CODEX_HOME/auth.json` (default `~/.codex/auth.json`), as codex-rs writes it
 * (login/src/auth/storage.rs AuthDotJson, token_data.rs TokenData):
 * `{ auth_mode?, OPENAI_API_KEY, tokens?: { id_token, access_token, refresh_token, account_id },
 * last_refresh? }`. The id_token is stored as the raw JWT.
 */
export interface CodexAuthFile {
  auth_mode?: unknown;
  OPENAI_API_KEY?: unknown;
  tokens?: {
    id_token?: unknown;
    access_token?: unknown;
    refresh_token?: unknown;
    account_id?: unknown;
  } | null;
  last_refresh?: unknown;
}

function invalid(message: string): CodexOAuthException {
  return new CodexOAuthException(CodexOAuthExceptionCode.INVALID_AUTH_FILE, message);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** The ChatGPT login in an auth.json's text; a clear error when it holds none. */
export function parseCodexAuthFile(content: string): CodexTokens {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    throw invalid('the auth file is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalid('the auth file is not a JSON object');
  }
  const file = parsed as CodexAuthFile;
  const tokens = file.tokens;
  if (typeof tokens !== 'object' || tokens === null) {
    throw invalid(
      text(file.OPENAI_API_KEY) !== undefined
        ? 'the auth file holds an OpenAI API key, not a ChatGPT login: sign in to Codex CLI with ChatGPT (codex login) first'
        : 'the auth file holds no ChatGPT login (no "tokens"): sign in to Codex CLI (codex login) first',
    );
  }
  const accessToken = text(tokens.access_token);
  if (accessToken === undefined) throw invalid('the auth file has no tokens.access_token');
  const result: CodexTokens = { accessToken };
  const refreshToken = text(tokens.refresh_token);
  const idToken = text(tokens.id_token);
  const accountId = text(tokens.account_id);
  if (refreshToken !== undefined) result.refreshToken = refreshToken;
  if (idToken !== undefined) result.idToken = idToken;
  if (accountId !== undefined) result.accountId = accountId;
  return result;
}
