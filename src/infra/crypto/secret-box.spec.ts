import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyHasher } from './api-key-hasher';
import { loadOrCreateLocalSecrets } from './local-secrets';
import { DecryptionError, SecretBox, secretContext } from './secret-box';
import { sealV1 } from '../../../test/factories/secret-v1.factory';

const CONTEXT = secretContext('accounts', 'acct-1', 'credentials');

describe(SecretBox.name, () => {
  const box = new SecretBox('a'.repeat(40));

  describe('encrypt', () => {
    it('should round-trip and never produce the same ciphertext twice', () => {
      const a = box.encrypt('sk-ant-secret', CONTEXT);
      const b = box.encrypt('sk-ant-secret', CONTEXT);
      expect(a).not.toEqual(b);
      expect(a).not.toContain('sk-ant-secret');
      expect(box.decrypt(a, CONTEXT)).toBe('sk-ant-secret');
    });

    it('should write the v2 format with the key id beside the ciphertext', () => {
      const parts = box.encrypt('x', CONTEXT).split(':');
      expect(parts[0]).toBe('v2');
      expect(parts[1]).toBe(box.currentKeyId);
    });

    it('should seal with an HKDF-SHA-256 key derived from the secret, not the secret hashed', () => {
      const [, , iv, tag, data] = box.encrypt('derived', CONTEXT).split(':');
      const open = (key: Buffer): string => {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'));
        decipher.setAAD(Buffer.from(CONTEXT, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64'));
        return Buffer.concat([
          decipher.update(Buffer.from(data, 'base64')),
          decipher.final(),
        ]).toString('utf8');
      };
      const hkdf = Buffer.from(
        hkdfSync('sha256', 'a'.repeat(40), 'switchyard/secret-box', 'aes-256-gcm/v2', 32),
      );
      expect(open(hkdf)).toBe('derived');
      expect(() => open(createHash('sha256').update('a'.repeat(40)).digest())).toThrow();
    });
  });

  describe('decrypt', () => {
    it('should throw when the ciphertext was tampered with', () => {
      const parts = box.encrypt('value', CONTEXT).split(':');
      const data = Buffer.from(parts[4], 'base64');
      data[0] = data[0] ^ 0xff;
      parts[4] = data.toString('base64');
      expect(() => box.decrypt(parts.join(':'), CONTEXT)).toThrow(DecryptionError);
    });

    it('should throw when the value was sealed for another row or field', () => {
      const sealed = box.encrypt('sk-ant-of-acct-1', CONTEXT);
      expect(() => box.decrypt(sealed, secretContext('accounts', 'acct-2', 'credentials'))).toThrow(
        /authentication failed/,
      );
      expect(() => box.decrypt(sealed, secretContext('accounts', 'acct-1', 'proxy'))).toThrow(
        DecryptionError,
      );
    });

    it('should throw when the sealing key is not configured', () => {
      const other = new SecretBox('b'.repeat(40));
      expect(() => other.decrypt(box.encrypt('value', CONTEXT), CONTEXT)).toThrow(/not configured/);
    });

    it('should decrypt with a previous key after a rotation and flag the value for re-encryption', () => {
      const sealed = box.encrypt('value', CONTEXT);
      const rotated = new SecretBox('c'.repeat(40), ['a'.repeat(40)]);
      expect(rotated.decrypt(sealed, CONTEXT)).toBe('value');
      expect(rotated.needsRotation(sealed)).toBe(true);
      expect(rotated.needsRotation(rotated.encrypt('value', CONTEXT))).toBe(false);
    });

    it('should still open v1 values (current or previous key) and flag them for re-encryption', () => {
      const v1 = sealV1('a'.repeat(40), 'legacy-secret');
      expect(box.decrypt(v1, CONTEXT)).toBe('legacy-secret');
      expect(box.needsRotation(v1)).toBe(true);
      const rotated = new SecretBox('c'.repeat(40), ['a'.repeat(40)]);
      expect(rotated.decrypt(v1, CONTEXT)).toBe('legacy-secret');
      expect(() => new SecretBox('d'.repeat(40)).decrypt(v1, CONTEXT)).toThrow(/not configured/);
    });

    it('should throw when the format is unknown instead of passing the value through', () => {
      expect(() => box.decrypt('plain-text-credential', CONTEXT)).toThrow(DecryptionError);
      expect(() => box.decrypt('v9:a:b:c:d', CONTEXT)).toThrow(/unknown format/);
    });
  });
});

describe(ApiKeyHasher.name, () => {
  it('should give a stable SHA-256 digest independent of the encryption key', () => {
    const hasher = new ApiKeyHasher();
    // sha256('sk-sy-abc'), computed independently.
    expect(hasher.digest('sk-sy-abc')).toBe(
      '57b493135abd78a22836d8dcc7502276673659c180d4108cb686323bff07889b',
    );
    expect(hasher.digest('sk-sy-abc')).toMatch(/^[0-9a-f]{64}$/);
    expect(new ApiKeyHasher('pepper').digest('sk-sy-abc')).not.toBe(hasher.digest('sk-sy-abc'));
  });
});

describe(loadOrCreateLocalSecrets.name, () => {
  it('should create the secrets once, owner-readable only, and reuse them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-secrets-'));
    const first = loadOrCreateLocalSecrets(dir);
    const second = loadOrCreateLocalSecrets(dir);
    expect(second).toEqual(first);
    expect(first.encryptionKey).toHaveLength(64);
    expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
  });

  it('should create the data directory 0700 and narrow an existing one open to others', () => {
    const fresh = join(mkdtempSync(join(tmpdir(), 'sy-secrets-')), 'data');
    loadOrCreateLocalSecrets(fresh);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);

    const older = mkdtempSync(join(tmpdir(), 'sy-secrets-'));
    chmodSync(older, 0o755);
    loadOrCreateLocalSecrets(older);
    expect(statSync(older).mode & 0o777).toBe(0o700);
  });
});
