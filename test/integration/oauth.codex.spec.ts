import type { INestApplication } from '@nestjs/common';
import { Command } from 'commander';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { registerCodexAccountCommands } from 'src/cli/accounts-codex.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountGroupsRepository } from 'src/modules/accounts/account-groups.repository';
import { AccountHealthEventsRepository } from 'src/modules/accounts/account-health-events.repository';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import { ClaudeOAuthRefresher } from 'src/modules/oauth/claude/claude-oauth-refresher';
import {
  CODEX_OAUTH_TYPE,
  codexCredentialsOf,
} from 'src/modules/oauth/codex/codex-oauth.credentials';
import { CodexOAuthRefresher } from 'src/modules/oauth/codex/codex-oauth-refresher';
import { CodexTokenClient } from 'src/modules/oauth/codex/codex-token.client';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { createAccountsAdminApp } from '../factories/admin-app.factory';
import { captureCliOutput, runAccountsCli } from '../factories/cli.factory';
import { FakeCodexAuth, fakeJwt } from '../support/fake-codex-auth';
import { startHttpProxy, type LocalProxy } from '../support/proxies';
import { describeWithRedis } from '../support/services';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const CLIENT_ID = 'app_test_codex_client';
const ENCRYPTION_KEY = 'codex-oauth-test-encryption-key-0123456789';

interface ErrorBody {
  error: { code: string; message: string };
}

function environment(auth: FakeCodexAuth, extra: Partial<EnvironmentSchema> = {}) {
  return Object.assign(new EnvironmentSchema(), {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-codex-oauth-')),
    ENCRYPTION_KEY,
    CODEX_OAUTH_TOKEN_URL: auth.tokenUrl,
    CODEX_OAUTH_AUTHORIZE_URL: auth.authorizeUrl,
    CODEX_OAUTH_CLIENT_ID: CLIENT_ID,
    ...extra,
  });
}

/** The admin API's accounts and oauth modules, as accounts.admin.spec.ts builds them. */
function createApp(env: EnvironmentSchema): Promise<INestApplication> {
  return createAccountsAdminApp(env);
}

interface Started {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: string;
}

beforeAll(() => {
  setLogLevel(process.env.LOG_LEVEL ?? 'silent');
});

describe('Codex OAuth login (admin API)', () => {
  let auth: FakeCodexAuth;
  let app: INestApplication;

  beforeAll(async () => {
    auth = new FakeCodexAuth(CLIENT_ID);
    await auth.start();
    app = await createApp(environment(auth));
  });

  afterAll(async () => {
    await app.close();
    await auth.stop();
  });

  const api = () => request(app.getHttpServer());

  async function authorize(): Promise<Started> {
    const res = await api().post('/admin/api/oauth/codex/authorize').expect(200);
    return res.body as Started;
  }

  async function decrypted(id: string) {
    const account = await app.get(AccountsService).routableAccount(id);
    return { account, credentials: codexCredentialsOf(account.credentials) };
  }

  it('should create a codex-oauth account from the pasted callback URL, tokens sealed and facts shown', async () => {
    const started = await authorize();
    expect(started.redirectUri).toBe('http://localhost:1455/auth/callback');
    expect(started.authorizeUrl.startsWith(`${auth.authorizeUrl}?`)).toBe(true);

    // The admin signs in; the browser lands on the redirect URI, and the admin copies that URL.
    const callbackUrl = await auth.signIn(started.authorizeUrl);
    expect(callbackUrl.startsWith('http://localhost:1455/auth/callback?code=')).toBe(true);
    const res = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: started.state, callbackUrl })
      .expect(200);

    const body = res.body as AccountResponseDto;
    expect(body).toMatchObject({
      name: 'dev@example.com',
      type: 'codex-oauth',
      platform: 'openai',
      status: 'active',
      subscription: {
        plan: 'pro',
        email: 'dev@example.com',
        accountUuid: 'user-0001',
        organizationUuid: 'acct-0001',
      },
      credentials: { type: 'codex-oauth', readable: true, hasRefreshToken: true },
    });
    // The code went with the verifier whose S256 challenge the authorize URL carried.
    const exchange = auth.tokenCalls.at(-1)!;
    expect(exchange.contentType).toBe('application/x-www-form-urlencoded');
    expect(exchange.body).toMatchObject({
      grant_type: 'authorization_code',
      client_id: CLIENT_ID,
      redirect_uri: 'http://localhost:1455/auth/callback',
      code: new URL(callbackUrl).searchParams.get('code'),
    });
    const challenge = new URL(started.authorizeUrl).searchParams.get('code_challenge');
    expect(
      createHash('sha256').update(String(exchange.body.code_verifier)).digest('base64url'),
    ).toBe(challenge);

    const { credentials } = await decrypted(body.id);
    expect(credentials).toMatchObject({
      type: 'codex-oauth',
      accountId: 'acct-0001',
      refreshToken: expect.stringMatching(/^rt_fake_/),
    });
    expect(credentials!.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
    const printed = JSON.stringify(body);
    expect(printed).not.toContain(credentials!.accessToken);
    expect(printed).not.toContain(credentials!.refreshToken);

    // A login is finished once.
    const again = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: started.state, callbackUrl })
      .expect(400);
    expect((again.body as ErrorBody).error.code).toBe('CODEX_LOGIN_NOT_FOUND');
  });

  it('should exchange a bare code through the new account’s proxy and name it as asked', async () => {
    const proxy: LocalProxy = await startHttpProxy();
    try {
      const started = await authorize();
      const code = new URL(await auth.signIn(started.authorizeUrl)).searchParams.get('code');

      const res = await api()
        .post('/admin/api/oauth/codex/exchange')
        .send({ state: started.state, code, name: 'codex-team', proxy: proxy.url })
        .expect(200);

      expect(res.body).toMatchObject({ name: 'codex-team', type: 'codex-oauth' });
      expect(proxy.targets).toContain(new URL(auth.tokenUrl).host);
      expect((await decrypted((res.body as AccountResponseDto).id)).account.proxyUrl).toBe(
        proxy.url,
      );
    } finally {
      await proxy.close();
    }
  });

  it('should answer clear 400s for an unknown state, another login’s URL and a refused code', async () => {
    const unknown = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: randomBytes(32).toString('base64url'), code: 'ac_x' })
      .expect(400);
    expect((unknown.body as ErrorBody).error.code).toBe('CODEX_LOGIN_NOT_FOUND');

    const first = await authorize();
    const second = await authorize();
    const secondUrl = await auth.signIn(second.authorizeUrl);
    const mismatch = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: first.state, callbackUrl: secondUrl })
      .expect(400);
    expect((mismatch.body as ErrorBody).error.code).toBe('CODEX_LOGIN_STATE_MISMATCH');

    // A code the authorization server did not issue for this login (here: for no login).
    const refused = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: first.state, code: 'ac_forged' })
      .expect(400);
    expect((refused.body as ErrorBody).error).toMatchObject({
      code: 'CODEX_TOKEN_EXCHANGE_REFUSED',
      message: expect.stringContaining('invalid_grant: Invalid authorization code'),
    });
    // The login survives a refused code: the right one still finishes it.
    const rightCode = new URL(await auth.signIn(first.authorizeUrl)).searchParams.get('code');
    await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: first.state, code: rightCode, name: 'after-a-typo' })
      .expect(200);

    const invalid = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({ code: 'ac_x' })
      .expect(400);
    expect((invalid.body as ErrorBody).error.code).toBe('VALIDATION_FAILED');
  });

  it('should replace the credentials of an existing account and make it active again', async () => {
    const started = await authorize();
    const created = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({
        state: started.state,
        callbackUrl: await auth.signIn(started.authorizeUrl),
        name: 'relogin',
      })
      .expect(200);
    const id = (created.body as AccountResponseDto).id;
    const before = (await decrypted(id)).credentials!;
    const { account } = await decrypted(id);
    await app.get(AccountHealthService).markStatus(account, 'auth_failed', 'token refresh refused');

    const again = await authorize();
    const res = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({
        state: again.state,
        callbackUrl: await auth.signIn(again.authorizeUrl),
        accountId: 'relogin',
      })
      .expect(200);

    expect(res.body).toMatchObject({ id, name: 'relogin', status: 'active' });
    const after = (await decrypted(id)).credentials!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);

    const consoleAccount = await api()
      .post('/admin/api/accounts')
      .send({
        name: 'a-console',
        type: 'claude-console',
        credentials: { apiKey: 'sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123' },
      })
      .expect(201);
    const third = await authorize();
    const wrong = await api()
      .post('/admin/api/oauth/codex/exchange')
      .send({
        state: third.state,
        code: 'ac_unused',
        accountId: (consoleAccount.body as { id: string }).id,
      })
      .expect(400);
    expect((wrong.body as ErrorBody).error.code).toBe('CODEX_NOT_A_CODEX_ACCOUNT');
  });
});

describeWithRedis('Codex OAuth login across instances', (redisUrl) => {
  let auth: FakeCodexAuth;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    auth = new FakeCodexAuth(CLIENT_ID);
    await auth.start();
    const env = environment(auth, {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `sytest:${randomBytes(6).toString('hex')}:`,
    });
    // Two instances on one database and one Redis.
    apps.push(await createApp(env), await createApp(env));
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.close();
    await auth.stop();
  });

  it('should finish on one instance a login started on another', async () => {
    const [a, b] = apps as [INestApplication, INestApplication];
    const started = (
      await request(a.getHttpServer()).post('/admin/api/oauth/codex/authorize').expect(200)
    ).body as Started;

    const res = await request(b.getHttpServer())
      .post('/admin/api/oauth/codex/exchange')
      .send({ state: started.state, callbackUrl: await auth.signIn(started.authorizeUrl) })
      .expect(200);

    expect(res.body).toMatchObject({ type: 'codex-oauth', name: 'dev@example.com' });
  });
});

describe(CodexOAuthRefresher.name, () => {
  let auth: FakeCodexAuth;
  let db: Db;
  let store: LocalCoordinatorStore;
  const closers: (() => Promise<void>)[] = [];

  async function instance(name: string, notifications?: NotificationOutbox) {
    const coordinator = new LocalCoordinator({ instanceId: name, store });
    const config = new ConfigService(environment(auth));
    const codec = new AccountCodec(new SecretBox(ENCRYPTION_KEY), config);
    const accountsRepository = new AccountsRepository(db);
    const pool = new AccountPool(accountsRepository, codec, coordinator, { reloadDebounceMs: 10 });
    const health = new AccountHealthService(
      pool,
      accountsRepository,
      new AccountHealthEventsRepository(db),
      config,
      new FixedRuntimeSettings(config.env),
      coordinator,
    );
    const accounts = new AccountsService(
      accountsRepository,
      new AccountGroupsRepository(db),
      codec,
      pool,
      health,
      coordinator,
    );
    const refresher = new CodexOAuthRefresher(
      pool,
      accountsRepository,
      codec,
      health,
      new CodexTokenClient(config),
      coordinator,
      { lockPollMs: 20 },
      notifications,
    );
    await pool.onModuleInit();
    await health.onModuleInit();
    closers.push(async () => {
      await refresher.onModuleDestroy();
      await health.onModuleDestroy();
      await pool.onModuleDestroy();
      await coordinator.close();
    });
    return { pool, health, accounts, refresher, codec, config, accountsRepository };
  }

  type Instance = Awaited<ReturnType<typeof instance>>;

  /**
   * A codex-oauth account holding a login of the fake whose access token expires in
   * `ttlSeconds` (its JWT exp and expiresAt agree, as the real descriptor derives one from the
   * other); later logins and refreshes get the usual hour.
   */
  async function codexAccount(on: Instance, name: string, ttlSeconds: number): Promise<string> {
    auth.accessTtlSeconds = ttlSeconds;
    const tokens = auth.issueTokens();
    auth.accessTtlSeconds = 3600;
    const expiresAt = Date.now() + ttlSeconds * 1000;
    const created = await on.accounts.create({
      name,
      type: CODEX_OAUTH_TYPE,
      credentials: {
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        idToken: tokens.id_token,
        accountId: 'acct-0001',
        expiresAt,
      },
    });
    await on.pool.reload();
    return created.id;
  }

  async function stored(on: Instance, id: string) {
    const record = (await on.accountsRepository.findById(id))!;
    const opened = on.codec.openCredentials(record);
    return { record, credentials: opened === null ? null : codexCredentialsOf(opened) };
  }

  beforeEach(async () => {
    auth = new FakeCodexAuth(CLIENT_ID);
    await auth.start();
    db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    store = new LocalCoordinatorStore();
  });

  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
    await db.destroy();
    await auth.stop();
  });

  describe('runRefreshJob', () => {
    it('should refresh ahead of expiry as Codex does, rotate the tokens and store them sealed', async () => {
      const a = await instance('a');
      const due = await codexAccount(a, 'due', 60);
      const later = await codexAccount(a, 'later', 3600);
      const oldRefresh = (await stored(a, due)).credentials!.refreshToken;
      auth.identity = { ...auth.identity, plan: 'team' };

      const summary = await a.refresher.runRefreshJob();

      expect(summary).toEqual({ refreshed: [due], failed: [] });
      expect(auth.tokenCalls).toEqual([
        {
          contentType: 'application/json',
          body: { client_id: CLIENT_ID, grant_type: 'refresh_token', refresh_token: oldRefresh },
        },
      ]);
      const inPool = codexCredentialsOf(a.pool.get(due)!.credentials)!;
      const { record, credentials } = await stored(a, due);
      expect(credentials).toEqual(inPool);
      expect(credentials!.refreshToken).not.toBe(oldRefresh);
      expect(credentials!.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
      expect(record.credentials).not.toContain(credentials!.refreshToken);
      expect(JSON.parse(record.subscription!)).toMatchObject({ plan: 'team' });
      expect(codexCredentialsOf(a.pool.get(later)!.credentials)!.refreshToken).toMatch(
        /^rt_fake_2_/,
      );
    });

    it('should mark an account auth_failed when its refresh is refused', async () => {
      const a = await instance('a');
      const id = await codexAccount(a, 'revoked', 60);
      auth.refreshFailure = {
        status: 401,
        body: { error: { code: 'refresh_token_invalidated', message: 'revoked' } },
      };

      const summary = await a.refresher.runRefreshJob();

      expect(summary).toEqual({ refreshed: [], failed: [id] });
      expect(a.pool.get(id)).toMatchObject({
        status: 'auth_failed',
        statusReason: expect.stringContaining('refresh_token_invalidated'),
      });
      expect((await stored(a, id)).record.status).toBe('auth_failed');
    });

    it('should leave the account alone when the endpoint is down (worth another try)', async () => {
      const a = await instance('a');
      const id = await codexAccount(a, 'soon', 60);
      auth.refreshFailure = { status: 503, body: { error: 'temporarily_unavailable' } };

      const summary = await a.refresher.runRefreshJob();

      expect(summary).toEqual({ refreshed: [], failed: [id] });
      expect(a.pool.get(id)!.status).toBe('active');
      await expect(a.refresher.refreshWithResult(id)).resolves.toMatchObject({
        ok: false,
        reason: 'unavailable',
        status: 503,
      });
    });
  });

  describe('account.refresh_failed', () => {
    it('should store one event for a burst of failed refreshes on two instances', async () => {
      const outbox = new OutboxRepository(db);
      const notifications = new NotificationOutbox(outbox);
      // Every write the refreshers start, so the test waits for them (they run in the background).
      const writes: Promise<boolean>[] = [];
      const emit = notifications.emit.bind(notifications);
      jest.spyOn(notifications, 'emit').mockImplementation((event) => {
        const write = emit(event);
        writes.push(write);
        return write;
      });
      const a = await instance('a', notifications);
      const b = await instance('b', notifications);
      const id = await codexAccount(a, 'failing', 60);
      await b.pool.reload();
      auth.refreshFailure = { status: 503, body: { error: 'temporarily_unavailable' } };

      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).refresher.refreshWithResult(id)),
      );
      await Promise.all(writes);

      expect(results.every((result) => !result.ok)).toBe(true);
      const events = await outbox.pending('notification', 10);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'account.refresh_failed',
        payload: {
          severity: 'warning',
          title: 'Token refresh failed for account "failing"',
          subject: { kind: 'account', id, name: 'failing' },
          data: { accountType: 'codex-oauth', reason: 'unavailable', status: 503 },
        },
      });
      expect(JSON.stringify(events[0].payload)).not.toMatch(/rt_fake|eyJ/);
    });
  });

  describe('refreshWithResult', () => {
    it('should spend a rotating refresh token once when two instances refresh together', async () => {
      const a = await instance('a');
      const b = await instance('b');
      const id = await codexAccount(a, 'shared', -1);
      await b.pool.reload();

      const [ra, rb] = await Promise.all([
        a.refresher.refreshWithResult(id),
        b.refresher.refreshWithResult(id),
      ]);

      expect(ra.ok && rb.ok).toBe(true);
      expect(auth.tokenCalls).toHaveLength(1);
      expect(codexCredentialsOf(b.pool.get(id)!.credentials)!.accessToken).toBe(
        codexCredentialsOf(a.pool.get(id)!.credentials)!.accessToken,
      );
    });

    it('should serve the relay’s refresh after a 401 through CredentialRefreshService', async () => {
      const a = await instance('a');
      const id = await codexAccount(a, 'relay', 3600);
      const before = a.pool.get(id)!;
      // The pool updates its account in place: keep the token it held.
      const beforeToken = codexCredentialsOf(before.credentials)!.accessToken;
      const service = new CredentialRefreshService(
        [
          new ClaudeOAuthRefresher(
            a.pool,
            a.accountsRepository,
            a.codec,
            a.health,
            a.config,
            new LocalCoordinator({ instanceId: 'c', store }),
          ),
          a.refresher,
          // Every type with a refresher must have one; gemini-oauth's is not under test here.
          {
            accountType: 'gemini-oauth',
            refreshWithResult: () =>
              Promise.resolve({ ok: false, reason: 'no_refresher', detail: 'stub' }),
            runRefreshJob: () => Promise.resolve({ refreshed: [], failed: [] }),
          },
        ],
        a.pool,
        a.accounts,
      );

      const renewed = await service.refreshAfterAuthFailure(before);

      expect(renewed).not.toBeNull();
      expect(codexCredentialsOf(renewed!.credentials)!.accessToken).not.toBe(beforeToken);
      expect(auth.tokenCalls).toHaveLength(1);
    });
  });
});

describe('switchyard accounts import-codex / login-codex (CLI)', () => {
  let auth: FakeCodexAuth;
  let app: INestApplication;

  beforeAll(async () => {
    auth = new FakeCodexAuth(CLIENT_ID);
    await auth.start();
    app = await createApp(environment(auth));
  });

  afterAll(async () => {
    await app.close();
    await auth.stop();
  });

  const { out, err } = captureCliOutput();

  /** Runs `switchyard accounts …` as registered for the real CLI. */
  function cli(...args: string[]): Promise<number> {
    return runAccountsCli(app, args);
  }

  function authFile(content: unknown): string {
    const file = join(mkdtempSync(join(tmpdir(), 'sy-codex-home-')), 'auth.json');
    writeFileSync(file, JSON.stringify(content));
    return file;
  }

  it("should import Codex CLI's auth.json as a codex-oauth account", async () => {
    const tokens = auth.issueTokens();
    const file = authFile({
      OPENAI_API_KEY: null,
      tokens: { ...tokens, account_id: 'acct-0001' },
      last_refresh: new Date().toISOString(),
    });

    const code = await cli('import-codex', '--file', file, '--name', 'from-codex-cli', '--json');

    expect({ code, err: err.join('') }).toMatchObject({ code: 0 });
    const printed = out.join('');
    expect(printed).not.toContain(tokens.refresh_token);
    expect(printed).not.toContain(tokens.access_token);
    const account = JSON.parse(printed) as AccountResponseDto;
    expect(account).toMatchObject({
      name: 'from-codex-cli',
      type: 'codex-oauth',
      subscription: { plan: 'pro', email: 'dev@example.com' },
    });
    const routable = await app.get(AccountsService).routableAccount(account.id);
    expect(codexCredentialsOf(routable.credentials)).toEqual({
      type: 'codex-oauth',
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      idToken: tokens.id_token,
      accountId: 'acct-0001',
      expiresAt: expect.any(Number),
    });
    expect(err.join('')).toContain('Codex CLI and Switchyard now share this login');
  });

  it('should fail with exit code 1 and say why for an API-key auth.json or a missing file', async () => {
    expect(await cli('import-codex', '--file', authFile({ OPENAI_API_KEY: 'sk-proj-x' }))).toBe(1);
    expect(err.join('')).toContain('holds an OpenAI API key, not a ChatGPT login');
    err.length = 0;

    expect(await cli('import-codex', '--file', join(tmpdir(), 'no-such-dir', 'auth.json'))).toBe(1);
    expect(err.join('')).toContain('sign in with Codex CLI (codex login) first, or pass --file');
  });

  it('should refuse an auth.json whose tokens name no ChatGPT account', async () => {
    const file = authFile({ tokens: { access_token: fakeJwt({ sub: 'x' }), refresh_token: 'rt' } });

    expect(await cli('import-codex', '--file', file, '--name', 'no-account')).toBe(1);
    expect(err.join('')).toContain('name no ChatGPT account');
  });

  it('should log in headless: print the URL, read the pasted callback URL, add the account', async () => {
    const program = new Command('switchyard').exitOverride();
    const accounts = program.command('accounts');
    const questions: string[] = [];
    registerCodexAccountCommands(
      accounts,
      (fn) => fn(app),
      async (question) => {
        questions.push(question);
        // The admin opens the printed URL and pastes where the browser landed.
        const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(err.join(''))?.[1];
        return auth.signIn(url!);
      },
    );

    await program.parseAsync(['accounts', 'login-codex', '--name', 'headless'], { from: 'user' });

    expect(process.exitCode ?? 0).toBe(0);
    expect(questions).toEqual(['Callback URL (or code): ']);
    expect(out.join('')).toContain('Account added:');
    expect(out.join('')).toContain('headless');
    const record = await app.get(AccountsService).resolve('headless');
    expect(record.type).toBe('codex-oauth');
  });
});
