import type { INestApplication } from '@nestjs/common';
import { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { registerClaudeAccountCommands } from 'src/cli/accounts-claude.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import type { ClaudeOAuthCredentials } from 'src/modules/accounts/types/claude-oauth';
import { ClaudeOAuthRefresher } from 'src/modules/oauth/claude/claude-oauth-refresher';
import { createAccountsAdminApp } from '../factories/admin-app.factory';
import { captureCliOutput } from '../factories/cli.factory';
import { FakeClaudeAuth, s256 } from '../fake-upstream/fake-claude-auth';
import { startHttpProxy } from '../support/proxies';
import { describeWithRedis } from '../support/services';

const ENCRYPTION_KEY = 'claude-oauth-test-encryption-key-0123456789';
const REDIRECT_URI = 'https://platform.claude.com/oauth/code/callback';
const YEAR_MS = 31_536_000_000;

interface ErrorBody {
  error: { code: string; message: string };
}

interface Started {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: string;
  variant: string;
  scopes: string[];
}

function environment(auth: FakeClaudeAuth, extra: Partial<EnvironmentSchema> = {}) {
  return Object.assign(new EnvironmentSchema(), {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-claude-oauth-')),
    ENCRYPTION_KEY,
    ...auth.env,
    ...extra,
  });
}

beforeAll(() => {
  setLogLevel(process.env.LOG_LEVEL ?? 'silent');
});

describe('Claude OAuth login (admin API)', () => {
  let auth: FakeClaudeAuth;
  let app: INestApplication;

  beforeAll(async () => {
    auth = await FakeClaudeAuth.start();
    app = await createAccountsAdminApp(environment(auth));
  });

  afterAll(async () => {
    await app?.close();
    await auth?.close();
  });

  beforeEach(() => auth.reset());

  const api = () => request(app.getHttpServer());

  async function authorize(body: Record<string, unknown> = {}): Promise<Started> {
    const res = await api().post('/admin/api/oauth/claude/authorize').send(body).expect(200);
    return res.body as Started;
  }

  function exchange(body: Record<string, unknown>) {
    return api().post('/admin/api/oauth/claude/exchange').send(body);
  }

  async function credentialsOf(id: string): Promise<ClaudeOAuthCredentials> {
    const account = await app.get(AccountsService).routableAccount(id);
    return account.credentials as ClaudeOAuthCredentials;
  }

  function tokenCalls() {
    return auth.requests.filter((r) => r.path === '/v1/oauth/token');
  }

  it('should create a claude-oauth account from the pasted code#state: tokens sealed, subscription shown', async () => {
    const started = await authorize();
    expect(started).toMatchObject({ redirectUri: REDIRECT_URI, variant: 'login' });
    expect(started.scopes).toContain('user:inference');
    expect(started.authorizeUrl.startsWith(`${auth.authorizeUrl}?code=true&`)).toBe(true);

    const signIn = auth.signIn(started.authorizeUrl);
    const before = Date.now();
    const res = await exchange({ state: started.state, code: signIn.pasted }).expect(200);

    const body = res.body as AccountResponseDto;
    expect(body).toMatchObject({
      name: 'claude-user@example.com',
      type: 'claude-oauth',
      platform: 'claude',
      status: 'active',
      subscription: {
        plan: 'max',
        email: 'claude-user@example.com',
        organizationName: "claude-user@example.com's Organization",
        organizationUuid: 'org-5d1a7c3e-claude',
        accountUuid: 'acc-0b8c2f1e-claude',
        scopes: started.scopes,
      },
      credentials: { type: 'claude-oauth', readable: true, hasRefreshToken: true },
    });
    // Claude Code's exchange: JSON, the code without its #state, the login's state and verifier.
    const [call] = tokenCalls();
    expect(call.headers['content-type']).toBe('application/json');
    expect(call.params).toEqual({
      grant_type: 'authorization_code',
      code: signIn.code,
      redirect_uri: REDIRECT_URI,
      client_id: auth.clientId,
      code_verifier: expect.any(String),
      state: started.state,
    });
    expect(s256(String(call.params!.code_verifier))).toBe(
      new URL(started.authorizeUrl).searchParams.get('code_challenge'),
    );
    // The profile was read with the new token, as Claude Code reads it.
    const profileCall = auth.requests.find((r) => r.path === '/api/oauth/profile')!;
    const credentials = await credentialsOf(body.id);
    expect(profileCall.headers.authorization).toBe(`Bearer ${credentials.accessToken}`);
    expect(profileCall.headers['anthropic-beta']).toBe('oauth-2025-04-20');

    expect(auth.checkAccessToken(credentials.accessToken)).toMatchObject({ valid: true });
    expect(credentials.refreshToken).toMatch(/^sk-ant-ort01-fake/);
    expect(credentials.expiresAt).toBeGreaterThanOrEqual(before + 28_800_000);
    expect(credentials.expiresAt).toBeLessThanOrEqual(Date.now() + 28_800_000);
    const record = (await app.get(AccountsRepository).findById(body.id))!;
    expect(record.credentials).not.toContain(credentials.accessToken);
    expect(record.credentials).not.toContain(credentials.refreshToken);
    const shown = JSON.stringify(body);
    expect(shown).not.toContain(credentials.accessToken);
    expect(shown).not.toContain(credentials.refreshToken);

    // A login is finished once.
    const again = await exchange({ state: started.state, code: signIn.pasted }).expect(400);
    expect((again.body as ErrorBody).error.code).toBe('CLAUDE_LOGIN_NOT_FOUND');
  });

  it('should exchange and read the profile through the new account’s proxy, from the whole callback URL', async () => {
    const proxy = await startHttpProxy();
    try {
      const started = await authorize();
      const { callbackUrl } = auth.signIn(started.authorizeUrl);

      const res = await exchange({
        state: started.state,
        callbackUrl,
        name: 'claude-team',
        proxy: proxy.url,
      }).expect(200);

      expect(res.body).toMatchObject({ name: 'claude-team', type: 'claude-oauth' });
      const host = new URL(auth.url).host;
      // The token call and the profile call, both through the proxy.
      expect(proxy.targets.filter((target) => target === host)).toHaveLength(2);
      expect(auth.requests.map((r) => r.path)).toEqual(['/v1/oauth/token', '/api/oauth/profile']);
      const account = await app
        .get(AccountsService)
        .routableAccount((res.body as AccountResponseDto).id);
      expect(account.proxyUrl).toBe(proxy.url);
    } finally {
      await proxy.close();
    }
  });

  it('should refuse another login’s code#state, an unknown state, a denied sign-in and a spent code', async () => {
    const unknown = await exchange({
      state: randomBytes(32).toString('base64url'),
      code: 'ac_x',
    }).expect(400);
    expect((unknown.body as ErrorBody).error.code).toBe('CLAUDE_LOGIN_NOT_FOUND');

    const first = await authorize();
    const second = await authorize();
    const secondSignIn = auth.signIn(second.authorizeUrl);
    const mismatch = await exchange({ state: first.state, code: secondSignIn.pasted }).expect(400);
    expect((mismatch.body as ErrorBody).error.code).toBe('CLAUDE_LOGIN_STATE_MISMATCH');

    auth.denyNextAuthorization('access_denied');
    const denied = auth.signIn(first.authorizeUrl);
    const refusal = await exchange({
      state: first.state,
      callbackUrl: denied.callbackUrl,
    }).expect(400);
    expect((refusal.body as ErrorBody).error).toMatchObject({
      code: 'CLAUDE_LOGIN_DENIED',
      message: 'the sign-in failed: The user denied the request.',
    });
    expect(tokenCalls()).toHaveLength(0);

    // Second's login finishes; its code, pasted again into the first login, is refused upstream.
    await exchange({ state: second.state, code: secondSignIn.pasted, name: 'second' }).expect(200);
    const spent = await exchange({ state: first.state, code: secondSignIn.code }).expect(400);
    expect((spent.body as ErrorBody).error).toMatchObject({
      code: 'CLAUDE_TOKEN_EXCHANGE_REFUSED',
      message: expect.stringContaining('invalid_grant: Authorization code already used'),
    });
    // The first login survives a refused code and a denied attempt: its own code finishes it.
    const firstSignIn = auth.signIn(first.authorizeUrl);
    await exchange({ state: first.state, code: firstSignIn.pasted, name: 'first' }).expect(200);

    const halfPasted = await authorize();
    const half = await exchange({ state: halfPasted.state, code: 'ac_only#' }).expect(400);
    expect((half.body as ErrorBody).error.code).toBe('CLAUDE_LOGIN_INVALID_CALLBACK');
    const invalid = await exchange({ code: 'ac_x' }).expect(400);
    expect((invalid.body as ErrorBody).error.code).toBe('VALIDATION_FAILED');
  });

  it('should answer 502 when the token endpoint fails, and let the same code be tried again', async () => {
    const started = await authorize();
    const signIn = auth.signIn(started.authorizeUrl);
    auth.failTokenRequests(503);

    const failed = await exchange({ state: started.state, code: signIn.pasted }).expect(502);
    expect((failed.body as ErrorBody).error.code).toBe('CLAUDE_TOKEN_ENDPOINT_UNAVAILABLE');

    await exchange({ state: started.state, code: signIn.pasted, name: 'after-503' }).expect(200);
  });

  it('should make a setup-token account: user:inference only, one year, no refresh token', async () => {
    const started = await authorize({ setupToken: true });
    expect(started).toMatchObject({ variant: 'setup-token', scopes: ['user:inference'] });
    expect(new URL(started.authorizeUrl).searchParams.get('scope')).toBe('user:inference');

    const before = Date.now();
    const res = await exchange({
      state: started.state,
      code: auth.signIn(started.authorizeUrl).pasted,
      name: 'ci-token',
    }).expect(200);

    expect(tokenCalls()[0].params).toMatchObject({
      grant_type: 'authorization_code',
      expires_in: 31_536_000,
    });
    const body = res.body as AccountResponseDto;
    // The profile needs user:profile: its plan is unknown, the token answer still names the login.
    expect(body.subscription).toEqual({
      email: 'claude-user@example.com',
      organizationName: "claude-user@example.com's Organization",
      organizationUuid: 'org-5d1a7c3e-claude',
      accountUuid: 'acc-0b8c2f1e-claude',
      scopes: ['user:inference'],
    });
    expect(body.credentials).toMatchObject({ hasRefreshToken: false });
    const credentials = await credentialsOf(body.id);
    expect(credentials.refreshToken).toBeUndefined();
    expect(credentials.expiresAt).toBeGreaterThanOrEqual(before + YEAR_MS);
  });

  it('should replace the credentials of an existing account and make it active again', async () => {
    const first = await authorize({ setupToken: true });
    const created = await exchange({
      state: first.state,
      code: auth.signIn(first.authorizeUrl).pasted,
      name: 'relogin',
    }).expect(200);
    const id = (created.body as AccountResponseDto).id;
    const before = await credentialsOf(id);
    await app
      .get(AccountHealthService)
      .markStatus(await app.get(AccountsService).routableAccount(id), 'auth_failed', 'revoked');

    // From a setup token to a full login: the refresh token and the plan arrive.
    const again = await authorize();
    const res = await exchange({
      state: again.state,
      code: auth.signIn(again.authorizeUrl).pasted,
      accountId: 'relogin',
    }).expect(200);

    expect(res.body).toMatchObject({
      id,
      name: 'relogin',
      status: 'active',
      subscription: { plan: 'max' },
      credentials: { hasRefreshToken: true },
    });
    const after = await credentialsOf(id);
    expect(after.accessToken).not.toBe(before.accessToken);

    const console = await api()
      .post('/admin/api/accounts')
      .send({
        name: 'a-console',
        type: 'claude-console',
        credentials: { apiKey: 'sk-ant-api03-ABCDEFGHIJKLMNOPQRSTUVWXYZ0123' },
      })
      .expect(201);
    const third = await authorize();
    const wrong = await exchange({
      state: third.state,
      code: 'ac_unused',
      accountId: (console.body as { id: string }).id,
    }).expect(400);
    expect((wrong.body as ErrorBody).error.code).toBe('CLAUDE_NOT_A_CLAUDE_ACCOUNT');
    const proxied = await exchange({
      state: third.state,
      code: 'ac_unused',
      accountId: id,
      proxy: 'http://127.0.0.1:1',
    }).expect(400);
    expect((proxied.body as ErrorBody).error.code).toBe('CLAUDE_LOGIN_INVALID_REQUEST');
  });

  describe(ClaudeOAuthRefresher.name, () => {
    it('should refresh a logged-in account ahead of expiry but never a setup-token account', async () => {
      const login = await authorize();
      const loggedIn = (
        await exchange({
          state: login.state,
          code: auth.signIn(login.authorizeUrl).pasted,
          name: 'refreshable',
        }).expect(200)
      ).body as AccountResponseDto;
      const setup = await authorize({ setupToken: true });
      const setupAccount = (
        await exchange({
          state: setup.state,
          code: auth.signIn(setup.authorizeUrl).pasted,
          name: 'long-lived',
        }).expect(200)
      ).body as AccountResponseDto;
      const setupToken = (await credentialsOf(setupAccount.id)).accessToken;
      await app.get(AccountPool).reload();
      auth.reset();
      // A horizon beyond both expiries: only a refresh token makes an account due.
      const refresher = new ClaudeOAuthRefresher(
        app.get(AccountPool),
        app.get(AccountsRepository),
        app.get(AccountCodec),
        app.get(AccountHealthService),
        app.get(ConfigService),
        app.get<Coordinator>(COORDINATOR),
        undefined,
        { refreshAheadMs: 2 * YEAR_MS },
      );

      const summary = await refresher.runRefreshJob();

      expect(summary.refreshed).toContain(loggedIn.id);
      expect(summary.refreshed).not.toContain(setupAccount.id);
      expect(summary.failed).not.toContain(setupAccount.id);
      expect(auth.counts.refresh).toBe(summary.refreshed.length);
      await expect(refresher.refreshWithResult(setupAccount.id)).resolves.toMatchObject({
        ok: false,
        reason: 'no_refresh_token',
      });
      expect((await credentialsOf(setupAccount.id)).accessToken).toBe(setupToken);
      expect(app.get(AccountPool).get(setupAccount.id)!.status).toBe('active');
      await refresher.onModuleDestroy();
    });
  });
});

describeWithRedis('Claude OAuth login across instances', (redisUrl) => {
  let auth: FakeClaudeAuth;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    auth = await FakeClaudeAuth.start();
    const env = environment(auth, {
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `sytest:${randomBytes(6).toString('hex')}:`,
    });
    apps.push(await createAccountsAdminApp(env), await createAccountsAdminApp(env));
  });

  afterAll(async () => {
    for (const app of apps.splice(0)) await app.close();
    await auth?.close();
  });

  it('should finish on one instance a setup-token login started on another', async () => {
    const [a, b] = apps as [INestApplication, INestApplication];
    const started = (
      await request(a.getHttpServer())
        .post('/admin/api/oauth/claude/authorize')
        .send({ setupToken: true })
        .expect(200)
    ).body as Started;

    const res = await request(b.getHttpServer())
      .post('/admin/api/oauth/claude/exchange')
      .send({ state: started.state, code: auth.signIn(started.authorizeUrl).pasted })
      .expect(200);

    // The variant travelled with the verifier: the second instance asked for a setup token.
    expect(auth.requests.find((r) => r.path === '/v1/oauth/token')!.params).toMatchObject({
      expires_in: 31_536_000,
    });
    expect(res.body).toMatchObject({
      type: 'claude-oauth',
      credentials: { hasRefreshToken: false },
    });
  });
});

describe('switchyard accounts login-claude (CLI)', () => {
  let auth: FakeClaudeAuth;
  let app: INestApplication;

  beforeAll(async () => {
    auth = await FakeClaudeAuth.start();
    app = await createAccountsAdminApp(environment(auth));
  });

  afterAll(async () => {
    await app?.close();
    await auth?.close();
  });

  const { out, err } = captureCliOutput();

  /** `switchyard accounts login-claude …` whose prompt signs in at the printed URL. */
  async function login(
    args: string[],
    answer: (signIn: ReturnType<FakeClaudeAuth['signIn']>) => string,
  ): Promise<{ code: number; questions: string[] }> {
    const program = new Command('switchyard').exitOverride();
    const questions: string[] = [];
    registerClaudeAccountCommands(
      program.command('accounts'),
      (fn) => fn(app),
      (question) => {
        questions.push(question);
        const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(err.join(''))?.[1];
        return Promise.resolve(answer(auth.signIn(url!)));
      },
    );
    await program.parseAsync(['accounts', 'login-claude', ...args], { from: 'user' });
    const code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
    return { code, questions };
  }

  it('should log in headless: print the URL, read the pasted code#state, add the account', async () => {
    const { code, questions } = await login(['--name', 'headless'], (signIn) => signIn.pasted!);

    expect({ code, err: err.join('') }).toMatchObject({ code: 0 });
    expect(questions).toEqual(['Code (code#state): ']);
    expect(err.join('')).toContain('including the # in the middle');
    const printed = out.join('');
    expect(printed).toContain('Account added:');
    expect(printed).toContain('Claude:      claude-user@example.com');
    expect(printed).toContain('plan max');
    expect(printed).toContain('refreshed before expiry');
    const record = await app.get(AccountsService).resolve('headless');
    expect(record.type).toBe('claude-oauth');
  });

  it('should make a setup-token account with --setup-token, from the pasted callback URL', async () => {
    const { code } = await login(
      ['--setup-token', '--name', 'ci', '--json'],
      (signIn) => signIn.callbackUrl,
    );

    expect({ code, err: err.join('') }).toMatchObject({ code: 0 });
    const account = JSON.parse(out.join('')) as AccountResponseDto;
    expect(account).toMatchObject({
      name: 'ci',
      credentials: { hasRefreshToken: false },
      subscription: { scopes: ['user:inference'] },
    });
    const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(err.join(''))![1];
    expect(new URL(url).searchParams.get('scope')).toBe('user:inference');
  });

  it('should fail with exit code 1 and say why when the pasted code belongs to another login', async () => {
    const { code } = await login([], (signIn) => `${signIn.code}#${'x'.repeat(43)}`);

    expect(code).toBe(1);
    expect(err.join('')).toContain('belongs to another login');
  });
});
