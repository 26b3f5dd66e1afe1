import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerKeysCommands } from 'src/cli/keys.command';
import { registerSettingsCommands } from 'src/cli/settings.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { SettingsService } from 'src/modules/settings/settings.service';

describe('registerSettingsCommands', () => {
  let context: INestApplicationContext;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-settings-cli-'));
    const config = new ConfigService(
      loadEnvironment({
        ...process.env,
        DATA_DIR: dataDir,
        DATABASE_URL: '',
        REDIS_URL: '',
        RELAY_MAX_ATTEMPTS: '3',
      }),
    );
    setLogLevel(config.env.LOG_LEVEL);
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot(config),
        CryptoModule,
        DatabaseModule,
        CoordinationModule,
        SettingsModule,
        ApiKeysModule,
      ],
    }).compile();
    context = await moduleRef.init();
  });

  afterAll(async () => {
    await context?.close();
  });

  afterEach(() => {
    process.exitCode = undefined;
  });

  /** Runs `switchyard <args>` against the test application; returns what it printed. */
  async function cli(...args: string[]): Promise<{ out: string; err: string; exitCode: number }> {
    let out = '';
    let err = '';
    const program = new Command('switchyard').exitOverride();
    program.configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
    const deps = {
      withContext: <T>(fn: (c: INestApplicationContext) => Promise<T>) => fn(context),
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    };
    registerSettingsCommands(program, deps);
    registerKeysCommands(program, deps);
    await program.parseAsync(args, { from: 'user' });
    const exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return { out, err, exitCode };
  }

  it('should set, get and reset a setting, printing what changed', async () => {
    const set = await cli('settings', 'set', 'relayMaxAttempts', '5', 'stickyContentHash', 'true');
    expect(set).toMatchObject({ exitCode: 0, err: '' });
    expect(set.out).toBe(
      'relayMaxAttempts: 3 (env) -> 5 (database)\nstickyContentHash: false (env) -> true (database)\n',
    );
    expect(context.get(SettingsService).get('relayMaxAttempts')).toBe(5);

    const got = await cli('settings', 'get', 'relayMaxAttempts');
    expect(JSON.parse(got.out)).toMatchObject({ value: 5, default: 3, source: 'database' });

    const list = await cli('settings', 'list');
    expect(list.out).toMatch(/^relayMaxAttempts\s+5\s+database\s+3$/m);

    const reset = await cli('settings', 'reset', 'relayMaxAttempts');
    expect(reset.out).toBe('relayMaxAttempts: 5 (database) -> 3 (env)\n');
    expect(context.get(SettingsService).get('relayMaxAttempts')).toBe(3);
    await cli('settings', 'reset', 'stickyContentHash');
  });

  it('should refuse a bad value with the setting’s own message, store nothing and exit 1', async () => {
    const result = await cli(
      'settings',
      'set',
      'relayMaxAttempts',
      '4',
      'stickySessionTtlSeconds',
      'soon',
    );
    expect(result.exitCode).toBe(1);
    expect(result.err).toContain('stickySessionTtlSeconds must be a whole number from 1 to');
    expect(context.get(SettingsService).show('relayMaxAttempts').source).toBe('env');
    expect((await cli('settings', 'get', 'nope')).err).toContain('no runtime setting "nope"');
    expect((await cli('settings', 'set', 'relayMaxAttempts', '4', 'odd')).exitCode).toBe(1);
  });

  it('should give keys created afterwards the default limits set, under their own', async () => {
    const set = await cli(
      'settings',
      'set',
      'apiKeyDefaultLimits',
      '{"concurrency":4,"dailyCostMicros":2000000}',
    );
    expect(set.exitCode).toBe(0);
    try {
      const plain = JSON.parse((await cli('keys', 'create', '--name', 'defaults', '--json')).out);
      expect(plain.limits).toEqual({ concurrency: 4, dailyCostMicros: 2_000_000 });
      const own = JSON.parse(
        (await cli('keys', 'create', '--name', 'own', '--limit-concurrency', '9', '--json')).out,
      );
      expect(own.limits).toEqual({ concurrency: 9, dailyCostMicros: 2_000_000 });
    } finally {
      await cli('settings', 'reset', 'apiKeyDefaultLimits');
    }
    const after = JSON.parse((await cli('keys', 'create', '--name', 'after', '--json')).out);
    expect(after.limits).toEqual({});
  });
});
