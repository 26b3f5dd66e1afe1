import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, type ServerProcess } from '../support/app-process';

const ADMIN_PASSWORD = 'e2e-admin-password';
const CONSOLE_KEY = 'sk-ant-api03-account-A-secret-value';
const STALE_TOKEN = 'oauth-access-stale-secret-value';
const REFRESH_TOKEN = 'oauth-refresh-secret-value-1';
const FRESH_TOKEN = 'oauth-access-fresh-secret-value';

/** A Claude OAuth token endpoint answering the one known refresh token with FRESH_TOKEN. */
async function startTokenServer(): Promise<{ url: string; server: Server; calls: number }> {
  const state = { url: '', server: createServer(), calls: 0 };
  state.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      state.calls += 1;
      const ok = (JSON.parse(body) as { refresh_token?: string }).refresh_token === REFRESH_TOKEN;
      res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' }).end(
        ok
          ? JSON.stringify({
              access_token: FRESH_TOKEN,
              refresh_token: REFRESH_TOKEN,
              expires_in: 3600,
              token_type: 'Bearer',
            })
          : '{"error":"invalid_grant"}',
      );
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  const address = state.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  state.url = `http://127.0.0.1:${port}/v1/oauth/token`;
  return state;
}

interface TrafficLine {
  msg: string;
  traffic: Record<string, any>;
}

/**
 * DEBUG_HTTP_TRAFFIC on the built app: the traced key's exchanges (and its account's token
 * refresh) are logged with bodies, another key's are not, and no credential appears anywhere in
 * the whole log.
 */
describe('DEBUG_HTTP_TRAFFIC (built app)', () => {
  let upstream: FakeUpstream;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    tokens = await startTokenServer();
  });
  afterAll(async () => {
    await server?.stop();
    await upstream?.close();
    await new Promise((resolve) => tokens?.server.close(resolve));
  });

  it('should log only the traced key and its account, with every secret redacted', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-traffic-'));
    const baseEnv = {
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      LOG_LEVEL: 'info',
      CLAUDE_OAUTH_TOKEN_URL: tokens.url,
    };
    // Setup on a first run: keys and accounts get their ids, then the traced run names them.
    server = await startServerProcess(baseEnv);
    const login = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const admin = async (path: string, body: unknown): Promise<any> => {
      const res = await fetch(`${server!.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect([200, 201]).toContain(res.status);
      return res.json();
    };
    const consoleAccount = await admin('/admin/api/accounts', {
      name: 'console',
      type: 'claude-console',
      baseUrl: upstream.url,
      credentials: { apiKey: CONSOLE_KEY },
    });
    const oauthAccount = await admin('/admin/api/accounts', {
      name: 'oauth',
      type: 'claude-oauth',
      baseUrl: upstream.url,
      credentials: {
        accessToken: STALE_TOKEN,
        refreshToken: REFRESH_TOKEN,
        expiresAt: Date.now() + 3_600_000,
      },
    });
    const traced = await admin('/admin/api/keys', {
      name: 'traced',
      bindings: { claude: { accountId: oauthAccount.id } },
    });
    const other = await admin('/admin/api/keys', {
      name: 'other',
      bindings: { claude: { accountId: consoleAccount.id } },
    });
    const tracedKey = { id: traced.key?.id ?? traced.id, secret: traced.secret as string };
    const otherKey = { id: other.key?.id ?? other.id, secret: other.secret as string };
    await server.stop();

    server = await startServerProcess({
      ...baseEnv,
      DEBUG_HTTP_TRAFFIC: `key:${tracedKey.id},account:${oauthAccount.id}`,
    });
    // The OAuth account's first call is refused: one refresh, then a retry with the fresh token.
    upstream.forCredential(STALE_TOKEN, { status: 401 });
    const send = async (secret: string, stream: boolean, prompt: string): Promise<string> => {
      const res = await fetch(`${server!.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': secret, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'claude-sonnet-4-6',
          max_tokens: 16,
          stream,
          messages: [{ role: 'user', content: prompt }],
        }),
      });
      const text = await res.text();
      expect(res.status).toBe(200);
      return text;
    };
    await send(tracedKey.secret, false, 'traced-prompt-one');
    await send(tracedKey.secret, true, 'traced-prompt-two');
    await send(otherKey.secret, false, 'other-prompt-three');
    await send(otherKey.secret, true, 'other-prompt-four');
    expect(tokens.calls).toBe(1);
    // Account tests leave outside the relay's attempt loop: traced under the account, no key.
    const relogin = await fetch(`${server.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token: adminToken } = (await relogin.json()) as { token: string };
    for (const account of [oauthAccount, consoleAccount]) {
      const tested = await fetch(`${server.url}/admin/api/accounts/${account.id}/test`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(tested.status).toBe(200);
    }
    await server.stop();

    const output = server.output();
    const lines: TrafficLine[] = output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as TrafficLine)
      .filter((l) => l.traffic !== undefined);

    const forKey = lines.filter((l) => l.traffic.keyId === tracedKey.id);
    // The refused first try, the retry after the refresh, and the stream: request, head, body.
    expect(forKey.filter((l) => l.traffic.phase === 'request')).toHaveLength(3);
    expect(forKey.filter((l) => l.traffic.phase === 'response')).toHaveLength(3);
    expect(forKey.filter((l) => l.traffic.phase === 'response_body')).toHaveLength(3);
    const requests = forKey.filter((l) => l.traffic.phase === 'request');
    expect(requests.map((l) => l.traffic.accountId)).toEqual([
      oauthAccount.id,
      oauthAccount.id,
      oauthAccount.id,
    ]);
    expect(requests[0].traffic.body).toContain('traced-prompt-one');
    expect(requests[0].traffic.headers.authorization).toBe('[redacted]');
    expect(requests[0].traffic.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/messages/);
    const bodies = forKey.filter((l) => l.traffic.phase === 'response_body');
    expect(bodies.map((l) => l.traffic.status)).toEqual([401, 200, 200]);
    expect(bodies[2].traffic.body).toContain('event: message_start');
    expect(bodies[2].traffic.bodyBytes).toBeGreaterThan(0);
    expect(bodies[2].traffic.end).toBe('end');

    // The account's token refresh is traced too (no key: a background call for the account).
    const refresh = lines.filter((l) => l.traffic.url === tokens.url);
    expect(refresh.every((l) => l.traffic.keyId === null)).toBe(true);
    expect(refresh.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
    expect(refresh[0].traffic.url).toBe(tokens.url);
    expect(refresh[0].traffic.body).toContain('"refresh_token":"[redacted]"');
    expect(refresh[2].traffic.body).toContain('"access_token":"[redacted]"');

    // The traced account's test: request, head, body, with its token redacted.
    const test = lines.filter((l) => l.traffic.keyId === null && l.traffic.url !== tokens.url);
    expect(test.map((l) => `${l.traffic.phase} ${l.traffic.accountId}`)).toEqual([
      `request ${oauthAccount.id}`,
      `response ${oauthAccount.id}`,
      `response_body ${oauthAccount.id}`,
    ]);
    expect(test[0].traffic.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/messages/);
    expect(test[0].traffic.headers.authorization).toBe('[redacted]');

    // Nothing of the other key or its account.
    expect(lines.filter((l) => l.traffic.keyId === otherKey.id)).toEqual([]);
    expect(lines.filter((l) => l.traffic.accountId === consoleAccount.id)).toEqual([]);
    expect(output).not.toContain('other-prompt-three');

    // No secret anywhere in the whole log.
    for (const secret of [
      CONSOLE_KEY,
      STALE_TOKEN,
      REFRESH_TOKEN,
      FRESH_TOKEN,
      tracedKey.secret,
      otherKey.secret,
      ADMIN_PASSWORD,
    ]) {
      expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
    }
  });
});
