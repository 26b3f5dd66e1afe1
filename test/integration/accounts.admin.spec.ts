import { Module, type INestApplication } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { Command } from 'commander';
import express from 'express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { AdminExceptionFilter } from 'src/common/http/admin-exception.filter';
import { setLogLevel } from 'src/common/logging/app-logger';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { buildCreateInput, registerAccountsCommands } from 'src/cli/accounts.command';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountGroupsController } from 'src/modules/accounts/account-groups.controller';
import {
  ACCOUNT_TESTER,
  type AccountTester,
  type AccountTestResult,
} from 'src/modules/accounts/account-tester';
import { AccountsController } from 'src/modules/accounts/accounts.controller';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { OAuthModule } from 'src/modules/oauth/oauth.module';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { adminValidationPipe } from 'src/common/http/admin-validation.pipe';

const API_KEY = 'sk-ant-api03-ADMIN-API-SECRET-0123456789abcdef';

/** Plays the relay's tester; a plain (non-global) module, as the relay's will be. */
const tester = {
  result: {
    ok: true,
    status: 200,
    latencyMs: 12,
    model: 'claude-haiku-4-5',
    message: 'ok',
  } as AccountTestResult,
  seen: [] as RoutableAccount[],
};
const fakeTester: AccountTester = {
  test: async (account) => {
    tester.seen.push(account);
    return tester.result;
  },
};

@Module({ providers: [{ provide: ACCOUNT_TESTER, useValue: fakeTester }] })
class FakeRelayModule {}

async function createApp(withTester: boolean): Promise<INestApplication> {
  const config = new ConfigService(
    Object.assign(new EnvironmentSchema(), {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-accounts-admin-')),
      ENCRYPTION_KEY: 'admin-api-test-encryption-key-0123456789',
    }),
  );
  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(config),
      ScheduleModule.forRoot(),
      CryptoModule,
      DatabaseModule,
      CoordinationModule,
      SettingsModule,
      AccountsModule,
      OAuthModule,
      ...(withTester ? [FakeRelayModule] : []),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
  app.use('/admin/api', express.json());
  app.useGlobalPipes(adminValidationPipe());
  app.useGlobalFilters(new AdminExceptionFilter());
  await app.init();
  return app;
}

beforeAll(() => {
  setLogLevel(process.env.LOG_LEVEL ?? 'silent');
});

describe(AccountsController.name, () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp(true);
  });

  afterAll(async () => {
    await app.close();
  });

  const api = () => request(app.getHttpServer());

  async function createConsole(name: string, extra: Record<string, unknown> = {}): Promise<string> {
    const res = await api()
      .post('/admin/api/accounts')
      .send({ name, type: 'claude-console', credentials: { apiKey: API_KEY }, ...extra })
      .expect(201);
    return (res.body as { id: string }).id;
  }

  describe('module', () => {
    it('should register the OAuth token refresh job with the scheduler', () => {
      expect(app.get(SchedulerRegistry).getIntervals()).toHaveLength(1);
    });
  });

  describe('GET /admin/api/account-types', () => {
    it('should describe every account type with its fields, default base URL and capabilities', async () => {
      const res = await api().get('/admin/api/account-types').expect(200);
      const items = (res.body as { items: Record<string, unknown>[] }).items;

      expect(items.map((item) => item.type)).toEqual([
        'claude-oauth',
        'claude-console',
        'ccr',
        'openai',
        'codex-oauth',
        'azure-openai',
        'gemini-api',
        'gemini-oauth',
        'bedrock',
        'openai-compatible',
        'droid',
      ]);
      expect(items[0]).toEqual({
        type: 'claude-oauth',
        platform: 'claude',
        label: 'Claude subscription (OAuth)',
        provider: 'anthropic',
        credentialFields: [
          expect.objectContaining({
            name: 'accessToken',
            required: true,
            secret: true,
            kind: 'string',
          }),
          expect.objectContaining({
            name: 'refreshToken',
            required: false,
            secret: true,
            kind: 'string',
          }),
          expect.objectContaining({
            name: 'expiresAt',
            required: false,
            secret: false,
            kind: 'timestamp',
          }),
        ],
        supportsSubscription: true,
        hasRefresher: true,
        defaultBaseUrl: 'https://api.anthropic.com',
        defaultBaseUrlSetting: 'ANTHROPIC_BASE_URL',
        testModel: 'claude-haiku-4-5',
      });
      expect(items[1]).toMatchObject({
        type: 'claude-console',
        credentialFields: [
          { name: 'apiKey', required: true, secret: true, kind: 'string' },
          {
            name: 'authScheme',
            required: false,
            secret: false,
            kind: 'enum',
            values: ['x-api-key', 'bearer'],
          },
        ],
        supportsSubscription: false,
        hasRefresher: false,
      });
      // ccr forwards to another relay: no default, so creating one needs a baseUrl.
      expect(items[2]).toMatchObject({
        type: 'ccr',
        defaultBaseUrl: null,
        defaultBaseUrlSetting: null,
      });
    });
  });

  describe('POST /admin/api/accounts', () => {
    it('should create an account and answer without any secret', async () => {
      const res = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'created',
          type: 'claude-console',
          credentials: { apiKey: API_KEY },
          proxy: 'http://user:hunter2-proxy@127.0.0.1:3128',
          models: ['claude-sonnet-4-5'],
          concurrencyLimit: 4,
        })
        .expect(201);

      expect(JSON.stringify(res.body)).not.toContain(API_KEY);
      expect(JSON.stringify(res.body)).not.toContain('hunter2-proxy');
      expect(res.body).toMatchObject({
        name: 'created',
        credentials: { apiKeyHint: 'sk-ant-…cdef' },
        proxy: 'http://user:****@127.0.0.1:3128',
        concurrencyLimit: 4,
        routable: true,
      });
    });

    it('should answer 400 naming the field when the credentials do not fit the type', async () => {
      const res = await api()
        .post('/admin/api/accounts')
        .send({ name: 'bad', type: 'claude-oauth', credentials: { apiKey: API_KEY } })
        .expect(400);
      expect(res.body).toEqual({
        error: {
          code: 'INVALID_CREDENTIALS_SHAPE',
          message: expect.stringContaining('unexpected: apiKey'),
        },
      });
      expect(JSON.stringify(res.body)).not.toContain(API_KEY);
    });

    it('should answer 400 when the proxy is not http, https or socks5', async () => {
      const res = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'bad-proxy',
          type: 'claude-console',
          credentials: { apiKey: API_KEY },
          proxy: 'socks4://127.0.0.1:1080',
        })
        .expect(400);
      expect(res.body.error.code).toBe('INVALID_PROXY');
    });

    it('should answer 400 when the body has unknown or ill-typed fields', async () => {
      const unknown = await api()
        .post('/admin/api/accounts')
        .send({ name: 'x', type: 'claude-console', credentials: { apiKey: API_KEY }, color: 'red' })
        .expect(400);
      expect(unknown.body.error).toMatchObject({ code: 'VALIDATION_FAILED' });
      const weight = await api()
        .post('/admin/api/accounts')
        .send({ name: 'x', type: 'claude-console', credentials: { apiKey: API_KEY }, weight: 0 })
        .expect(400);
      expect(weight.body.error.message).toMatch(/weight must not be less than 1/);
    });

    it('should answer 409 when the name is taken', async () => {
      await createConsole('taken');
      const res = await api()
        .post('/admin/api/accounts')
        .send({ name: 'taken', type: 'claude-console', credentials: { apiKey: API_KEY } })
        .expect(409);
      expect(res.body.error.code).toBe('NAME_TAKEN');
    });
  });

  describe('GET /admin/api/accounts', () => {
    it('should filter and paginate from the query string', async () => {
      await createConsole('list-on', { priority: 1 });
      await createConsole('list-off', { priority: 1, enabled: false });

      const res = await api()
        .get('/admin/api/accounts')
        .query({ enabled: 'false', type: 'claude-console', page: 1, pageSize: 10 })
        .expect(200);

      expect(res.body).toMatchObject({ page: 1, pageSize: 10 });
      expect(res.body.items.map((a: { name: string }) => a.name)).toContain('list-off');
      expect(res.body.items.map((a: { name: string }) => a.name)).not.toContain('list-on');
      await api().get('/admin/api/accounts').query({ pageSize: 1000 }).expect(400);
    });

    it('should sort by a whitelisted field in either order and search the name', async () => {
      await createConsole('sort-b', { priority: 7 });
      await createConsole('sort-a', { priority: 9 });
      await createConsole('sort-c', { priority: 8 });
      const names = async (query: Record<string, string>): Promise<string[]> =>
        (await api().get('/admin/api/accounts').query(query).expect(200)).body.items.map(
          (a: { name: string }) => a.name,
        );

      expect(await names({ search: 'SORT-', sortBy: 'name' })).toEqual([
        'sort-a',
        'sort-b',
        'sort-c',
      ]);
      expect(await names({ search: 'sort-', sortBy: 'name', sortOrder: 'desc' })).toEqual([
        'sort-c',
        'sort-b',
        'sort-a',
      ]);
      expect(await names({ search: 'sort-', sortBy: 'priority', sortOrder: 'desc' })).toEqual([
        'sort-a',
        'sort-c',
        'sort-b',
      ]);
      const page = await api()
        .get('/admin/api/accounts')
        .query({ search: 'sort-', sortBy: 'name', page: 2, pageSize: 2 })
        .expect(200);
      expect(page.body).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(page.body.items.map((a: { name: string }) => a.name)).toEqual(['sort-c']);
      const refused = await api().get('/admin/api/accounts').query({ sortBy: 'credentials' });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('VALIDATION_FAILED');
      await api().get('/admin/api/accounts').query({ sortOrder: 'up' }).expect(400);
    });
  });

  describe('account lifecycle', () => {
    it('should update, disable, explain, reset, test and delete one account', async () => {
      const id = await createConsole('lifecycle');

      const patched = await api()
        .patch(`/admin/api/accounts/${id}`)
        .send({ priority: 7, models: { 'claude-sonnet-4-5': 'sonnet-upstream' } })
        .expect(200);
      expect(patched.body).toMatchObject({
        priority: 7,
        models: { 'claude-sonnet-4-5': 'sonnet-upstream' },
      });
      await api().patch(`/admin/api/accounts/${id}`).send({ type: 'ccr' }).expect(400);

      const disabled = await api().post(`/admin/api/accounts/${id}/disable`).expect(200);
      expect(disabled.body).toMatchObject({
        enabled: false,
        routable: false,
        notRoutableBecause: 'disabled by an admin',
      });
      await api().post(`/admin/api/accounts/${id}/enable`).expect(200);

      const detail = await api().get(`/admin/api/accounts/${id}`).expect(200);
      expect(detail.body).toMatchObject({
        routable: true,
        healthStates: [],
        recentHealthEvents: [],
      });

      const reset = await api().post(`/admin/api/accounts/${id}/reset-health`).expect(200);
      expect(reset.body.recentHealthEvents[0]).toMatchObject({
        state: 'ok',
        reason: 'reset by admin',
      });
      const history = await api()
        .get(`/admin/api/accounts/${id}/health-history`)
        .query({ limit: 5 })
        .expect(200);
      expect(history.body.items).toHaveLength(1);

      tester.result = {
        ok: false,
        status: 401,
        latencyMs: 30,
        model: 'claude-haiku-4-5',
        message: 'invalid x-api-key',
      };
      const tested = await api().post(`/admin/api/accounts/${id}/test`).expect(200);
      expect(tested.body).toEqual(tester.result);
      expect(tester.seen.at(-1)).toMatchObject({ id, credentials: { apiKey: API_KEY } });

      await api().delete(`/admin/api/accounts/${id}`).expect(204);
      const gone = await api().get(`/admin/api/accounts/${id}`).expect(404);
      expect(gone.body.error.code).toBe('ACCOUNT_NOT_FOUND');
    });
  });

  describe('PATCH /admin/api/accounts/:id (credentials and a new host)', () => {
    it('should refuse a base URL on another host without the key, so a test cannot send it there', async () => {
      const id = await createConsole('exfiltration-target');
      tester.seen.length = 0;

      const refused = await api()
        .patch(`/admin/api/accounts/${id}`)
        .send({ baseUrl: 'https://collector.example' })
        .expect(400);
      expect(refused.body.error).toEqual({
        code: 'CREDENTIALS_REQUIRED',
        message: expect.stringContaining('send credentials (apiKey, authScheme?) again'),
        details: { field: 'credentials', because: 'baseUrl' },
      });
      const insecure = await api()
        .patch(`/admin/api/accounts/${id}`)
        .send({ baseUrl: 'http://collector.example', credentials: { apiKey: 'sk-ant-other' } })
        .expect(400);
      expect(insecure.body.error).toMatchObject({
        code: 'UPSTREAM_NOT_ALLOWED',
        details: { field: 'baseUrl' },
      });
      await api().post(`/admin/api/accounts/${id}/test`).expect(200);

      expect(tester.seen).toHaveLength(1);
      expect(tester.seen[0]).toMatchObject({
        baseUrl: 'https://api.anthropic.com',
        credentials: { apiKey: API_KEY },
      });
    });
  });

  describe('POST /admin/api/accounts/:id/test', () => {
    it('should answer 503 with a clear message when no tester is loaded', async () => {
      const bare = await createApp(false);
      try {
        const res = await request(bare.getHttpServer())
          .post('/admin/api/accounts')
          .send({ name: 'untestable', type: 'claude-console', credentials: { apiKey: API_KEY } })
          .expect(201);
        const test = await request(bare.getHttpServer())
          .post(`/admin/api/accounts/${res.body.id}/test`)
          .expect(503);
        expect(test.body.error).toEqual({
          code: 'TESTER_UNAVAILABLE',
          message: expect.stringContaining('relay module'),
        });
      } finally {
        await bare.close();
      }
    });
  });

  describe(AccountGroupsController.name, () => {
    it('should create a group, set its members and delete it', async () => {
      const x = await createConsole('group-x');
      const y = await createConsole('group-y');

      const created = await api()
        .post('/admin/api/account-groups')
        .send({ name: 'team', platform: 'claude', accountIds: [x] })
        .expect(201);
      const groupId = created.body.id as string;
      const members = await api()
        .put(`/admin/api/account-groups/${groupId}/members`)
        .send({ accountIds: [y] })
        .expect(200);
      expect(members.body.accountIds).toEqual([y]);
      expect((await api().get(`/admin/api/accounts/${y}`)).body.groupIds).toEqual([groupId]);

      const listed = await api()
        .get('/admin/api/account-groups')
        .query({ platform: 'claude' })
        .expect(200);
      expect(listed.body.items.map((g: { name: string }) => g.name)).toContain('team');
      await api()
        .patch(`/admin/api/account-groups/${groupId}`)
        .send({ description: 'the team' })
        .expect(200);
      await api().delete(`/admin/api/account-groups/${groupId}`).expect(204);
      await api().get(`/admin/api/account-groups/${groupId}`).expect(404);
    });

    it('should search, sort and page the groups', async () => {
      for (const [name, description] of [
        ['pool-b', 'night shift'],
        ['pool-a', null],
        ['other', 'the NIGHT pool'],
      ] as const) {
        await api()
          .post('/admin/api/account-groups')
          .send({ name, platform: 'claude', description })
          .expect(201);
      }
      const names = async (query: Record<string, string | number>): Promise<string[]> => {
        const res = await api().get('/admin/api/account-groups').query(query).expect(200);
        return res.body.items.map((g: { name: string }) => g.name);
      };

      expect(await names({ search: 'pool' })).toEqual(['other', 'pool-a', 'pool-b']);
      expect(await names({ search: 'night', sortOrder: 'desc' })).toEqual(['pool-b', 'other']);
      expect(await names({ search: 'pool', platform: 'gemini' })).toEqual([]);
      const page = await api()
        .get('/admin/api/account-groups')
        .query({ search: 'pool', page: 2, pageSize: 2 })
        .expect(200);
      expect(page.body).toMatchObject({ total: 3, page: 2, pageSize: 2 });
      expect(page.body.items.map((g: { name: string }) => g.name)).toEqual(['pool-b']);
      await api().get('/admin/api/account-groups').query({ sortBy: 'platform' }).expect(400);
    });
  });
});

describe('switchyard accounts (CLI)', () => {
  let app: INestApplication;
  let out: string[];
  let err: string[];

  beforeAll(async () => {
    app = await createApp(true);
  });

  afterAll(async () => {
    await app.close();
  });

  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      out.push(String(chunk));
      return true;
    });
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      err.push(String(chunk));
      return true;
    });
  });

  afterEach(() => {
    jest.restoreAllMocks();
    process.exitCode = undefined;
  });

  async function cli(...args: string[]): Promise<number> {
    const program = new Command('switchyard').exitOverride();
    registerAccountsCommands(program, (fn) => fn(app));
    await program.parseAsync(['accounts', ...args], { from: 'user' });
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return code;
  }

  it('should add an account from flags and print it without the key', async () => {
    const code = await cli(
      'add',
      '--name',
      'cli-console',
      '--type',
      'claude-console',
      '--api-key',
      API_KEY,
      '--priority',
      '10',
      '--models',
      'claude-sonnet-4-5, claude-opus-*',
      '--proxy',
      'socks5://u:proxy-secret@127.0.0.1:1080',
      '--json',
    );

    expect(code).toBe(0);
    const printed = out.join('');
    expect(printed).not.toContain(API_KEY);
    expect(printed).not.toContain('proxy-secret');
    expect(JSON.parse(printed)).toMatchObject({
      name: 'cli-console',
      priority: 10,
      models: ['claude-sonnet-4-5', 'claude-opus-*'],
      proxy: 'socks5://u:****@127.0.0.1:1080',
    });
  });

  it('should fail with exit code 1 and a hint when the key is missing or a number is not one', async () => {
    expect(await cli('add', '--name', 'nokey', '--type', 'claude-console')).toBe(1);
    expect(err.join('')).toContain('--api-key, --api-key-stdin or --credentials-stdin');
    err.length = 0;
    expect(
      await cli(
        'add',
        '--name',
        'nan',
        '--type',
        'ccr',
        '--api-key',
        API_KEY,
        '--priority',
        'high',
      ),
    ).toBe(1);
    expect(err.join('')).toContain('priority must be an integer number');
  });

  it('should list, disable by name and show why the account is not routable', async () => {
    await cli('add', '--name', 'cli-listed', '--type', 'claude-console', '--api-key', API_KEY);
    out.length = 0;

    expect(await cli('disable', 'cli-listed')).toBe(0);
    expect(out.join('')).toMatch(/Account cli-listed \(.+\) disabled\./);
    out.length = 0;
    expect(await cli('list')).toBe(0);

    const line = out
      .join('')
      .split('\n')
      .find((l) => l.includes('cli-listed'));
    expect(line).toContain('disabled by an admin');
    expect(out.join('')).toMatch(/^ID\s+NAME\s+TYPE/);
  });

  it('should exit 1 when the account test fails and 0 when it passes', async () => {
    await cli('add', '--name', 'cli-tested', '--type', 'claude-console', '--api-key', API_KEY);
    out.length = 0;

    tester.result = {
      ok: false,
      status: 529,
      latencyMs: 40,
      model: 'claude-haiku-4-5',
      message: 'overloaded',
    };
    expect(await cli('test', 'cli-tested')).toBe(1);
    expect(out.join('')).toContain('FAIL  529  40 ms  claude-haiku-4-5  overloaded');

    tester.result = {
      ok: true,
      status: 200,
      latencyMs: 25,
      model: 'claude-haiku-4-5',
      message: 'ok',
    };
    expect(await cli('test', 'cli-tested')).toBe(0);
    expect(await cli('test', 'no-such-account')).toBe(1);
    expect(err.join('')).toContain('no account has the id or name "no-such-account"');
  });

  describe(buildCreateInput.name, () => {
    it("should take OAuth tokens and the plan from Claude Code's credentials file", () => {
      const file = JSON.stringify({
        claudeAiOauth: {
          accessToken: 'at',
          refreshToken: 'rt',
          expiresAt: 1_900_000_000_000,
          scopes: ['user:inference'],
          subscriptionType: 'max',
        },
      });
      expect(
        buildCreateInput({ name: 'cc', type: 'claude-oauth', credentialsStdin: true }, file),
      ).toEqual({
        name: 'cc',
        type: 'claude-oauth',
        credentials: { accessToken: 'at', refreshToken: 'rt', expiresAt: 1_900_000_000_000 },
        subscription: { plan: 'max', scopes: ['user:inference'] },
      });
    });

    it('should read the API key from stdin and a model mapping from pairs', () => {
      expect(
        buildCreateInput(
          {
            name: 'k',
            type: 'ccr',
            apiKeyStdin: true,
            baseUrl: 'https://r.example',
            modelMap: 'a=b, c=d',
          },
          `${API_KEY}\n`,
        ),
      ).toEqual({
        name: 'k',
        type: 'ccr',
        credentials: { apiKey: API_KEY },
        baseUrl: 'https://r.example',
        models: { a: 'b', c: 'd' },
      });
      expect(() =>
        buildCreateInput({ name: 'k', type: 'ccr', apiKey: 'x', models: 'a', modelMap: 'a=b' }),
      ).toThrow('use either --models or --model-map, not both');
    });

    it("should take the credential flags of the type's fields and name the missing ones", () => {
      expect(
        buildCreateInput({
          name: 'o',
          type: 'claude-oauth',
          accessToken: 'at',
          refreshToken: 'rt',
          expiresAt: '2030-01-01T00:00:00Z',
        }),
      ).toEqual({
        name: 'o',
        type: 'claude-oauth',
        credentials: { accessToken: 'at', refreshToken: 'rt', expiresAt: '2030-01-01T00:00:00Z' },
      });
      expect(() =>
        buildCreateInput({ name: 'o', type: 'claude-oauth', refreshToken: 'rt' }),
      ).toThrow(
        'claude-oauth accounts need --access-token or --credentials-stdin ' +
          '(optional: --refresh-token, --expires-at)',
      );
      expect(() =>
        buildCreateInput({ name: 'o', type: 'claude-oauth', apiKeyStdin: true }, 'k'),
      ).toThrow('claude-oauth accounts have no API key: --api-key-stdin does not apply');
      expect(() => buildCreateInput({ name: 'o', type: 'vertex', apiKey: 'k' })).toThrow(
        '--type must be one of claude-oauth, claude-console, ccr, openai, codex-oauth, ' +
          'azure-openai, gemini-api, gemini-oauth',
      );
    });
  });
});
