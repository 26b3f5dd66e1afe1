import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiKeyHasher } from './api-key-hasher';
import { loadOrCreateLocalSecrets } from './local-secrets';
import { DecryptionError, SecretBox } from './secret-box';

describe(SecretBox.name, () => {
  const box = new SecretBox('a'.repeat(40));

  describe('encrypt', () => {
    it('should round-trip and never produce the same ciphertext twice', () => {
      const a = box.encrypt('sk-ant-secret');
      const b = box.encrypt('sk-ant-secret');
      expect(a).not.toEqual(b);
      expect(a).not.toContain('sk-ant-secret');
      expect(box.decrypt(a)).toBe('sk-ant-secret');
    });

    it('should store the key id beside the ciphertext', () => {
      expect(box.encrypt('x').split(':')[1]).toBe(box.currentKeyId);
    });
  });

  describe('decrypt', () => {
    it('should throw when the ciphertext was tampered with', () => {
      const parts = box.encrypt('value').split(':');
      const data = Buffer.from(parts[4], 'base64');
      data[0] = data[0] ^ 0xff;
      parts[4] = data.toString('base64');
      expect(() => box.decrypt(parts.join(':'))).toThrow(DecryptionError);
    });

    it('should throw when the sealing key is not configured', () => {
      const other = new SecretBox('b'.repeat(40));
      expect(() => other.decrypt(box.encrypt('value'))).toThrow(/not configured/);
    });

    it('should decrypt with a previous key after a rotation and flag the value for re-encryption', () => {
      const sealed = box.encrypt('value');
      const rotated = new SecretBox('c'.repeat(40), ['a'.repeat(40)]);
      expect(rotated.decrypt(sealed)).toBe('value');
      expect(rotated.needsRotation(sealed)).toBe(true);
      expect(rotated.needsRotation(rotated.encrypt('value'))).toBe(false);
    });

    it('should throw when the format is unknown instead of passing the value through', () => {
      expect(() => box.decrypt('plain-text-credential')).toThrow(DecryptionError);
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
});
