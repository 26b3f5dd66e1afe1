import type { AccountCredentials } from './account.types';

/** What the admin API shows of credentials: enough to recognise them, never enough to use them. */
export type CredentialsSummary =
  | {
      type: 'claude-oauth';
      readable: true;
      accessTokenHint: string;
      hasRefreshToken: boolean;
      /** ISO 8601, null when unknown. */
      expiresAt: string | null;
    }
  | {
      type: 'claude-console' | 'ccr';
      readable: true;
      apiKeyHint: string;
      authScheme: 'x-api-key' | 'bearer';
    }
  | { type: string; readable: false };

const HINT_PREFIX = 7;
const HINT_SUFFIX = 4;
/** Shorter secrets are masked completely: a hint would give away too large a share. */
const MIN_HINTED_LENGTH = 20;

/** `sk-ant-api03-…` → `sk-ant-…abcd`; short secrets become `****`. */
export function maskSecret(secret: string): string {
  if (secret.length < MIN_HINTED_LENGTH) return '****';
  return `${secret.slice(0, HINT_PREFIX)}…${secret.slice(-HINT_SUFFIX)}`;
}

export function describeCredentials(credentials: AccountCredentials): CredentialsSummary {
  switch (credentials.type) {
    case 'claude-oauth':
      return {
        type: credentials.type,
        readable: true,
        accessTokenHint: maskSecret(credentials.accessToken),
        hasRefreshToken: credentials.refreshToken !== undefined,
        expiresAt:
          credentials.expiresAt === undefined
            ? null
            : new Date(credentials.expiresAt).toISOString(),
      };
    case 'claude-console':
    case 'ccr':
      return {
        type: credentials.type,
        readable: true,
        apiKeyHint: maskSecret(credentials.apiKey),
        authScheme: credentials.authScheme ?? 'x-api-key',
      };
  }
}

/** `socks5://user:secret@host:1080` → `socks5://user:****@host:1080`. */
export function maskProxyUrl(proxyUrl: string): string {
  try {
    const url = new URL(proxyUrl);
    const auth = url.username === '' ? '' : `${url.username}${url.password === '' ? '' : ':****'}@`;
    return `${url.protocol}//${auth}${url.host}`;
  } catch {
    return '****';
  }
}
