import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small stand-in for auth.openai.com as Codex CLI uses it: the authorize endpoint (it "signs
 * in" at once and redirects to the callback with a code) and the token endpoint (the PKCE code
 * exchange, form-encoded, and the rotating refresh, JSON). Tokens are unsigned JWTs carrying the
 * claims Codex reads. Named apart from test/fake-upstream's OpenAI fakes on purpose.
 */

const AUTH_CLAIM = 'https://api.openai.com/auth';

/** An unsigned JWT with these claims (Switchyard reads claims, never checks signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.ZmFrZS1zaWduYXR1cmU`;
}

export interface FakeCodexIdentity {
  email: string;
  plan: string;
  chatgptAccountId: string;
  chatgptUserId: string;
}

export interface FakeTokenSet {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in?: number;
}

export interface TokenCall {
  contentType: string;
  body: Record<string, unknown>;
}

interface IssuedCode {
  challenge: string;
  redirectUri: string;
  clientId: string;
  used: boolean;
}

export class FakeCodexAuth {
  /** What every login signs in as. */
  identity: FakeCodexIdentity = {
    email: 'dev@example.com',
    plan: 'pro',
    chatgptAccountId: 'acct-0001',
    chatgptUserId: 'user-0001',
  };
  /** Lifetime of the access tokens issued (their JWT `exp`). */
  accessTtlSeconds = 3600;
  /** Send `expires_in` with the tokens (OpenAI's answers may leave it out). */
  sendExpiresIn = false;
  /** When set, refreshes answer this instead of new tokens. */
  refreshFailure: { status: number; body: unknown } | null = null;
  readonly tokenCalls: TokenCall[] = [];
  readonly authorizeCalls: URLSearchParams[] = [];
  origin = '';

  private server!: Server;
  private issued = 0;
  private readonly codes = new Map<string, IssuedCode>();
  /** Refresh tokens issued: true while usable, false once spent (rotation). */
  private readonly refreshTokens = new Map<string, boolean>();

  constructor(readonly clientId: string) {}

  get authorizeUrl(): string {
    return `${this.origin}/oauth/authorize`;
  }

  get tokenUrl(): string {
    return `${this.origin}/oauth/token`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The browser's part of a login: open the authorize URL, answer where it redirects to. */
  async signIn(authorizeUrl: string): Promise<string> {
    const res = await fetch(authorizeUrl, { redirect: 'manual' });
    const location = res.headers.get('location');
    if (res.status !== 302 || location === null) {
      throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
    }
    return location;
  }

  /** Tokens as a login would issue them (for an auth.json, or an account made by hand). */
  issueTokens(): FakeTokenSet {
    this.issued += 1;
    const n = this.issued;
    const auth = {
      chatgpt_account_id: this.identity.chatgptAccountId,
      chatgpt_plan_type: this.identity.plan,
      chatgpt_user_id: this.identity.chatgptUserId,
    };
    const refreshToken = `rt_fake_${n}_${'r'.repeat(24)}`;
    this.refreshTokens.set(refreshToken, true);
    const tokens: FakeTokenSet = {
      access_token: fakeJwt({
        exp: Math.floor(Date.now() / 1000) + this.accessTtlSeconds,
        jti: `access-${n}`,
        [AUTH_CLAIM]: auth,
      }),
      refresh_token: refreshToken,
      id_token: fakeJwt({ email: this.identity.email, jti: `id-${n}`, [AUTH_CLAIM]: auth }),
    };
    if (this.sendExpiresIn) tokens.expires_in = this.accessTtlSeconds;
    return tokens;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    if (req.method === 'GET' && url.pathname === '/oauth/authorize') {
      this.authorize(url.searchParams, res);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/oauth/token') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.token(req, Buffer.concat(chunks).toString('utf8'), res));
      return;
    }
    res.statusCode = 404;
    res.end('not found');
  }

  private authorize(query: URLSearchParams, res: ServerResponse): void {
    this.authorizeCalls.push(query);
    const redirectUri = query.get('redirect_uri');
    const challenge = query.get('code_challenge');
    const problems = [
      query.get('response_type') === 'code' ? null : 'response_type',
      query.get('client_id') === this.clientId ? null : 'client_id',
      query.get('code_challenge_method') === 'S256' ? null : 'code_challenge_method',
      challenge ? null : 'code_challenge',
      redirectUri ? null : 'redirect_uri',
      query.get('state') ? null : 'state',
      query.get('scope')?.split(' ').includes('offline_access') ? null : 'scope',
    ].filter((p) => p !== null);
    if (problems.length > 0 || redirectUri === null || challenge === null) {
      res.statusCode = 400;
      res.end(`bad authorize request: ${problems.join(', ')}`);
      return;
    }
    const code = `ac_fake_${this.codes.size + 1}_${'c'.repeat(16)}`;
    this.codes.set(code, { challenge, redirectUri, clientId: this.clientId, used: false });
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', code);
    callback.searchParams.set('scope', query.get('scope') ?? '');
    callback.searchParams.set('state', query.get('state') ?? '');
    res.statusCode = 302;
    res.setHeader('location', callback.toString());
    res.end();
  }

  private token(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    let body: Record<string, unknown>;
    if (contentType === 'application/x-www-form-urlencoded') {
      body = Object.fromEntries(new URLSearchParams(raw));
    } else if (contentType === 'application/json') {
      body = JSON.parse(raw) as Record<string, unknown>;
    } else {
      this.answer(res, 415, { error: 'invalid_request', error_description: 'content type' });
      return;
    }
    this.tokenCalls.push({ contentType, body });
    if (body.client_id !== this.clientId) {
      this.answer(res, 401, { error: 'invalid_client', error_description: 'unknown client' });
      return;
    }
    if (body.grant_type === 'authorization_code' && contentType !== 'application/json') {
      this.exchange(body, res);
      return;
    }
    if (body.grant_type === 'refresh_token' && contentType === 'application/json') {
      this.refresh(body, res);
      return;
    }
    this.answer(res, 400, { error: 'unsupported_grant_type' });
  }

  private exchange(body: Record<string, unknown>, res: ServerResponse): void {
    const issued = this.codes.get(String(body.code));
    const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (
      issued === undefined ||
      issued.used ||
      issued.redirectUri !== body.redirect_uri ||
      issued.challenge !== challenge
    ) {
      this.answer(res, 400, {
        error: 'invalid_grant',
        error_description: 'Invalid authorization code',
      });
      return;
    }
    issued.used = true;
    this.answer(res, 200, this.issueTokens());
  }

  private refresh(body: Record<string, unknown>, res: ServerResponse): void {
    if (this.refreshFailure !== null) {
      this.answer(res, this.refreshFailure.status, this.refreshFailure.body);
      return;
    }
    const token = String(body.refresh_token);
    const live = this.refreshTokens.get(token);
    if (live !== true) {
      this.answer(res, 401, {
        error: {
          message: 'Your refresh token has already been used to generate a new access token.',
          type: 'invalid_request_error',
          code: live === false ? 'refresh_token_reused' : 'refresh_token_invalidated',
        },
      });
      return;
    }
    this.refreshTokens.set(token, false);
    this.answer(res, 200, this.issueTokens());
  }

  private answer(res: ServerResponse, status: number, body: unknown): void {
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  }
}
