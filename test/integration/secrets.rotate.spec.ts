import { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerSecretsCommands } from 'src/cli/secrets.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AccountCodec, accountSecretContext } from 'src/modules/accounts/account-codec';
import type { AccountRecord } from 'src/modules/accounts/accounts.repository';
import type { SecretsRotationReport } from 'src/modules/accounts/account-secrets.service';
import { sealV1 } from '../factories/secret-v1.factory';

const OLD_KEY = 'rotation-test-old-encryption-key-0123456789';
const NEW_KEY = 'rotation-test-new-encryption-key-9876543210';
const UNKNOWN_KEY = 'rotation-test-key-nobody-configured-012345';

function row(name: string, credentials: string, proxy: string | null): AccountRecord {
  return {
    id: randomUUID(),
    name,
    platform: 'claude',
    type: 'claude-console',
    base_url: null,
    priority: 50,
    weight: 1,
    enabled: 1,
    schedulable: 1,
    models: null,
    credentials,
    proxy,
    concurrency_limit: null,
    subscription: null,
    status: 'active',
    status_reason: null,
    last_used_at: null,
    created_at: 1,
    updated_at: 1,
  };
}

function apiKeyJson(apiKey: string): string {
  return JSON.stringify({ type: 'claude-console', apiKey });
}

describe('switchyard secrets rotate', () => {
  const saved = { ...process.env };
  let dataDir: string;
  let out: string[];
  const config = new ConfigService(new EnvironmentSchema());
  const newOnly = new AccountCodec(new SecretBox(NEW_KEY), config);

  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dataDir, 'switchyard.db') });
    try {
      await migrateToLatest(db);
      return await fn(db);
    } finally {
      await db.destroy();
    }
  }

  async function rotate(): Promise<{ code: number; report: SecretsRotationReport }> {
    out = [];
    const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    try {
      const program = new Command('switchyard').exitOverride();
      registerSecretsCommands(program);
      await program.parseAsync(['secrets', 'rotate', '--json'], { from: 'user' });
    } finally {
      write.mockRestore();
    }
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return { code, report: JSON.parse(out.join('')) as SecretsRotationReport };
  }

  beforeAll(() => {
    setLogLevel('silent');
  });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'sy-rotate-'));
    // The command reads its configuration from the environment, as `switchyard` does.
    Object.assign(process.env, {
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: NEW_KEY,
      ENCRYPTION_KEYS_PREVIOUS: OLD_KEY,
      DATABASE_URL: '',
      REDIS_URL: '',
      SWITCHYARD_CLI_LOG_LEVEL: 'silent',
    });
  });

  afterEach(() => {
    process.env = { ...saved };
  });

  it('should re-encrypt v1 and old-key values under the current key, bound to their row, once', async () => {
    const oldCodec = new AccountCodec(new SecretBox(OLD_KEY), config);
    const legacy = row(
      'legacy-v1',
      sealV1(OLD_KEY, apiKeyJson('sk-ant-LEGACY-V1')),
      sealV1(OLD_KEY, 'socks5://u:legacy-proxy-pass@127.0.0.1:1080'),
    );
    const oldKey = row('old-key-v2', '', null);
    oldKey.credentials = oldCodec.sealCredentials(oldKey.id, {
      type: 'claude-console',
      apiKey: 'sk-ant-OLD-KEY-V2',
    });
    const current = row('current', '', null);
    current.credentials = newOnly.sealCredentials(current.id, {
      type: 'claude-console',
      apiKey: 'sk-ant-CURRENT',
    });
    const lost = row('lost', '', null);
    lost.credentials = new SecretBox(UNKNOWN_KEY).encrypt(
      apiKeyJson('sk-ant-LOST'),
      accountSecretContext(lost.id, 'credentials'),
    );
    await withDb((db) =>
      db.insertInto('accounts').values([legacy, oldKey, current, lost]).execute(),
    );
    const currentCiphertext = current.credentials;

    const first = await rotate();

    expect(first.report).toEqual({
      accounts: 4,
      rewritten: 3,
      current: 1,
      unreadable: [{ accountId: lost.id, accountName: 'lost', field: 'credentials' }],
    });
    // An unreadable secret needs the operator: the exit code says so.
    expect(first.code).toBe(1);
    expect(out.join('')).not.toContain('sk-ant-');
    const rows = await withDb((db) => db.selectFrom('accounts').selectAll().execute());
    const byName = new Map(rows.map((r) => [r.name, r]));
    const keyId = new SecretBox(NEW_KEY).currentKeyId;
    for (const name of ['legacy-v1', 'old-key-v2', 'current']) {
      expect(byName.get(name)!.credentials.startsWith(`v2:${keyId}:`)).toBe(true);
    }
    expect(byName.get('legacy-v1')!.proxy!.startsWith(`v2:${keyId}:`)).toBe(true);
    expect(byName.get('current')!.credentials).toBe(currentCiphertext);
    expect(byName.get('lost')!.credentials).toBe(lost.credentials);
    expect(byName.get('legacy-v1')!.updated_at).toBe(1);
    // Readable with the new key alone: the old one can now be dropped from the configuration.
    expect(newOnly.openCredentials(byName.get('legacy-v1')!)).toEqual({
      type: 'claude-console',
      apiKey: 'sk-ant-LEGACY-V1',
    });
    expect(newOnly.openProxy(byName.get('legacy-v1')!)).toBe(
      'socks5://u:legacy-proxy-pass@127.0.0.1:1080',
    );
    expect(newOnly.openCredentials(byName.get('old-key-v2')!)).toEqual({
      type: 'claude-console',
      apiKey: 'sk-ant-OLD-KEY-V2',
    });

    const second = await rotate();

    expect(second.report).toMatchObject({ accounts: 4, rewritten: 0, current: 4 });
    expect(second.report.unreadable).toHaveLength(1);
    const again = await withDb((db) => db.selectFrom('accounts').selectAll().execute());
    expect(again.map((r) => r.credentials).sort()).toEqual(rows.map((r) => r.credentials).sort());
  });

  it('should report a value moved from another row as unreadable instead of rewriting it', async () => {
    const a = row('a', '', null);
    const b = row('b', '', null);
    a.credentials = newOnly.sealCredentials(a.id, { type: 'claude-console', apiKey: 'sk-ant-A' });
    b.credentials = newOnly.sealCredentials(b.id, { type: 'claude-console', apiKey: 'sk-ant-B' });
    // Swapped in the database by someone with write access to it.
    [a.credentials, b.credentials] = [b.credentials, a.credentials];
    await withDb((db) => db.insertInto('accounts').values([a, b]).execute());

    const { code, report } = await rotate();

    expect(code).toBe(1);
    expect(report.rewritten).toBe(0);
    expect(report.unreadable.map((u) => u.accountName).sort()).toEqual(['a', 'b']);
  });
});
