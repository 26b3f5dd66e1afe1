import { OAuthLoginException } from '../oauth-login.exception';

export enum CodexOAuthExceptionCode {
  /** No pending login has this state: never started, already finished, or expired. */
  LOGIN_NOT_FOUND = 'CODEX_LOGIN_NOT_FOUND',
  /** The pasted callback URL belongs to another login than the state sent with it. */
  STATE_MISMATCH = 'CODEX_LOGIN_STATE_MISMATCH',
  /** The callback carries an OAuth error (the sign-in was refused or cancelled). */
  LOGIN_DENIED = 'CODEX_LOGIN_DENIED',
  /** Neither a code nor a callback URL with one, or a callback URL that is not one. */
  INVALID_CALLBACK = 'CODEX_LOGIN_INVALID_CALLBACK',
  /** Fields that contradict each other (code and callbackUrl; accountId and proxy). */
  INVALID_REQUEST = 'CODEX_LOGIN_INVALID_REQUEST',
  /** Another exchange of the same login is running. */
  LOGIN_BUSY = 'CODEX_LOGIN_BUSY',
  /** The token endpoint refused the code (expired, already used, wrong verifier). */
  TOKEN_EXCHANGE_REFUSED = 'CODEX_TOKEN_EXCHANGE_REFUSED',
  /** The token endpoint could not be reached, timed out or failed (5xx, 429). */
  TOKEN_ENDPOINT_UNAVAILABLE = 'CODEX_TOKEN_ENDPOINT_UNAVAILABLE',
  /** The tokens lack what a codex-oauth account needs (an access token, a ChatGPT account id). */
  TOKENS_INCOMPLETE = 'CODEX_TOKENS_INCOMPLETE',
  /** The account to update is not a codex-oauth account. */
  NOT_A_CODEX_ACCOUNT = 'CODEX_NOT_A_CODEX_ACCOUNT',
  /** A Codex CLI auth.json that holds no ChatGPT login. */
  INVALID_AUTH_FILE = 'CODEX_INVALID_AUTH_FILE',
}

const STATUS: Record<CodexOAuthExceptionCode, number> = {
  [CodexOAuthExceptionCode.LOGIN_NOT_FOUND]: 400,
  [CodexOAuthExceptionCode.STATE_MISMATCH]: 400,
  [CodexOAuthExceptionCode.LOGIN_DENIED]: 400,
  [CodexOAuthExceptionCode.INVALID_CALLBACK]: 400,
  [CodexOAuthExceptionCode.INVALID_REQUEST]: 400,
  [CodexOAuthExceptionCode.LOGIN_BUSY]: 409,
  [CodexOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED]: 400,
  [CodexOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE]: 502,
  [CodexOAuthExceptionCode.TOKENS_INCOMPLETE]: 502,
  [CodexOAuthExceptionCode.NOT_A_CODEX_ACCOUNT]: 400,
  [CodexOAuthExceptionCode.INVALID_AUTH_FILE]: 400,
};

export class CodexOAuthException extends OAuthLoginException<CodexOAuthExceptionCode> {
  constructor(code: CodexOAuthExceptionCode, message: string, details?: Record<string, unknown>) {
    super(code, STATUS, message, details);
  }
}
