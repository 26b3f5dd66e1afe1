import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const ALGORITHM = 'aes-256-gcm';
const IV_BYTES = 12;
const KEY_BYTES = 32;
/** The current format: HKDF-derived key, ciphertext bound to its context (row and field). */
const VERSION = 'v2';
/** The first format: SHA-256 of the secret as the key, no associated data. Read, never written. */
const LEGACY_VERSION = 'v1';
/** Domain separation: the same master secret must never yield this key for another purpose. */
const HKDF_SALT = 'switchyard/secret-box';
const HKDF_INFO = 'aes-256-gcm/v2';

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
function fingerprint(material: Buffer): string {
  return createHash('sha256').update(material).digest('hex').slice(0, 8);
}

function deriveKey(secret: string): Key {
  const material = Buffer.from(
    hkdfSync('sha256', Buffer.from(secret, 'utf8'), HKDF_SALT, HKDF_INFO, KEY_BYTES),
  );
  return { id: fingerprint(material), material };
}

function deriveLegacyKey(secret: string): Key {
  const material = createHash('sha256').update(secret, 'utf8').digest();
  return { id: fingerprint(material), material };
}

/**
 * The associated data a secret is bound to: where it is stored (`accounts:<id>:credentials`).
 * A ciphertext copied into another row or field then fails authentication instead of handing
 * one account's credentials to another.
 */
export function secretContext(table: string, id: string, field: string): string {
  return `${table}:${id}:${field}`;
}

/**
 * AES-256-GCM for secrets at rest. Ciphertexts carry a format version and the id of the key that
 * sealed them (`v2:<keyId>:<iv>:<tag>:<data>`), so earlier keys can stay configured for decryption
 * after a rotation while new writes use the current key. v2 derives the key from the master
 * secret with HKDF-SHA-256 and authenticates the context (table, row id, field) as associated
 * data; v1 values (SHA-256 key, no context) still decrypt and report needsRotation, so the next
 * save or `switchyard secrets rotate` rewrites them.
 */
export class SecretBox {
  private readonly current: Key;
  private readonly byId = new Map<string, Key>();
  private readonly legacyById = new Map<string, Key>();

  constructor(currentSecret: string, previousSecrets: string[] = []) {
    this.current = deriveKey(currentSecret);
    for (const secret of [currentSecret, ...previousSecrets]) {
      const key = deriveKey(secret);
      if (!this.byId.has(key.id)) this.byId.set(key.id, key);
      const legacy = deriveLegacyKey(secret);
      if (!this.legacyById.has(legacy.id)) this.legacyById.set(legacy.id, legacy);
    }
  }

  get currentKeyId(): string {
    return this.current.id;
  }

  /** Seals plaintext for the given context (see secretContext); decrypt needs the same one. */
  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.current.material, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
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

  decrypt(sealed: string, context: string): string {
    const parts = sealed.split(':');
    const version = parts[0];
    if (parts.length !== 5 || (version !== VERSION && version !== LEGACY_VERSION)) {
      throw new DecryptionError('unknown format');
    }
    const [, keyId, iv, tag, data] = parts as [string, string, string, string, string];
    const key = (version === VERSION ? this.byId : this.legacyById).get(keyId);
    if (key === undefined) {
      throw new DecryptionError(`sealed with key ${keyId}, which is not configured`);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, key.material, Buffer.from(iv, 'base64'));
      if (version === VERSION) decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([
        decipher.update(Buffer.from(data, 'base64')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new DecryptionError(
        'authentication failed (tampered data, wrong key, or moved from another row or field)',
      );
    }
  }

  /** Whether a value is in the old format or sealed with an older key: re-encrypt it. */
  needsRotation(sealed: string): boolean {
    const [version, keyId] = sealed.split(':');
    return version !== VERSION || keyId !== this.current.id;
  }
}
