import { randomBytes } from 'node:crypto';

/**
 * Gemini CLI's Google sign-in, as its source has it (packages/core/src/code_assist/oauth2.ts):
 * the scopes, and the user-code flow's redirect URI, where Google shows the authorization code
 * for the user to paste back (`authWithUserCode`), which suits a relay admin signing in from
 * another machine.
 */
export const GOOGLE_OAUTH_SCOPES: readonly string[] = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
];

export const GOOGLE_REDIRECT_URI = 'https://codeassist.google.com/authcode';

/** 32 random bytes, hex (Gemini CLI's state). */
export function generateState(): string {
  return randomBytes(32).toString('hex');
}

export function isWellFormedState(state: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(state);
}

export interface CallbackParams {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
}

/** The parameters of a pasted callback URL (or its query string), or null when it is none. */
export function parseCallbackUrl(input: string): CallbackParams | null {
  const text = input.trim();
  let params: URLSearchParams;
  try {
    params = text.includes('://')
      ? new URL(text).searchParams
      : new URLSearchParams(text.startsWith('?') ? text.slice(1) : text);
  } catch {
    return null;
  }
  const pick = (name: string): string | undefined => {
    const value = params.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const result: CallbackParams = {};
  const code = pick('code');
  const state = pick('state');
  const error = pick('error');
  const errorDescription = pick('error_description');
  if (code !== undefined) result.code = code;
  if (state !== undefined) result.state = state;
  if (error !== undefined) result.error = error;
  if (errorDescription !== undefined) result.errorDescription = errorDescription;
  return code === undefined && error === undefined ? null : result;
}
