import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerKeysCommands } from 'src/cli/keys.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { ApiKeyAuthenticator } from 'src/modules/api-keys/api-key-authenticator';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { ApiKeysService } from 'src/modules/api-keys/api-keys.service';
import { ListApiKeysQueryDto } from 'src/modules/api-keys/dto/list-api-keys.dto';
import { SettingsModule } from 'src/modules/settings/settings.module';

describe('registerKeysCommands', () => {
  let context: INestApplicationContext;

  beforeAll(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-keys-cli-'));
    const config = new ConfigService(
      loadEnvironment({ ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '' }),
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
    registerKeysCommands(program, {
      withContext: (fn) => fn(context),
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    });
    await program.parseAsync(args, { from: 'user' });
    const exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return { out, err, exitCode };
  }

  describe('keys create', () => {
    it('should create a key with its limits in dollars and print it once as JSON', async () => {
      const { out, exitCode } = await cli(
        'keys',
        'create',
        '--name',
        'cli-json',
        '--limit-daily-cost',
        '12.5',
        '--limit-concurrency',
        '2',
        '--tag',
        'a',
        '--tag',
        'b',
        '--platforms',
        'claude,openai',
        '--deny-models',
        'claude-opus-*',
        '--json',
      );

      expect(exitCode).toBe(0);
      const key = JSON.parse(out);
      expect(key).toMatchObject({
        name: 'cli-json',
        tags: ['a', 'b'],
        permissions: ['claude', 'openai'],
        modelPolicy: { mode: 'deny', patterns: ['claude-opus-*'] },
        limits: { dailyCostMicros: 12_500_000, concurrency: 2 },
      });
      const policy = await context.get(ApiKeyAuthenticator).authenticate(key.secret);
      expect(policy?.id).toBe(key.id);
    });

    it('should create a key with the estimate reservation policy and refuse an unknown one', async () => {
      const { out, exitCode } = await cli(
        'keys',
        'create',
        '--name',
        'cli-estimate',
        '--limit-daily-cost',
        '1',
        '--reservation-policy',
        'estimate',
        '--json',
      );
      expect(exitCode).toBe(0);
      const key = JSON.parse(out);
      expect(key).toMatchObject({ reservationPolicy: 'estimate' });
      const policy = await context.get(ApiKeyAuthenticator).authenticate(key.secret);
      expect(policy?.reservationPolicy).toBe('estimate');

      const bad = await cli('keys', 'create', '--name', 'x', '--reservation-policy', 'lenient');
      expect(bad.exitCode).toBe(1);
      expect(bad.err).toContain('reservationPolicy');
    });

    it('should print the secret with a warning that it is shown once', async () => {
      const { out } = await cli('keys', 'create', '--name', 'cli-text');

      expect(out).toMatch(/Created cli-text \([0-9a-f-]{36}, sk-sy-…\w{4}, active\)/);
      expect(out).toMatch(/\n {2}sk-sy-[0-9A-Za-z]{40}\n/);
      expect(out).toContain('shown only this once');
    });

    it('should create a batch when --count is given', async () => {
      const { out } = await cli(
        'keys',
        'create',
        '--name',
        'cli-batch-{n}',
        '--count',
        '3',
        '--json',
      );

      expect(JSON.parse(out).map((k: { name: string }) => k.name)).toEqual([
        'cli-batch-1',
        'cli-batch-2',
        'cli-batch-3',
      ]);
    });

    it('should refuse what the admin API would refuse and exit 1', async () => {
      const before = (await context.get(ApiKeysService).list(new ListApiKeysQueryDto())).total;

      const zero = await cli('keys', 'create', '--name', 'bad', '--limit-concurrency', '0');
      const both = await cli(
        'keys',
        'create',
        '--name',
        'bad',
        '--allow-models',
        'a',
        '--deny-models',
        'b',
      );
      const orphan = await cli('keys', 'create', '--name', 'bad', '--limit-window-requests', '5');

      expect(zero).toMatchObject({ exitCode: 1, err: expect.stringContaining('concurrency') });
      expect(both).toMatchObject({ exitCode: 1, err: expect.stringContaining('not both') });
      expect(orphan).toMatchObject({ exitCode: 1, err: expect.stringContaining('windowMinutes') });
      expect((await context.get(ApiKeysService).list(new ListApiKeysQueryDto())).total).toBe(
        before,
      );
    });
  });

  describe('keys list', () => {
    it('should print a table and the total', async () => {
      const { out } = await cli(
        'keys',
        'list',
        '--search',
        'cli-batch',
        '--sort',
        'name',
        '--order',
        'asc',
      );

      const lines = out.trim().split('\n');
      expect(lines[0]).toMatch(/^ID\s+NAME\s+KEY\s+STATUS\s+OWNER\s+LAST USED$/);
      expect(lines.slice(1, 4).map((l) => l.split(/\s+/)[1])).toEqual([
        'cli-batch-1',
        'cli-batch-2',
        'cli-batch-3',
      ]);
      expect(lines[4]).toBe('3 key(s), page 1 of 1');
      expect(out).not.toMatch(/sk-sy-[0-9A-Za-z]{40}/);
    });
  });

  describe('keys disable', () => {
    it('should disable the key so it stops working at once', async () => {
      const created = JSON.parse((await cli('keys', 'create', '--name', 'cli-off', '--json')).out);

      const { out, exitCode } = await cli('keys', 'disable', created.id);

      expect(exitCode).toBe(0);
      expect(out).toContain(`Disabled cli-off (${created.id}`);
      expect((await context.get(ApiKeyAuthenticator).authenticate(created.secret))?.enabled).toBe(
        false,
      );
      const listed = JSON.parse((await cli('keys', 'list', '--no-enabled', '--json')).out);
      expect(listed.items.map((k: { id: string }) => k.id)).toContain(created.id);
    });

    it('should say so and exit 1 when the key does not exist', async () => {
      const { err, exitCode } = await cli(
        'keys',
        'disable',
        '00000000-0000-4000-8000-000000000000',
      );

      expect(exitCode).toBe(1);
      expect(err).toContain('not found');
    });
  });

  describe('keys rotate', () => {
    it('should print the new secret and stop the old one', async () => {
      const created = JSON.parse((await cli('keys', 'create', '--name', 'cli-rot', '--json')).out);

      const rotated = JSON.parse((await cli('keys', 'rotate', created.id, '--json')).out);

      expect(rotated.secret).not.toBe(created.secret);
      expect(await context.get(ApiKeyAuthenticator).authenticate(created.secret)).toBeNull();
    });
  });
});
