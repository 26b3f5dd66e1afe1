import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createAppLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import { ClaudeOAuthClient } from './claude/claude-oauth.client';
import { CodexTokenClient } from './codex/codex-token.client';
import { CodeAssistSetupClient } from './google/code-assist-setup.client';
import { GoogleTokenClient } from './google/google-token.client';

// Every credential an exchange carries; none may appear anywhere in the log.
const CODE = 'auth-code-secret-value-1234';
const VERIFIER = 'pkce-verifier-secret-value-5678';
const REFRESH_TOKEN = 'refresh-token-secret-value-9012';
const ACCESS_TOKEN = 'access-token-secret-value-3456';
const NEW_REFRESH_TOKEN = 'new-refresh-token-secret-value-7890';
const ID_TOKEN = 'id-token-secret-value-1357';
const CLIENT_SECRET = 'GOCSPX-client-secret-value-2468';
const SECRETS = [
  CODE,
  VERIFIER,
  REFRESH_TOKEN,
  ACCESS_TOKEN,
  NEW_REFRESH_TOKEN,
  ID_TOKEN,
  CLIENT_SECRET,
];

const TOKENS = JSON.stringify({
  access_token: ACCESS_TOKEN,
  refresh_token: NEW_REFRESH_TOKEN,
  id_token: ID_TOKEN,
  expires_in: 3600,
  token_type: 'Bearer',
});

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => resolve(body));
  });
}

/** Token, profile and Code Assist endpoints on loopback, answering with the secrets above. */
async function startUpstream(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    void readBody(req).then(() => {
      const json = (status: number, body: string): void => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(body);
      };
      if (req.url === '/token') return json(200, TOKENS);
      if (req.url === '/profile') {
        return json(200, JSON.stringify({ account: { uuid: 'u-1', email: 'a@example.com' } }));
      }
      if (req.url === '/v1internal:loadCodeAssist') {
        return json(
          200,
          JSON.stringify({ currentTier: { id: 'free-tier' }, cloudaicompanionProject: 'proj-1' }),
        );
      }
      json(404, '{"error":"not_found"}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A loopback port nothing listens on (a refused connection). */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

interface Harness {
  config: ConfigService;
  traffic: HttpTrafficLogger;
  output: () => string;
  lines: () => { msg: string; traffic: Record<string, any> }[];
}

function harness(spec: string, baseUrl: string): Harness {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const config = new ConfigService(
    loadEnvironment({
      DEBUG_HTTP_TRAFFIC: spec,
      CLAUDE_OAUTH_TOKEN_URL: `${baseUrl}/token`,
      CLAUDE_OAUTH_PROFILE_URL: `${baseUrl}/profile`,
      CODEX_OAUTH_TOKEN_URL: `${baseUrl}/token`,
      GOOGLE_OAUTH_TOKEN_URL: `${baseUrl}/token`,
      GOOGLE_OAUTH_CLIENT_SECRET: CLIENT_SECRET,
    }),
  );
  const output = (): string => out.join('');
  return {
    config,
    traffic: new HttpTrafficLogger(config, createAppLogger(sink)),
    output,
    lines: () =>
      output()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { msg: string; traffic: Record<string, any> })
        .filter((l) => l.traffic !== undefined),
  };
}

function expectNoSecret(output: string): void {
  for (const secret of SECRETS) {
    expect({ secret, found: output.includes(secret) }).toEqual({ secret, found: false });
  }
}

describe('DEBUG_HTTP_TRAFFIC on the OAuth clients', () => {
  let upstream: { server: Server; url: string };

  beforeAll(async () => {
    upstream = await startUpstream();
  });
  afterAll(async () => {
    await new Promise((resolve) => upstream.server.close(resolve));
  });

  describe(CodexTokenClient.name, () => {
    it('should log a refresh under its account with the tokens redacted', async () => {
      const h = harness('account:acc-1', upstream.url);
      const client = new CodexTokenClient(h.config, undefined, undefined, h.traffic);

      const call = await client.refresh(REFRESH_TOKEN, null, 'acc-1');

      expect(call.ok).toBe(true);
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines[0].traffic).toMatchObject({
        keyId: null,
        accountId: 'acc-1',
        method: 'POST',
        url: `${upstream.url}/token`,
      });
      expect(lines[0].traffic.body).toContain('"refresh_token":"[redacted]"');
      expect(lines[0].traffic.body).toContain('"grant_type":"refresh_token"');
      expect(lines[2].traffic.status).toBe(200);
      expect(lines[2].traffic.body).toContain('"access_token":"[redacted]"');
      expect(lines[2].traffic.body).toContain('"id_token":"[redacted]"');
      expectNoSecret(h.output());
    });

    it('should log a login exchange (form body) with the code and verifier redacted', async () => {
      const h = harness('all', upstream.url);
      const client = new CodexTokenClient(h.config, undefined, undefined, h.traffic);

      const call = await client.exchangeCode(
        { code: CODE, codeVerifier: VERIFIER, redirectUri: 'http://localhost:1455/auth/callback' },
        null,
      );

      expect(call.ok).toBe(true);
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines[0].traffic.accountId).toBeNull();
      expect(lines[0].traffic.body).toContain('code=[redacted]');
      expect(lines[0].traffic.body).toContain('code_verifier=[redacted]');
      expect(lines[0].traffic.body).toContain('grant_type=authorization_code');
      expectNoSecret(h.output());
    });

    it('should leave out a login of a new account when only accounts are traced', async () => {
      const h = harness('account:acc-1', upstream.url);
      const client = new CodexTokenClient(h.config, undefined, undefined, h.traffic);

      await client.exchangeCode({ code: CODE, codeVerifier: VERIFIER, redirectUri: 'x' }, null);
      await client.refresh(REFRESH_TOKEN, null, 'acc-2');

      expect(h.lines()).toEqual([]);
    });

    it('should log a call that reaches no endpoint as failed', async () => {
      const h = harness('all', await closedPortUrl());
      const client = new CodexTokenClient(h.config, undefined, undefined, h.traffic);

      const call = await client.refresh(REFRESH_TOKEN, null, 'acc-1');

      expect(call.ok).toBe(false);
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'error']);
      expect(lines[1].traffic.code).toBe('ECONNREFUSED');
      expectNoSecret(h.output());
    });

    it('should log nothing when the mode is off', async () => {
      const h = harness('off', upstream.url);
      const client = new CodexTokenClient(h.config, undefined, undefined, h.traffic);

      expect((await client.refresh(REFRESH_TOKEN, null, 'acc-1')).ok).toBe(true);
      expect(h.output()).toBe('');
    });
  });

  describe(GoogleTokenClient.name, () => {
    it('should log a refresh with the client secret and tokens redacted', async () => {
      const h = harness('account:acc-g', upstream.url);
      const client = new GoogleTokenClient(h.config, undefined, h.traffic);

      const call = await client.refresh(REFRESH_TOKEN, null, 'acc-g');

      expect(call.ok).toBe(true);
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines[0].traffic).toMatchObject({
        keyId: null,
        accountId: 'acc-g',
        method: 'POST',
        url: `${upstream.url}/token`,
      });
      expect(lines[0].traffic.body).toContain('refresh_token=[redacted]');
      expect(lines[0].traffic.body).toContain('client_secret=[redacted]');
      expect(lines[0].traffic.body).toContain('grant_type=refresh_token');
      expect(lines[2].traffic.body).toContain('"access_token":"[redacted]"');
      expectNoSecret(h.output());
    });

    it('should log a login exchange with the code and verifier redacted', async () => {
      const h = harness('all', upstream.url);
      const client = new GoogleTokenClient(h.config, undefined, h.traffic);

      const call = await client.exchangeCode(
        {
          code: CODE,
          codeVerifier: VERIFIER,
          redirectUri: 'https://codeassist.google.com/authcode',
        },
        null,
      );

      expect(call.ok).toBe(true);
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines[0].traffic.accountId).toBeNull();
      expect(lines[0].traffic.body).toContain('code=[redacted]');
      expect(lines[0].traffic.body).toContain('code_verifier=[redacted]');
      expectNoSecret(h.output());
    });

    it('should log a call that reaches no endpoint as failed', async () => {
      const h = harness('all', await closedPortUrl());
      const client = new GoogleTokenClient(h.config, undefined, h.traffic);

      const call = await client.refresh(REFRESH_TOKEN, null, 'acc-g');

      expect(call.ok).toBe(false);
      // google-auth-library tries a refused connection again: each try is logged.
      const lines = h.lines();
      expect(lines.length).toBeGreaterThanOrEqual(2);
      for (let i = 0; i < lines.length; i += 2) {
        expect(lines[i].traffic.phase).toBe('request');
        expect(lines[i + 1].traffic).toMatchObject({ phase: 'error', code: 'ECONNREFUSED' });
      }
      expectNoSecret(h.output());
    });
  });

  describe(ClaudeOAuthClient.name, () => {
    it('should log a login exchange and its profile read with every credential redacted', async () => {
      const h = harness('account:acc-c', upstream.url);
      const client = new ClaudeOAuthClient(h.config, undefined, undefined, h.traffic);

      const exchange = await client.exchangeCode(
        { code: CODE, state: 'state-1', codeVerifier: VERIFIER, redirectUri: 'https://r' },
        null,
        'acc-c',
      );
      const profile = await client.fetchProfile(ACCESS_TOKEN, null, 'acc-c');

      expect(exchange.ok).toBe(true);
      expect(profile.ok).toBe(true);
      const lines = h.lines();
      expect(lines.map((l) => `${l.traffic.phase} ${l.traffic.url}`)).toEqual([
        `request ${upstream.url}/token`,
        `response ${upstream.url}/token`,
        `response_body ${upstream.url}/token`,
        `request ${upstream.url}/profile`,
        `response ${upstream.url}/profile`,
        `response_body ${upstream.url}/profile`,
      ]);
      expect(lines.every((l) => l.traffic.accountId === 'acc-c')).toBe(true);
      expect(lines[0].traffic.body).toContain('"code":"[redacted]"');
      expect(lines[0].traffic.body).toContain('"code_verifier":"[redacted]"');
      expect(lines[3].traffic.headers.authorization).toBe('[redacted]');
      expectNoSecret(h.output());
    });
  });

  describe(CodeAssistSetupClient.name, () => {
    it('should log loadCodeAssist under the account with its bearer token redacted', async () => {
      const h = harness('account:acc-g', upstream.url);
      const client = new CodeAssistSetupClient(undefined, undefined, h.traffic);

      const setup = await client.setUp({
        baseUrl: upstream.url,
        accessToken: ACCESS_TOKEN,
        proxyUrl: null,
        accountId: 'acc-g',
      });

      expect(setup).toMatchObject({ ok: true, projectId: 'proj-1' });
      const lines = h.lines();
      expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines[0].traffic).toMatchObject({
        accountId: 'acc-g',
        url: `${upstream.url}/v1internal:loadCodeAssist`,
      });
      expect(lines[0].traffic.headers.authorization).toBe('[redacted]');
      expect(lines[2].traffic.body).toContain('proj-1');
      expectNoSecret(h.output());
    });

    it('should log a failed setup call', async () => {
      const h = harness('all', upstream.url);
      const client = new CodeAssistSetupClient(undefined, undefined, h.traffic);

      const setup = await client.setUp({
        baseUrl: await closedPortUrl(),
        accessToken: ACCESS_TOKEN,
        proxyUrl: null,
      });

      expect(setup.ok).toBe(false);
      expect(h.lines().map((l) => l.traffic.phase)).toEqual(['request', 'error']);
      expectNoSecret(h.output());
    });
  });
});
