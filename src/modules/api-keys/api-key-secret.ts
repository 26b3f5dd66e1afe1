import { randomBytes } from 'node:crypto';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
/** 40 base62 characters: about 238 bits, far past guessing. */
export const SECRET_RANDOM_LENGTH = 40;
/** 4 x 62: bytes at or above it are skipped so every character is equally likely. */
const UNBIASED_BYTE_LIMIT = 248;
/** Longer "keys" are refused before hashing; real ones are prefix + 40 characters. */
export const MAX_SECRET_LENGTH = 256;

/** A new secret: the configured prefix and 40 uniformly random base62 characters. */
export function generateSecret(prefix: string): string {
  let out = '';
  while (out.length < SECRET_RANDOM_LENGTH) {
    for (const byte of randomBytes(SECRET_RANDOM_LENGTH * 2)) {
      if (byte < UNBIASED_BYTE_LIMIT) out += BASE62[byte % 62];
      if (out.length === SECRET_RANDOM_LENGTH) break;
    }
  }
  return prefix + out;
}

/** What admins see instead of the secret: `sk-sy-…a1b2`. */
export function secretHint(prefix: string, secret: string): string {
  return `${prefix}…${secret.slice(-4)}`;
}
