import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export interface LocalSecrets {
  encryptionKey: string;
  jwtSecret: string;
}

export const LOCAL_SECRETS_FILE = 'secrets.json';

/**
 * The embedded default's generated secrets: created once, owner-readable only (0600) in the data
 * directory, reused on every start so encrypted credentials and sessions survive restarts.
 */
export function loadOrCreateLocalSecrets(dataDir: string): LocalSecrets {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // An existing data directory (an older install, a volume) is narrowed to its owner too.
  const dirStat = statSync(dataDir);
  const owned = typeof process.getuid !== 'function' || dirStat.uid === process.getuid();
  if (owned && (dirStat.mode & 0o077) !== 0) chmodSync(dataDir, dirStat.mode & 0o700);
  const file = join(dataDir, LOCAL_SECRETS_FILE);
  if (existsSync(file)) {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(file, 0o600);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>;
    if (typeof parsed.encryptionKey !== 'string' || typeof parsed.jwtSecret !== 'string') {
      throw new Error(`${file} is damaged: expected encryptionKey and jwtSecret`);
    }
    return { encryptionKey: parsed.encryptionKey, jwtSecret: parsed.jwtSecret };
  }
  const secrets: LocalSecrets = {
    encryptionKey: randomBytes(32).toString('hex'),
    jwtSecret: randomBytes(32).toString('hex'),
  };
  // 'wx' fails if another process created the file meanwhile, instead of overwriting its key.
  writeFileSync(file, JSON.stringify(secrets, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return secrets;
}

export function localSecretsPath(dataDir: string): string {
  return join(dataDir, LOCAL_SECRETS_FILE);
}
