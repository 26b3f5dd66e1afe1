import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const VERSION = 'v1';

export class DecryptionError extends Error {
  constructor(reason: string) {
    super(`Cannot decrypt secret: ${reason}`);
    this.name = 'DecryptionError';
  }
}

interface Key {
  id: string;
  material: Buffer;
}

/** A key id is a fingerprint of the key, so it needs no separate configuration. */
function deriveKey(secret: string): Key {
  const material = createHash('sha256').update(secret, 'utf8').digest();
  const id = createHash('sha256').update(material).digest('hex').slice(0, 8);
  return { id, material };
}

/**
 * AES-256-GCM for secrets at rest. Ciphertexts carry the id of the key that sealed them
 * (`v1:<keyId>:<iv>:<tag>:<data>`), so earlier keys can stay configured for decryption after a
 * rotation while new writes use the current key.
 */
export class SecretBox {
  private readonly current: Key;
  private readonly byId = new Map<string, Key>();

  constructor(currentSecret: string, previousSecrets: string[] = []) {
    this.current = deriveKey(currentSecret);
    for (const key of [this.current, ...previousSecrets.map(deriveKey)]) {
      if (!this.byId.has(key.id)) this.byId.set(key.id, key);
    }
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.material, iv);
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      VERSION,
      this.current.id,
      iv.toString('base64'),
      tag.toString('base64'),
      data.toString('base64'),
    ].join(':');
  }

  decrypt(sealed: string): string {
    const parts = sealed.split(':');
    if (parts.length !== 5 || parts[0] !== VERSION) throw new DecryptionError('unknown format');
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = this.byId.get(keyId);
    if (key === undefined) {
      throw new DecryptionError(`sealed with key ${keyId}, which is not configured`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key.material, Buffer.from(iv, 'base64'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new DecryptionError('authentication failed (tampered data or wrong key)');
    }
  }

  /** Whether a value was sealed with an older key and should be re-encrypted. */
  needsRotation(sealed: string): boolean {
    return sealed.split(':')[1] !== this.current.id;
  }
}
