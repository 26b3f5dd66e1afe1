import { OAuthLoginException } from '../oauth-login.exception';

export enum ClaudeOAuthExceptionCode {
  /** No pending login has this state: never started, already finished, or expired. */
  LOGIN_NOT_FOUND = 'CLAUDE_LOGIN_NOT_FOUND',
  /** The pasted `code#state` (or callback URL) belongs to another login than the state sent. */
  STATE_MISMATCH = 'CLAUDE_LOGIN_STATE_MISMATCH',
  /** The callback carries an OAuth error (the sign-in was refused or cancelled). */
  LOGIN_DENIED = 'CLAUDE_LOGIN_DENIED',
  /** Neither a code nor a callback URL with one, or a callback that is not one. */
  INVALID_CALLBACK = 'CLAUDE_LOGIN_INVALID_CALLBACK',
  /** Fields that contradict each other (code and callbackUrl; accountId and proxy). */
  INVALID_REQUEST = 'CLAUDE_LOGIN_INVALID_REQUEST',
  /** Another exchange of the same login is running. */
  LOGIN_BUSY = 'CLAUDE_LOGIN_BUSY',
  /** The token endpoint refused the code (expired, already used, wrong verifier). */
  TOKEN_EXCHANGE_REFUSED = 'CLAUDE_TOKEN_EXCHANGE_REFUSED',
  /** The token endpoint could not be reached, timed out or failed (5xx, 429). */
  TOKEN_ENDPOINT_UNAVAILABLE = 'CLAUDE_TOKEN_ENDPOINT_UNAVAILABLE',
  /** The account to update is not a claude-oauth account. */
  NOT_A_CLAUDE_ACCOUNT = 'CLAUDE_NOT_A_CLAUDE_ACCOUNT',
}

const STATUS: Record<ClaudeOAuthExceptionCode, number> = {
  [ClaudeOAuthExceptionCode.LOGIN_NOT_FOUND]: 400,
  [ClaudeOAuthExceptionCode.STATE_MISMATCH]: 400,
  [ClaudeOAuthExceptionCode.LOGIN_DENIED]: 400,
  [ClaudeOAuthExceptionCode.INVALID_CALLBACK]: 400,
  [ClaudeOAuthExceptionCode.INVALID_REQUEST]: 400,
  [ClaudeOAuthExceptionCode.LOGIN_BUSY]: 409,
  [ClaudeOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED]: 400,
  [ClaudeOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE]: 502,
  [ClaudeOAuthExceptionCode.NOT_A_CLAUDE_ACCOUNT]: 400,
};

export class ClaudeOAuthException extends OAuthLoginException<ClaudeOAuthExceptionCode> {
  constructor(code: ClaudeOAuthExceptionCode, message: string, details?: Record<string, unknown>) {
    super(code, STATUS, message, details);
  }
}
