import { OAuthLoginException } from '../oauth-login.exception';

export enum GoogleOAuthExceptionCode {
  /** No pending login has this state: never started, already finished, or expired. */
  LOGIN_NOT_FOUND = 'GOOGLE_LOGIN_NOT_FOUND',
  /** The pasted callback URL belongs to another login than the state sent with it. */
  STATE_MISMATCH = 'GOOGLE_LOGIN_STATE_MISMATCH',
  /** The callback carries an OAuth error (the sign-in was refused or cancelled). */
  LOGIN_DENIED = 'GOOGLE_LOGIN_DENIED',
  /** Neither a code nor a callback URL with one. */
  INVALID_CALLBACK = 'GOOGLE_LOGIN_INVALID_CALLBACK',
  /** Fields that contradict each other (code and callbackUrl; accountId and proxy). */
  INVALID_REQUEST = 'GOOGLE_LOGIN_INVALID_REQUEST',
  /** Another exchange of the same login is running. */
  LOGIN_BUSY = 'GOOGLE_LOGIN_BUSY',
  /** The token endpoint refused the code (expired, already used, wrong verifier). */
  TOKEN_EXCHANGE_REFUSED = 'GOOGLE_TOKEN_EXCHANGE_REFUSED',
  /** The token endpoint could not be reached, timed out or failed (5xx, 429). */
  TOKEN_ENDPOINT_UNAVAILABLE = 'GOOGLE_TOKEN_ENDPOINT_UNAVAILABLE',
  /** Code Assist refused the account (no project, ineligible, onboarding failed). */
  CODE_ASSIST_REFUSED = 'GOOGLE_CODE_ASSIST_REFUSED',
  /** Code Assist could not be reached or failed while finding or onboarding the project. */
  CODE_ASSIST_UNAVAILABLE = 'GOOGLE_CODE_ASSIST_UNAVAILABLE',
  /** The account to update is not a gemini-oauth account. */
  NOT_A_GEMINI_ACCOUNT = 'GOOGLE_NOT_A_GEMINI_OAUTH_ACCOUNT',
  /** A Gemini CLI oauth_creds.json that holds no usable login. */
  INVALID_CREDENTIALS_FILE = 'GOOGLE_INVALID_CREDENTIALS_FILE',
}

const STATUS: Record<GoogleOAuthExceptionCode, number> = {
  [GoogleOAuthExceptionCode.LOGIN_NOT_FOUND]: 400,
  [GoogleOAuthExceptionCode.STATE_MISMATCH]: 400,
  [GoogleOAuthExceptionCode.LOGIN_DENIED]: 400,
  [GoogleOAuthExceptionCode.INVALID_CALLBACK]: 400,
  [GoogleOAuthExceptionCode.INVALID_REQUEST]: 400,
  [GoogleOAuthExceptionCode.LOGIN_BUSY]: 409,
  [GoogleOAuthExceptionCode.TOKEN_EXCHANGE_REFUSED]: 400,
  [GoogleOAuthExceptionCode.TOKEN_ENDPOINT_UNAVAILABLE]: 502,
  [GoogleOAuthExceptionCode.CODE_ASSIST_REFUSED]: 400,
  [GoogleOAuthExceptionCode.CODE_ASSIST_UNAVAILABLE]: 502,
  [GoogleOAuthExceptionCode.NOT_A_GEMINI_ACCOUNT]: 400,
  [GoogleOAuthExceptionCode.INVALID_CREDENTIALS_FILE]: 400,
};

export class GoogleOAuthException extends OAuthLoginException<GoogleOAuthExceptionCode> {
  constructor(code: GoogleOAuthExceptionCode, message: string, details?: Record<string, unknown>) {
    super(code, STATUS, message, details);
  }
}
