import { createHash, randomBytes } from 'node:crypto';

/**
 * The PKCE (RFC 7636) and state pieces the OAuth families' logins share. Pure: randomness and
 * hashing only.
 */

export interface PkcePair {
  codeVerifier: string;
  codeChallenge: string;
}

/** The S256 challenge of a verifier: BASE64URL(SHA256(verifier)), no padding (RFC 7636). */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier).digest('base64url');
}

/**
 * A verifier of `bytes` random bytes, base64url (32 bytes: 43 characters, 64: 86; both within
 * RFC 7636's 43..128), with its S256 challenge.
 */
export function generatePkcePair(bytes: number): PkcePair {
  const codeVerifier = randomBytes(bytes).toString('base64url');
  return { codeVerifier, codeChallenge: pkceChallenge(codeVerifier) };
}

/** 32 random bytes, base64url: a login's `state`, and its key while it waits for the code. */
export function generateState(): string {
  return randomBytes(32).toString('base64url');
}

/** What a state looks like: anything else is refused before it reaches a coordinator key. */
export function isWellFormedState(state: string): boolean {
  return /^[A-Za-z0-9_-]{16,128}$/.test(state);
}
