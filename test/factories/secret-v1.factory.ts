import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * A ciphertext in the first at-rest format (`v1`: SHA-256 of the secret as the key, no
 * associated data), as installs before row-bound secrets wrote it.
 */
export function sealV1(secret: string, plaintext: string): string {
  const key = createHash('sha256').update(secret, 'utf8').digest();
  const id = createHash('sha256').update(key).digest('hex').slice(0, 8);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    'v1',
    id,
    iv.toString('base64'),
    cipher.getAuthTag().toString('base64'),
    data.toString('base64'),
  ].join(':');
}
