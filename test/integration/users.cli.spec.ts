import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Command } from 'commander';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerUsersCommands } from 'src/cli/users.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { UsersModule } from 'src/modules/users/users.module';
import { UsersService } from 'src/modules/users/users.service';

describe('registerUsersCommands', () => {
  let context: INestApplicationContext;

  beforeAll(async () => {
    const config = new ConfigService(
      loadEnvironment({
        ...process.env,
        DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-users-cli-')),
        DATABASE_URL: '',
        REDIS_URL: '',
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
        UsersModule,
      ],
    }).compile();
    context = await moduleRef.init();
    await context.get(UsersService).bootstrapAdmin('admin', 'the-admin-password');
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
    registerUsersCommands(program, {
      withContext: (fn) => fn(context),
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
    });
    try {
      await program.parseAsync(args, { from: 'user' });
    } catch {
      // exitOverride: commander's own usage errors land in err with a non-zero code.
      process.exitCode = 1;
    }
    const exitCode = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return { out, err, exitCode };
  }

  it('should create a user, print the generated password once, and let it log in', async () => {
    const { out, exitCode } = await cli(
      'users',
      'create',
      'cli-ann',
      '--role',
      'user',
      '--max-keys',
      '3',
    );
    expect(exitCode).toBe(0);
    const password = /Password: (\S+)/.exec(out)?.[1] as string;
    expect(out).toContain('shown once');
    const users = context.get(UsersService);
    expect(await users.verifyPassword('cli-ann', password)).toMatchObject({ role: 'user' });
    const listed = JSON.parse((await cli('users', 'list', '--search', 'cli-ann', '--json')).out);
    expect(listed.items).toEqual([
      expect.objectContaining({
        username: 'cli-ann',
        caps: expect.objectContaining({ maxKeys: 3 }),
      }),
    ]);
    expect(JSON.stringify(listed)).not.toContain(password);
  });

  it('should refuse what the admin API refuses, with a message and exit code 1', async () => {
    const bad = await cli('users', 'create', 'has space', '--role', 'user');
    expect(bad.exitCode).toBe(1);
    expect(bad.err).toContain('username must be');
    const role = await cli('users', 'create', 'cli-x', '--role', 'root');
    expect(role.exitCode).toBe(1);
    const taken = await cli('users', 'create', 'admin', '--role', 'user');
    expect([taken.exitCode, taken.err]).toEqual([1, expect.stringContaining('already exists')]);
  });

  it('should set roles, disable and enable, and keep the last enabled admin', async () => {
    await cli('users', 'create', 'cli-bob', '--role', 'viewer', '--password', 'bobs-password');
    expect((await cli('users', 'set-role', 'cli-bob', 'operator')).out).toContain(
      'cli-bob is now operator',
    );
    expect((await cli('users', 'disable', 'cli-bob')).out).toContain('cli-bob is disabled');
    expect(
      await context.get(UsersService).verifyPassword('cli-bob', 'bobs-password'),
    ).toBeUndefined();
    await cli('users', 'enable', 'cli-bob');
    expect(
      await context.get(UsersService).verifyPassword('cli-bob', 'bobs-password'),
    ).toBeDefined();

    const last = await cli('users', 'disable', 'admin');
    expect([last.exitCode, last.err]).toEqual([1, expect.stringContaining('last enabled admin')]);
    const demote = await cli('users', 'set-role', 'admin', 'user');
    expect(demote.exitCode).toBe(1);
    const disabled = JSON.parse((await cli('users', 'list', '--no-enabled', '--json')).out);
    expect(disabled.items).toEqual([]);
    expect((await cli('users', 'disable', 'nobody')).err).toContain('no user named "nobody"');
  });

  it('should reset a password, generated or given', async () => {
    await cli('users', 'create', 'cli-cy', '--role', 'user');
    const generated = await cli('users', 'reset-password', 'cli-cy');
    const password = /New password for cli-cy: (\S+)/.exec(generated.out)?.[1] as string;
    expect(await context.get(UsersService).verifyPassword('cli-cy', password)).toBeDefined();
    const given = await cli('users', 'reset-password', 'cli-cy', '--password', 'cys-password');
    expect(given.out).toBe('Password for cli-cy updated.\n');
    expect(await context.get(UsersService).verifyPassword('cli-cy', 'cys-password')).toBeDefined();
  });
});
