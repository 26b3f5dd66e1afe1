import { type INestApplication } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
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
import { registerAccountsCommands } from 'src/cli/accounts.command';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import { OAuthModule } from 'src/modules/oauth/oauth.module';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { adminValidationPipe } from 'src/common/http/admin-validation.pipe';

/**
 * The OpenAI-family account types through the admin API and the CLI: created, read back masked,
 * listed by GET /admin/api/account-types, with Codex's ID-token facts and usage windows.
 */

const OPENAI_KEY = 'sk-proj-OPENAI-SECRET-0123456789abcdefWXYZ';
const AZURE_KEY = 'AZURE-SECRET-0123456789abcdef0123456789';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}
const AUTH = 'https://api.openai.com/auth';
const EXP = 1_900_000_000;
const ACCESS_TOKEN = jwt({ exp: EXP, marker: 'ACCESS-SECRET' });
const ID_TOKEN = jwt({
  email: 'dev@example.com',
  [AUTH]: { chatgpt_plan_type: 'plus', chatgpt_account_id: 'ws-0f6c3a9e' },
  marker: 'ID-SECRET',
});
const SECRETS = ['OPENAI-SECRET', 'AZURE-SECRET', 'ACCESS-SECRET', 'ID-SECRET', 'REFRESH-SECRET'];

function expectNoSecret(body: unknown): void {
  const text = JSON.stringify(body);
  for (const secret of SECRETS) expect([secret, text.includes(secret)]).toEqual([secret, false]);
  expect(text).not.toContain(ACCESS_TOKEN);
  expect(text).not.toContain(ID_TOKEN);
}

async function createApp(): Promise<INestApplication> {
  const config = new ConfigService(
    Object.assign(new EnvironmentSchema(), {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-openai-types-')),
      ENCRYPTION_KEY: 'openai-types-test-encryption-key-0123456789',
      // An allowlist that names none of the defaults: the operator's own origins still pass.
      UPSTREAM_HOST_ALLOWLIST: '*.openai.azure.com',
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
      // Boots only while every descriptor's hasRefresher matches a registered refresher.
      OAuthModule,
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

describe('OpenAI-family account types (admin API)', () => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await createApp();
  });

  afterAll(async () => {
    await app.close();
  });

  const api = () => request(app.getHttpServer());

  describe('GET /admin/api/account-types', () => {
    it('should list the three types with their fields, defaults and providers', async () => {
      const res = await api().get('/admin/api/account-types').expect(200);
      const byType = new Map(
        (res.body as { items: { type: string }[] }).items.map((item) => [item.type, item]),
      );

      expect(byType.get('openai')).toEqual({
        type: 'openai',
        platform: 'openai',
        label: 'OpenAI API (API key)',
        provider: 'openai',
        credentialFields: [
          expect.objectContaining({ name: 'apiKey', required: true, secret: true, kind: 'string' }),
          expect.objectContaining({ name: 'organization', required: false, secret: false }),
          expect.objectContaining({ name: 'project', required: false, secret: false }),
        ],
        supportsSubscription: false,
        hasRefresher: false,
        defaultBaseUrl: 'https://api.openai.com/v1',
        defaultBaseUrlSetting: 'OPENAI_BASE_URL',
        testModel: 'gpt-4.1-mini',
      });
      expect(byType.get('codex-oauth')).toMatchObject({
        platform: 'openai',
        provider: 'codex',
        credentialFields: [
          { name: 'accessToken', required: true, secret: true },
          { name: 'refreshToken', required: false, secret: true },
          { name: 'idToken', required: false, secret: true },
          { name: 'accountId', required: false, secret: false },
          { name: 'expiresAt', required: false, secret: false, kind: 'timestamp' },
        ],
        supportsSubscription: true,
        defaultBaseUrl: 'https://chatgpt.com/backend-api/codex',
        defaultBaseUrlSetting: 'CODEX_BASE_URL',
      });
      expect(byType.get('azure-openai')).toMatchObject({
        platform: 'openai',
        provider: 'azure-openai',
        credentialFields: [
          { name: 'apiKey', required: false, secret: true },
          { name: 'entraToken', required: false, secret: true },
          { name: 'apiVersion', required: false, secret: false, kind: 'string' },
          { name: 'urlShape', kind: 'enum', values: ['v1', 'deployments'] },
          { name: 'deployments', required: false, secret: false, kind: 'map' },
        ],
        defaultBaseUrl: null,
        defaultBaseUrlSetting: null,
      });
    });
  });

  describe('openai', () => {
    it('should create an account on the default base URL and read it back masked', async () => {
      const created = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'openai-1',
          type: 'openai',
          credentials: { apiKey: OPENAI_KEY, organization: 'org-abc', project: 'proj_123' },
        })
        .expect(201);
      expectNoSecret(created.body);
      const read = await api().get(`/admin/api/accounts/${created.body.id}`).expect(200);
      expectNoSecret(read.body);
      expect(read.body).toMatchObject({
        platform: 'openai',
        type: 'openai',
        baseUrl: null,
        effectiveBaseUrl: 'https://api.openai.com/v1',
        credentials: {
          type: 'openai',
          readable: true,
          apiKeyHint: 'sk-proj…WXYZ',
          organization: 'org-abc',
          project: 'proj_123',
        },
        routable: true,
        usageWindows: [],
      });
      // The relay sees the decrypted key.
      const routable = await app.get(AccountsService).routableAccount(created.body.id);
      expect(routable.credentials).toEqual({
        type: 'openai',
        apiKey: OPENAI_KEY,
        organization: 'org-abc',
        project: 'proj_123',
      });
    });

    it('should answer 400 naming the field, and refuse subscription facts', async () => {
      const missing = await api()
        .post('/admin/api/accounts')
        .send({ name: 'openai-bad', type: 'openai', credentials: { organization: 'org-1' } })
        .expect(400);
      expect(missing.body.error).toEqual({
        code: 'INVALID_CREDENTIALS_SHAPE',
        message: 'credentials.apiKey is required for openai accounts',
      });
      const subscription = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'openai-sub',
          type: 'openai',
          credentials: { apiKey: OPENAI_KEY },
          subscription: { plan: 'pro' },
        })
        .expect(400);
      expect(subscription.body.error.message).toBe(
        'subscription applies to claude-oauth, codex-oauth, gemini-oauth accounts only',
      );
    });
  });

  describe('codex-oauth', () => {
    it('should fill accountId, plan and email from the ID token and read it back masked', async () => {
      const created = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'codex-1',
          type: 'codex-oauth',
          credentials: {
            accessToken: ACCESS_TOKEN,
            refreshToken: 'rt-REFRESH-SECRET-0123456789',
            idToken: ID_TOKEN,
          },
        })
        .expect(201);
      expectNoSecret(created.body);
      expect(created.body).toMatchObject({
        platform: 'openai',
        effectiveBaseUrl: 'https://chatgpt.com/backend-api/codex',
        credentials: {
          type: 'codex-oauth',
          readable: true,
          hasRefreshToken: true,
          hasIdToken: true,
          accountId: 'ws-0f6c3a9e',
          expiresAt: new Date(EXP * 1000).toISOString(),
        },
        subscription: { plan: 'plus', email: 'dev@example.com' },
      });
    });

    it('should let given subscription facts win, and refresh the plan when a new ID token comes', async () => {
      const created = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'codex-2',
          type: 'codex-oauth',
          credentials: { accessToken: ACCESS_TOKEN, idToken: ID_TOKEN },
          subscription: { plan: 'team', organizationName: 'Acme' },
        })
        .expect(201);
      expect(created.body.subscription).toEqual({
        plan: 'team',
        email: 'dev@example.com',
        organizationName: 'Acme',
      });

      const upgraded = jwt({
        email: 'dev@example.com',
        [AUTH]: { chatgpt_plan_type: 'pro', chatgpt_account_id: 'ws-0f6c3a9e' },
      });
      const patched = await api()
        .patch(`/admin/api/accounts/${created.body.id}`)
        .send({ credentials: { idToken: upgraded } })
        .expect(200);
      expect(patched.body.subscription).toEqual({
        plan: 'pro',
        email: 'dev@example.com',
        organizationName: 'Acme',
      });
    });

    it('should answer 400 when nothing names the ChatGPT account', async () => {
      const res = await api()
        .post('/admin/api/accounts')
        .send({ name: 'codex-bad', type: 'codex-oauth', credentials: { accessToken: 'opaque' } })
        .expect(400);
      expect(res.body.error).toEqual({
        code: 'INVALID_CREDENTIALS_SHAPE',
        message: expect.stringContaining('credentials.accountId is required'),
      });
    });

    it('should show the usage windows its latest response reported', async () => {
      const created = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'codex-usage',
          type: 'codex-oauth',
          credentials: { accessToken: 'opaque-token', accountId: 'ws-1' },
        })
        .expect(201);
      const account = await app.get(AccountsService).routableAccount(created.body.id);
      const reset = Math.floor(Date.now() / 1000) + 3600;
      app.get(AccountHealthService).observeResponse(account, {
        'x-codex-primary-used-percent': '42.5',
        'x-codex-primary-window-minutes': '300',
        'x-codex-primary-reset-at': String(reset),
        'x-codex-secondary-used-percent': '7',
        'x-codex-secondary-window-minutes': '10080',
        'x-codex-secondary-reset-after-seconds': '86400',
      });

      const read = await api().get(`/admin/api/accounts/${created.body.id}`).expect(200);
      expect(read.body.usageWindows).toEqual([
        {
          name: '5h',
          usedPercent: 42.5,
          resetsAt: new Date(reset * 1000).toISOString(),
          windowMinutes: 300,
        },
        { name: 'weekly', usedPercent: 7, resetsAt: expect.any(String), windowMinutes: 10_080 },
      ]);
      const listed = await api().get('/admin/api/accounts').query({ type: 'codex-oauth' });
      const item = (listed.body.items as { name: string; usageWindows: unknown[] }[]).find(
        (a) => a.name === 'codex-usage',
      );
      expect(item?.usageWindows).toHaveLength(2);
    });
  });

  describe('azure-openai', () => {
    it('should need a base URL and take the endpoint without the /openai path', async () => {
      const noBase = await api()
        .post('/admin/api/accounts')
        .send({ name: 'azure-bad', type: 'azure-openai', credentials: { apiKey: AZURE_KEY } })
        .expect(400);
      expect(noBase.body.error).toEqual({
        code: 'INVALID_BASE_URL',
        message: 'azure-openai accounts have no default upstream: baseUrl is required',
      });
      const withPath = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'azure-bad',
          type: 'azure-openai',
          baseUrl: 'https://my-resource.openai.azure.com/openai/v1',
          credentials: { apiKey: AZURE_KEY },
        })
        .expect(400);
      expect(withPath.body.error.code).toBe('INVALID_BASE_URL');
      expect(withPath.body.error.message).toContain('resource endpoint without /openai');
    });

    it('should create an account with its URL settings and read it back masked', async () => {
      const created = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'azure-1',
          type: 'azure-openai',
          baseUrl: 'https://my-resource.openai.azure.com/',
          credentials: {
            apiKey: AZURE_KEY,
            urlShape: 'deployments',
            deployments: { 'gpt-4o': 'prod-4o' },
          },
        })
        .expect(201);
      expectNoSecret(created.body);
      const read = await api().get(`/admin/api/accounts/${created.body.id}`).expect(200);
      expectNoSecret(read.body);
      expect(read.body).toMatchObject({
        platform: 'openai',
        baseUrl: 'https://my-resource.openai.azure.com',
        credentials: {
          type: 'azure-openai',
          auth: 'api-key',
          apiKeyHint: 'AZURE-S…6789',
          entraTokenHint: null,
          urlShape: 'deployments',
          apiVersion: '2024-10-21',
          deployments: { 'gpt-4o': 'prod-4o' },
        },
      });

      // Switching to a token: the key goes (null removes a field), the token comes.
      const patched = await api()
        .patch(`/admin/api/accounts/${created.body.id}`)
        .send({ credentials: { apiKey: null, entraToken: 'eyJ0eXAi.entra-token-0123456789' } })
        .expect(200);
      expect(patched.body.credentials).toMatchObject({
        auth: 'entra-token',
        apiKeyHint: null,
        deployments: { 'gpt-4o': 'prod-4o' },
      });
    });

    it('should refuse a host outside the allowlist, unlike the operator-configured defaults', async () => {
      const res = await api()
        .post('/admin/api/accounts')
        .send({
          name: 'azure-elsewhere',
          type: 'azure-openai',
          baseUrl: 'https://collector.example',
          credentials: { apiKey: AZURE_KEY },
        })
        .expect(400);
      expect(res.body.error.code).toBe('UPSTREAM_NOT_ALLOWED');
    });
  });
});

describe('switchyard accounts add (OpenAI-family types)', () => {
  let app: INestApplication;
  let out: string[];
  let err: string[];

  beforeAll(async () => {
    app = await createApp();
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

  it('should add an openai account from --api-key, --organization and --project', async () => {
    const code = await cli(
      'add',
      '--name',
      'cli-openai',
      '--type',
      'openai',
      '--api-key',
      OPENAI_KEY,
      '--organization',
      'org-abc',
      '--project',
      'proj_123',
    );
    expect([code, err.join('')]).toEqual([0, '']);
    const printed = out.join('');
    expect(printed).not.toContain(OPENAI_KEY);
    expect(printed).toContain('type:        openai');
    expect(printed).toContain('https://api.openai.com/v1 (default)');
    expect(printed).toContain('key sk-proj…WXYZ');
  });

  it('should add a codex-oauth account from its token flags', async () => {
    const code = await cli(
      'add',
      '--name',
      'cli-codex',
      '--type',
      'codex-oauth',
      '--access-token',
      ACCESS_TOKEN,
      '--id-token',
      ID_TOKEN,
      '--json',
    );
    expect([code, err.join('')]).toEqual([0, '']);
    const printed = JSON.parse(out.join(''));
    expectNoSecret(printed);
    expect(printed).toMatchObject({
      credentials: { accountId: 'ws-0f6c3a9e', hasIdToken: true },
      subscription: { plan: 'plus' },
    });
  });

  it('should add an azure-openai account with --deployments pairs and --url-shape', async () => {
    const code = await cli(
      'add',
      '--name',
      'cli-azure',
      '--type',
      'azure-openai',
      '--base-url',
      'https://my-resource.openai.azure.com',
      '--api-key',
      AZURE_KEY,
      '--url-shape',
      'deployments',
      '--api-version',
      '2025-04-01-preview',
      '--deployments',
      'gpt-4o=prod-4o, gpt-4.1-mini=mini',
      '--json',
    );
    expect([code, err.join('')]).toEqual([0, '']);
    expect(JSON.parse(out.join('')).credentials).toMatchObject({
      urlShape: 'deployments',
      apiVersion: '2025-04-01-preview',
      deployments: { 'gpt-4o': 'prod-4o', 'gpt-4.1-mini': 'mini' },
    });
  });

  it('should list the usage windows an account last reported', async () => {
    await cli(
      'add',
      '--name',
      'cli-codex-usage',
      '--type',
      'codex-oauth',
      '--access-token',
      'opaque-token',
      '--account-id',
      'ws-2',
    );
    const id = (await app.get(AccountsService).resolve('cli-codex-usage')).id;
    app
      .get(AccountHealthService)
      .observeResponse(await app.get(AccountsService).routableAccount(id), {
        'x-codex-primary-used-percent': '42',
        'x-codex-primary-window-minutes': '300',
        'x-codex-primary-reset-after-seconds': '600',
      });
    out.length = 0;
    expect(await cli('list')).toBe(0);
    const lines = out.join('').split('\n');
    expect(lines[0]).toMatch(/ENABLED\s+USAGE\s+HEALTH/);
    expect(lines.find((l) => l.includes('cli-codex-usage'))).toMatch(/yes\s+5h 42%\s+ok/);
    expect(lines.find((l) => l.includes('cli-openai'))).toMatch(/yes\s+-\s+ok/);
  });

  it('should exit 1 with the reason when the flags do not fit the type', async () => {
    expect(await cli('add', '--name', 'x', '--type', 'openai')).toBe(1);
    expect(err.join('')).toContain(
      'openai accounts need --api-key, --api-key-stdin or --credentials-stdin (optional: --organization, --project)',
    );
    err.length = 0;
    expect(
      await cli(
        'add',
        '--name',
        'y',
        '--type',
        'azure-openai',
        '--base-url',
        'https://r.openai.azure.com',
        '--api-key',
        AZURE_KEY,
        '--deployments',
        'gpt-4o',
      ),
    ).toBe(1);
    expect(err.join('')).toContain('--deployments expects from=to pairs, got "gpt-4o"');
    err.length = 0;
    expect(
      await cli(
        'add',
        '--name',
        'z',
        '--type',
        'azure-openai',
        '--base-url',
        'https://r.openai.azure.com',
      ),
    ).toBe(1);
    expect(err.join('')).toContain('need exactly one of apiKey and entraToken');
  });
});
