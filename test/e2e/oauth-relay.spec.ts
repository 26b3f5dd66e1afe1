import Anthropic from '@anthropic-ai/sdk';
import { createServer, type Server } from 'node:http';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/** A Claude OAuth token endpoint: hands out `fresh-<n>` access tokens for the known refresh token. */
async function startTokenServer(): Promise<{
  url: string;
  calls: unknown[];
  refuse: boolean;
  server: Server;
}> {
  const state = { url: '', calls: [] as unknown[], refuse: false, server: createServer() };
  state.server.on('request', (req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const json = JSON.parse(body) as { refresh_token?: string };
      state.calls.push(json);
      if (state.refuse || json.refresh_token !== 'refresh-1') {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"invalid_grant"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          access_token: `fresh-${state.calls.length}`,
          refresh_token: 'refresh-1',
          expires_in: 3600,
          token_type: 'Bearer',
        }),
      );
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, '127.0.0.1', resolve));
  const address = state.server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/v1/oauth/token`;
  return state;
}

describe('Claude OAuth accounts through the relay', () => {
  let h: RelayHarness;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;

  beforeAll(async () => {
    tokens = await startTokenServer();
    h = await startRelayHarness({ CLAUDE_OAUTH_TOKEN_URL: tokens.url });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => tokens?.server.close(resolve));
  });

  it('should refresh the token once on a 401, retry, and succeed', async () => {
    const account = await h.createAccount({
      name: 'sub',
      type: 'claude-oauth',
      credentials: {
        accessToken: 'stale-token',
        refreshToken: 'refresh-1',
        expiresAt: Date.now() + 3_600_000,
      },
    });
    h.upstream.forCredential('stale-token', { status: 401 });
    const key = await h.createKey({ name: 'oauth' });
    const sdk = new Anthropic({ apiKey: key.secret, baseURL: h.url, maxRetries: 0 });
    const reply = await sdk.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x' }],
    });
    expect(reply.type).toBe('message');
    const used = h.upstream.requests.map((r) => r.credential);
    expect(used).toEqual(['stale-token', 'fresh-1']);
    expect(h.upstream.requests.at(-1)!.headers['anthropic-beta']).toContain('oauth-2025-04-20');
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
    expect(detail.body.status).toBe('active');
    expect(JSON.stringify(detail.body)).not.toContain('fresh-1');
  });

  it('should mark the account auth_failed when the 401 survives a refresh', async () => {
    h.upstream.reset();
    const account = await h.createAccount({
      name: 'dead-sub',
      type: 'claude-oauth',
      credentials: { accessToken: 'revoked', refreshToken: 'refresh-unknown' },
      priority: 1,
    });
    h.upstream.forCredential('revoked', { status: 401 });
    const key = await h.createKey({ name: 'oauth-2' });
    const sdk = new Anthropic({ apiKey: key.secret, baseURL: h.url, maxRetries: 0 });
    // Fails over to the healthy account from the first test.
    const reply = await sdk.messages.create({
      model: 'claude-sonnet-4-6',
      max_tokens: 10,
      messages: [{ role: 'user', content: 'y' }],
    });
    expect(reply.type).toBe('message');
    const detail = await h.admin<any>('GET', `/admin/api/accounts/${account.id}`);
    expect(detail.body.status).toBe('auth_failed');
    expect(detail.body.routable).toBe(false);
  });
});
