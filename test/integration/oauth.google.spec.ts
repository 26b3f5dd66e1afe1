import type { INestApplication } from '@nestjs/common';
import { Command } from 'commander';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { registerGoogleAccountCommands } from 'src/cli/accounts-google.command';
import { setLogLevel } from 'src/common/logging/app-logger';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountResponseDto } from 'src/modules/accounts/dto/account.response.dto';
import type { GeminiOAuthCredentials } from 'src/modules/accounts/types/gemini-oauth';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
import { CODE_ASSIST_SETUP_OPTIONS } from 'src/modules/oauth/google/code-assist-setup.client';
import { GoogleOAuthRefresher } from 'src/modules/oauth/google/google-oauth-refresher';
import { createAccountsAdminApp } from '../factories/admin-app.factory';
import { captureCliOutput, runCli } from '../factories/cli.factory';
import { FakeGoogleAuth } from '../fake-upstream/fake-google-auth';
import { FakeUpstream } from '../fake-upstream/fake-upstream';

const ENCRYPTION_KEY = 'google-oauth-test-encryption-key-0123456789';
const SCOPES = [
  'https://www.googleapis.com/auth/cloud-platform',
  'https://www.googleapis.com/auth/userinfo.email',
  'https://www.googleapis.com/auth/userinfo.profile',
];

interface ErrorBody {
  error: { code: string; message: string };
}

interface Started {
  authorizeUrl: string;
  state: string;
  redirectUri: string;
  expiresAt: string;
}

function createApp(auth: FakeGoogleAuth, upstream: FakeUpstream): Promise<INestApplication> {
  const env = Object.assign(new EnvironmentSchema(), {
    DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-google-oauth-')),
    ENCRYPTION_KEY,
    GOOGLE_OAUTH_TOKEN_URL: auth.tokenUrl,
    GOOGLE_OAUTH_AUTHORIZE_URL: auth.authorizeUrl,
    CODE_ASSIST_BASE_URL: upstream.url,
  });
  return createAccountsAdminApp(env, {
    override: (builder) =>
      builder.overrideProvider(CODE_ASSIST_SETUP_OPTIONS).useValue({ pollIntervalMs: 5 }),
  });
}

beforeAll(() => {
  setLogLevel(process.env.LOG_LEVEL ?? 'silent');
});

describe('Google OAuth login of gemini-oauth accounts (admin API)', () => {
  let auth: FakeGoogleAuth;
  let upstream: FakeUpstream;
  let app: INestApplication;

  beforeAll(async () => {
    auth = new FakeGoogleAuth();
    await auth.start();
    upstream = await FakeUpstream.start();
    app = await createApp(auth, upstream);
  });

  beforeEach(() => {
    upstream.reset();
    upstream.codeAssist.useAuth(auth);
  });

  afterAll(async () => {
    await app.close();
    await upstream.close();
    await auth.stop();
  });

  const api = () => request(app.getHttpServer());

  async function authorize(): Promise<Started> {
    return (await api().post('/admin/api/oauth/google/authorize').expect(200)).body as Started;
  }

  async function stored(id: string) {
    const record = (await app.get(AccountsRepository).findById(id))!;
    const account = await app.get(AccountsService).routableAccount(id);
    return {
      sealed: record.credentials,
      credentials: account.credentials as GeminiOAuthCredentials,
    };
  }

  it('should give an authorization URL with PKCE S256, Gemini CLI scopes and offline access', async () => {
    const started = await authorize();
    expect(started.redirectUri).toBe('https://codeassist.google.com/authcode');
    const url = new URL(started.authorizeUrl);
    expect(`${url.origin}${url.pathname}`).toBe(auth.authorizeUrl);
    expect(url.searchParams.get('client_id')).toBe(auth.clientId);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('access_type')).toBe('offline');
    expect(url.searchParams.get('state')).toBe(started.state);
    expect(url.searchParams.get('redirect_uri')).toBe(started.redirectUri);
    expect(url.searchParams.get('scope')!.split(' ')).toEqual(SCOPES);
  });

  it('should create an account from the pasted callback URL with the onboarded account project, credentials sealed', async () => {
    upstream.codeAssist.onboarded = true;
    upstream.codeAssist.projectId = 'cloud-proj-1';
    const started = await authorize();
    const callbackUrl = await auth.signIn(started.authorizeUrl);
    expect(callbackUrl.startsWith('https://codeassist.google.com/authcode?code=')).toBe(true);

    const res = await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: started.state, callbackUrl })
      .expect(200);
    const body = res.body as AccountResponseDto;
    expect(body).toMatchObject({
      name: 'gemini-cloud-proj-1',
      type: 'gemini-oauth',
      platform: 'gemini',
      status: 'active',
      subscription: { plan: 'free-tier' },
      credentials: {
        type: 'gemini-oauth',
        readable: true,
        hasRefreshToken: true,
        projectId: 'cloud-proj-1',
      },
    });
    // The code went with the verifier whose S256 challenge the authorize URL carried.
    const exchange = auth.tokenCalls.at(-1)!;
    expect(exchange).toMatchObject({ grantType: 'authorization_code', status: 200 });
    const challenge = new URL(started.authorizeUrl).searchParams.get('code_challenge');
    expect(createHash('sha256').update(exchange.params.code_verifier).digest('base64url')).toBe(
      challenge,
    );
    // loadCodeAssist found the current tier: no onboarding.
    expect(upstream.codeAssist.calls('loadCodeAssist')).toHaveLength(1);
    expect(upstream.codeAssist.calls('onboardUser')).toHaveLength(0);

    const { sealed, credentials } = await stored(body.id);
    expect(credentials.projectId).toBe('cloud-proj-1');
    expect(credentials.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
    expect(sealed.startsWith('v2:')).toBe(true);
    expect(sealed).not.toContain(credentials.accessToken);
    expect(sealed).not.toContain(credentials.refreshToken!);
    const listed = JSON.stringify((await api().get('/admin/api/accounts').expect(200)).body);
    for (const printed of [JSON.stringify(body), listed]) {
      expect(printed).not.toContain(credentials.accessToken);
      expect(printed).not.toContain(credentials.refreshToken!);
    }

    const again = await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: started.state, callbackUrl })
      .expect(400);
    expect((again.body as ErrorBody).error.code).toBe('GOOGLE_LOGIN_NOT_FOUND');
  });

  it('should onboard a new account to the default tier from a pasted code, polling the operation', async () => {
    upstream.codeAssist.onboarded = false;
    upstream.codeAssist.onboardingPolls = 3;
    upstream.codeAssist.projectId = 'managed-proj-7';
    const started = await authorize();
    const code = new URL(await auth.signIn(started.authorizeUrl)).searchParams.get('code');

    const res = await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: started.state, code, name: 'team-google' })
      .expect(200);
    expect(res.body).toMatchObject({
      name: 'team-google',
      credentials: { projectId: 'managed-proj-7' },
    });
    const onboard = upstream.codeAssist.calls('onboardUser');
    expect(onboard).toHaveLength(1);
    // The free tier names no project (Google manages it), as Gemini CLI sends it.
    expect(onboard[0].body).toMatchObject({
      tierId: 'free-tier',
      metadata: { pluginType: 'GEMINI' },
    });
    expect(onboard[0].body?.cloudaicompanionProject).toBeUndefined();
    expect(upstream.codeAssist.calls('getOperation')).toHaveLength(3);
  });

  it('should refuse a code the token endpoint refuses, and let the same login try again', async () => {
    const started = await authorize();
    const res = await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: started.state, code: '4/not-a-real-code' })
      .expect(400);
    expect((res.body as ErrorBody).error.code).toBe('GOOGLE_TOKEN_EXCHANGE_REFUSED');
    const code = new URL(await auth.signIn(started.authorizeUrl)).searchParams.get('code');
    await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: started.state, code, name: 'retried-login' })
      .expect(200);
  });

  it('should refuse a callback URL of another login', async () => {
    const first = await authorize();
    const second = await authorize();
    const res = await api()
      .post('/admin/api/oauth/google/exchange')
      .send({ state: first.state, callbackUrl: await auth.signIn(second.authorizeUrl) })
      .expect(400);
    expect((res.body as ErrorBody).error.code).toBe('GOOGLE_LOGIN_STATE_MISMATCH');
  });

  it("should import Gemini CLI's oauth_creds.json, refreshing an expired access token first", async () => {
    const tokens = auth.issueTokens();
    auth.expireAccessToken(tokens.access_token);
    const file = {
      access_token: tokens.access_token,
      refresh_token: tokens.refresh_token,
      scope: SCOPES.join(' '),
      token_type: 'Bearer',
      expiry_date: Date.now() - 1000,
    };
    const refreshesBefore = auth.count('refresh_token');
    const res = await api()
      .post('/admin/api/oauth/google/import')
      .send({ credentials: JSON.stringify(file), name: 'imported-cli' })
      .expect(200);
    expect(res.body).toMatchObject({ name: 'imported-cli', type: 'gemini-oauth' });
    expect(auth.count('refresh_token')).toBe(refreshesBefore + 1);
    const { credentials } = await stored((res.body as AccountResponseDto).id);
    expect(credentials.accessToken).not.toBe(tokens.access_token);
    expect(credentials.refreshToken).toBe(tokens.refresh_token);
    expect(auth.checkAccessToken(credentials.accessToken).valid).toBe(true);

    const bad = await api()
      .post('/admin/api/oauth/google/import')
      .send({ credentials: JSON.stringify({ type: 'service_account' }) })
      .expect(400);
    expect((bad.body as ErrorBody).error.code).toBe('GOOGLE_INVALID_CREDENTIALS_FILE');
  });

  describe(GoogleOAuthRefresher.name, () => {
    async function importAccount(name: string, expiresInMs: number): Promise<string> {
      const tokens = auth.issueTokens();
      const res = await api()
        .post('/admin/api/oauth/google/import')
        .send({
          name,
          credentials: JSON.stringify({
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expiry_date: Date.now() + expiresInMs,
          }),
        })
        .expect(200);
      return (res.body as AccountResponseDto).id;
    }

    it('should refresh ahead of expiry in the job, and leave accounts far from expiry alone', async () => {
      const soon = await importAccount('expires-soon', 120_000);
      const later = await importAccount('expires-later', 3_000_000);
      await app.get(AccountPool).reload();
      const before = (await stored(soon)).credentials;

      const summary = await app.get(GoogleOAuthRefresher).runRefreshJob();
      expect(summary.refreshed).toContain(soon);
      expect(summary.refreshed).not.toContain(later);
      const after = (await stored(soon)).credentials;
      expect(after.accessToken).not.toBe(before.accessToken);
      expect(after.refreshToken).toBe(before.refreshToken);
      expect(after.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);
      expect(app.get(AccountPool).get(soon)?.credentials).toMatchObject({
        accessToken: after.accessToken,
      });
    });

    it('should mark an account auth_failed when the token endpoint refuses its refresh token', async () => {
      const id = await importAccount('revoked', 60_000 * 2);
      await app.get(AccountPool).reload();
      auth.revokeRefreshToken((await stored(id)).credentials.refreshToken!);
      const summary = await app.get(GoogleOAuthRefresher).runRefreshJob();
      expect(summary.failed).toContain(id);
      const account = (await api().get(`/admin/api/accounts/${id}`).expect(200))
        .body as AccountResponseDto;
      expect(account.status).toBe('auth_failed');
    });

    it('should be the refresher CredentialRefreshService uses for gemini-oauth accounts', async () => {
      const id = await importAccount('on-demand', 3_000_000);
      await app.get(AccountPool).reload();
      const result = await app.get(CredentialRefreshService).refresh(id);
      expect(result).toMatchObject({ ok: true });
    });
  });
  describe('switchyard accounts import-gemini / login-google (CLI)', () => {
    const { out, err } = captureCliOutput();

    function cli(...args: string[]): Promise<number> {
      const accounts = new Command('accounts').exitOverride();
      registerGoogleAccountCommands(
        accounts,
        (fn) => fn(app),
        () => Promise.reject(new Error('no prompt expected')),
      );
      return runCli(accounts, args);
    }

    it("should import Gemini CLI's oauth_creds.json", async () => {
      const tokens = auth.issueTokens();
      const file = join(mkdtempSync(join(tmpdir(), 'sy-gemini-home-')), 'oauth_creds.json');
      writeFileSync(
        file,
        JSON.stringify({
          access_token: tokens.access_token,
          refresh_token: tokens.refresh_token,
          token_type: 'Bearer',
          expiry_date: tokens.expiry_date,
        }),
      );
      const code = await cli('import-gemini', '--file', file, '--name', 'cli-import', '--json');
      expect({ code, err: err.join('') }).toMatchObject({ code: 0 });
      const printed = out.join('');
      expect(printed).not.toContain(tokens.access_token);
      expect(JSON.parse(printed)).toMatchObject({ name: 'cli-import', type: 'gemini-oauth' });
    });

    it('should sign in with a pasted code', async () => {
      // The prompt is answered by "the admin": sign in at the URL printed on stderr.
      const accounts = new Command('accounts').exitOverride();
      registerGoogleAccountCommands(
        accounts,
        (fn) => fn(app),
        async () => {
          const url = /(http\S+\/o\/oauth2\/v2\/auth\S+)/.exec(err.join(''))![1];
          return new URL(await auth.signIn(url)).searchParams.get('code')!;
        },
      );
      await accounts.parseAsync(['login-google', '--name', 'cli-login'], { from: 'user' });
      expect({ code: process.exitCode ?? 0, err: err.join('') }).toMatchObject({ code: 0 });
      expect(out.join('')).toContain('cli-login');
    });
  });
});
