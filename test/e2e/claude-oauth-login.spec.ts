import Anthropic from '@anthropic-ai/sdk';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClaudeAuth } from '../fake-upstream/fake-claude-auth';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * Claude account onboarding end to end: the Claude login (and the setup token) through the admin
 * API and through the compiled `switchyard accounts login-claude`, against a fake Anthropic OAuth
 * server; then the official Anthropic SDK through Switchyard, served by the new account with the
 * access token the login brought.
 */

const ROOT = join(__dirname, '..', '..');
const ENCRYPTION_KEY = 'claude-login-e2e-encryption-key-0123456789';
const CLI_TIMEOUT_MS = 60_000;

interface Started {
  authorizeUrl: string;
  state: string;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the compiled CLI's `accounts login-claude` as an admin on a headless box would: waits for
 * the printed URL, signs in there (the fake answers what the page would show) and pastes the
 * answer on stdin.
 */
function loginWithCli(
  env: Record<string, string>,
  args: string[],
  answer: (authorizeUrl: string) => string,
): Promise<CliRun> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin', 'switchyard.js'), 'accounts', 'login-claude', ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let answered = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    const url = /(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)/.exec(stderr)?.[1];
    if (!answered && url !== undefined && stderr.includes('Code (code#state): ')) {
      answered = true;
      child.stdin.end(`${answer(url)}\n`);
    }
  });
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), CLI_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('Claude account onboarding (end to end)', () => {
  let auth: FakeClaudeAuth;

  beforeAll(async () => {
    auth = await FakeClaudeAuth.start();
  });

  afterAll(async () => {
    await auth?.close();
  });

  /** A request through Switchyard with the official SDK, on a key bound to one account. */
  async function ask(h: RelayHarness, accountId: string): Promise<Anthropic.Message> {
    const key = await h.createKey({
      name: `claude-login-${accountId}`,
      bindings: { claude: { accountId } },
    });
    const anthropic = new Anthropic({ apiKey: key.secret, baseURL: h.url, maxRetries: 0 });
    return anthropic.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 32,
      messages: [{ role: 'user', content: 'Hello from a fresh login' }],
    });
  }

  /** The upstream saw the login's token as Claude Code sends one: bearer plus the OAuth beta. */
  function expectServedWith(h: RelayHarness, accessToken: string): void {
    const sent = h.upstream.requests.filter((r) => r.path === '/v1/messages');
    expect(sent).toHaveLength(1);
    expect(sent[0].credential).toBe(accessToken);
    expect(sent[0].headers.authorization).toBe(`Bearer ${accessToken}`);
    expect(sent[0].headers['x-api-key']).toBeUndefined();
    expect(sent[0].headers['anthropic-beta']).toContain('oauth-2025-04-20');
  }

  describe('through the admin API', () => {
    let h: RelayHarness;

    beforeAll(async () => {
      h = await startRelayHarness({ ...auth.env, ENCRYPTION_KEY });
    });

    afterAll(async () => {
      await h?.close();
    });

    beforeEach(() => {
      h.upstream.reset();
      auth.reset();
    });

    async function onboard(body: Record<string, unknown>): Promise<any> {
      const started = await h.admin<Started>('POST', '/admin/api/oauth/claude/authorize', {
        setupToken: body.setupToken === true,
      });
      expect(started.status).toBe(200);
      const { setupToken: _, ...target } = body;
      const pasted = auth.signIn(started.body.authorizeUrl).pasted;
      const res = await h.admin<any>('POST', '/admin/api/oauth/claude/exchange', {
        state: started.body.state,
        code: pasted,
        ...target,
      });
      expect(res.status).toBe(200);
      return res.body;
    }

    it('should sign in, show the subscription, and serve a request with the new access token', async () => {
      const account = await onboard({ name: 'max-sub' });

      expect(account).toMatchObject({
        type: 'claude-oauth',
        status: 'active',
        routable: true,
        subscription: { plan: 'max', email: 'claude-user@example.com' },
      });
      const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
      expect(detail.body.subscription).toMatchObject({
        plan: 'max',
        organizationName: "claude-user@example.com's Organization",
      });

      const reply = await ask(h, account.id);

      expect(reply.type).toBe('message');
      const token = h.upstream.requests.find((r) => r.path === '/v1/messages')!.credential!;
      expect(auth.checkAccessToken(token)).toMatchObject({
        valid: true,
        email: 'claude-user@example.com',
      });
      expectServedWith(h, token);
      expect(JSON.stringify(detail.body)).not.toContain(token);
    });

    it('should onboard a setup token (inference only) that serves requests too', async () => {
      auth.setAccount({ plan: 'pro', email: 'ci@example.com' });
      const account = await onboard({ setupToken: true, name: 'ci-setup-token' });

      expect(account).toMatchObject({
        credentials: { hasRefreshToken: false },
        subscription: { email: 'ci@example.com', scopes: ['user:inference'] },
      });
      expect(new Date(account.credentials.expiresAt).getTime()).toBeGreaterThan(
        Date.now() + 364 * 86_400_000,
      );

      await ask(h, account.id);

      const token = h.upstream.requests.find((r) => r.path === '/v1/messages')!.credential!;
      expect(auth.checkAccessToken(token)).toMatchObject({
        valid: true,
        scopes: ['user:inference'],
      });
      expectServedWith(h, token);
    });
  });

  describe('through the CLI (headless)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-claude-login-'));
    // The fake's endpoints (auth.env) join when the tests run: the fake starts in beforeAll.
    const env = { DATA_DIR: dataDir, ENCRYPTION_KEY };
    let h: RelayHarness | undefined;

    afterAll(async () => {
      await h?.close();
    });

    it('should add the account from the pasted code#state; the relay then serves it', async () => {
      auth.setAccount({ plan: 'team', email: 'cli-admin@example.com' });
      const run = await loginWithCli(
        { ...env, ...auth.env },
        ['--name', 'cli-claude', '--json'],
        (url) => auth.signIn(url).pasted!,
      );

      expect({ code: run.code, stderr: run.stderr }).toMatchObject({ code: 0 });
      expect(run.stderr).toContain('including the # in the middle');
      const account = JSON.parse(run.stdout) as { id: string; subscription: unknown };
      expect(account.subscription).toMatchObject({ plan: 'team', email: 'cli-admin@example.com' });
      expect(run.stdout).not.toMatch(/sk-ant-o[ar]t01-fake/);

      // The relay, on the database the CLI wrote to.
      h = await startRelayHarness({ ...env, ...auth.env });
      await ask(h, account.id);

      const token = h.upstream.requests.find((r) => r.path === '/v1/messages')!.credential!;
      expect(auth.checkAccessToken(token)).toMatchObject({
        valid: true,
        email: 'cli-admin@example.com',
      });
      expectServedWith(h, token);
    });

    it('should refuse a pasted code of another login and add nothing', async () => {
      const run = await loginWithCli(
        { ...env, ...auth.env },
        ['--setup-token', '--name', 'never-added'],
        (url) => `${auth.signIn(url).code}#${'y'.repeat(43)}`,
      );

      expect(run.code).toBe(1);
      expect(run.stderr).toContain('belongs to another login');
      const listed = await h!.admin<any>('GET', '/admin/api/accounts?pageSize=100');
      expect(JSON.stringify(listed.body)).not.toContain('never-added');
    });
  });
});
