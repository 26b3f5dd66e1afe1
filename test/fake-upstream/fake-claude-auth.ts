import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake of Anthropic's OAuth server as Claude Code (2.1.332) signs in with it, for the
 * `claude-oauth` account type's login, setup token and refresh. Wire facts, from Claude Code's
 * bundle:
 * - authorize (`https://claude.com/cai/oauth/authorize`): `code=true`, client_id, response_type
 *   =code, redirect_uri (the manual redirect `https://platform.claude.com/oauth/code/callback`,
 *   which shows `code#state`), scope, code_challenge, code_challenge_method=S256, state.
 *   Served here as `GET /oauth/authorize` (a 302 to redirect_uri with code and state), and
 *   in-process as `signIn(url)`, which answers what the page would show.
 * - token (`POST /v1/oauth/token`, JSON): the code exchange `{grant_type: authorization_code,
 *   code, redirect_uri, client_id, code_verifier, state[, expires_in]}`, answered with
 *   access_token, refresh_token, expires_in, scope, account {uuid, email_address} and
 *   organization {uuid, name}; `claude setup-token` asks scope user:inference and expires_in
 *   31536000, and gets no refresh token here; the refresh `{grant_type: refresh_token,
 *   refresh_token, client_id[, scope]}` rotates the refresh token.
 * - profile (`GET /api/oauth/profile`, bearer): account {uuid, email, display_name, full_name,
 *   has_claude_max, has_claude_pro} and organization {uuid, name, organization_type
 *   (claude_max, claude_pro, claude_team, claude_enterprise), rate_limit_tier, billing_type}; a
 *   token without user:profile is refused (403).
 */

/** Claude Code's public OAuth client id. */
export const CLAUDE_CODE_CLIENT_ID = '9d1c250a-e61b-44d9-88ed-5944d1962f5e';

/** What the token endpoint reports as a login's access token lifetime: 8 hours. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 28_800;

const CODE_TTL_MS = 10 * 60_000;

export type FakeClaudePlan = 'max' | 'pro' | 'team' | 'enterprise' | 'free';

export interface FakeClaudeAccount {
  accountUuid: string;
  email: string;
  displayName: string;
  organizationUuid: string;
  organizationName: string;
  plan: FakeClaudePlan;
}

export interface FakeClaudeAuthOptions {
  host?: string;
  account?: Partial<FakeClaudeAccount>;
  clientId?: string;
  accessTokenTtlSeconds?: number;
}

/** One PKCE authorization the fake granted. */
export interface FakeClaudeGrant {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
  /** Every query parameter of the authorize URL, in order. */
  query: [string, string][];
  code: string;
  issuedAt: number;
  redeemed: boolean;
}

/** What the admin gets back from signing in: what the page shows, and where the browser is. */
export interface FakeClaudeSignIn {
  code?: string;
  state: string;
  /** `code#state`, as the manual redirect page shows it (absent when the sign-in was denied). */
  pasted?: string;
  /** The URL the browser landed on. */
  callbackUrl: string;
}

export interface FakeClaudeRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** A token request's JSON body (strings and numbers). */
  params?: Record<string, unknown>;
  status?: number;
}

interface AccessTokenState {
  account: FakeClaudeAccount;
  scopes: string[];
  expiresAtMs: number;
}

interface RefreshTokenState {
  account: FakeClaudeAccount;
  scopes: string[];
  state: 'active' | 'used';
}

interface Reply {
  status: number;
  body: unknown;
}

const ORGANIZATION_TYPE: Record<FakeClaudePlan, string> = {
  max: 'claude_max',
  pro: 'claude_pro',
  team: 'claude_team',
  enterprise: 'claude_enterprise',
  free: 'claude_free',
};

export class FakeClaudeAuth {
  readonly requests: FakeClaudeRequest[] = [];
  readonly grants: FakeClaudeGrant[] = [];
  readonly counts = { authorizationCode: 0, refresh: 0, profile: 0 };

  private readonly sockets = new Set<Socket>();
  private readonly accessTokens = new Map<string, AccessTokenState>();
  private readonly refreshTokens = new Map<string, RefreshTokenState>();
  private failures: { status: number; remaining: number } | undefined;
  private denyNext: string | undefined;
  private accountValue: FakeClaudeAccount;
  private readonly ttlSeconds: number;
  private seq = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly clientId: string,
    options: FakeClaudeAuthOptions,
  ) {
    this.accountValue = {
      accountUuid: 'acc-0b8c2f1e-claude',
      email: 'claude-user@example.com',
      displayName: 'Claude User',
      organizationUuid: 'org-5d1a7c3e-claude',
      organizationName: "claude-user@example.com's Organization",
      plan: 'max',
      ...options.account,
    };
    this.ttlSeconds = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  }

  static async start(options: FakeClaudeAuthOptions = {}): Promise<FakeClaudeAuth> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const auth = new FakeClaudeAuth(
      server,
      `http://${host}:${port}`,
      options.clientId ?? CLAUDE_CODE_CLIENT_ID,
      options,
    );
    server.on('connection', (socket: Socket) => {
      auth.sockets.add(socket);
      socket.once('close', () => auth.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => auth.handle(req, res));
    return auth;
  }

  get authorizeUrl(): string {
    return `${this.url}/oauth/authorize`;
  }

  get tokenUrl(): string {
    return `${this.url}/v1/oauth/token`;
  }

  get profileUrl(): string {
    return `${this.url}/api/oauth/profile`;
  }

  /** The environment that points Switchyard's Claude login at this fake. */
  get env(): Record<string, string> {
    return {
      CLAUDE_OAUTH_AUTHORIZE_URL: this.authorizeUrl,
      CLAUDE_OAUTH_TOKEN_URL: this.tokenUrl,
      CLAUDE_OAUTH_PROFILE_URL: this.profileUrl,
      CLAUDE_OAUTH_CLIENT_ID: this.clientId,
    };
  }

  get account(): FakeClaudeAccount {
    return this.accountValue;
  }

  /** The account later sign-ins are of. */
  setAccount(account: Partial<FakeClaudeAccount>): this {
    this.accountValue = { ...this.accountValue, ...account };
    return this;
  }

  /** The next `count` token requests answer `status` (e.g. 503: a transient failure). */
  failTokenRequests(status: number, count = 1): this {
    this.failures = { status, remaining: count };
    return this;
  }

  /** The next sign-in comes back with `error=<error>` instead of a code. */
  denyNextAuthorization(error = 'access_denied'): this {
    this.denyNext = error;
    return this;
  }

  /**
   * The sign-in at an authorize URL, without a browser: checks the URL as the authorization
   * server would and grants a code for its PKCE challenge. Throws on a malformed URL.
   */
  signIn(authorizeUrl: string): FakeClaudeSignIn {
    const url = new URL(authorizeUrl);
    const q = Object.fromEntries(url.searchParams);
    const problem =
      q.code !== 'true'
        ? 'code must be true'
        : q.response_type !== 'code'
          ? 'response_type must be code'
          : q.client_id !== this.clientId
            ? `unknown client_id ${q.client_id}`
            : !q.code_challenge
              ? 'code_challenge is required'
              : q.code_challenge_method !== 'S256'
                ? 'code_challenge_method must be S256'
                : !q.state
                  ? 'state is required'
                  : !q.scope
                    ? 'scope is required'
                    : !isHttpUrl(q.redirect_uri)
                      ? 'redirect_uri must be an http(s) URL'
                      : undefined;
    if (problem !== undefined) throw new Error(`authorize refused: ${problem}`);
    const callback = new URL(q.redirect_uri);
    if (this.denyNext !== undefined) {
      callback.searchParams.set('error', this.denyNext);
      callback.searchParams.set('error_description', 'The user denied the request.');
      callback.searchParams.set('state', q.state);
      this.denyNext = undefined;
      return { state: q.state, callbackUrl: callback.toString() };
    }
    const code = `ac_claude_${++this.seq}_${randomBytes(12).toString('base64url')}`;
    this.grants.push({
      clientId: q.client_id,
      redirectUri: q.redirect_uri,
      scopes: q.scope.split(' ').filter((scope) => scope !== ''),
      state: q.state,
      codeChallenge: q.code_challenge,
      query: [...url.searchParams],
      code,
      issuedAt: Date.now(),
      redeemed: false,
    });
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', q.state);
    return { code, state: q.state, pasted: `${code}#${q.state}`, callbackUrl: callback.toString() };
  }

  /** Whether `token` is an access token this fake issued and that has not expired. */
  checkAccessToken(
    token: string,
  ): { valid: true; scopes: string[]; email: string } | { valid: false } {
    const state = this.accessTokens.get(token);
    if (state === undefined || state.expiresAtMs <= Date.now()) return { valid: false };
    return { valid: true, scopes: state.scopes, email: state.account.email };
  }

  /** Forgets requests, counts and knobs; issued tokens and grants stay. */
  reset(): void {
    this.requests.length = 0;
    this.counts.authorizationCode = 0;
    this.counts.refresh = 0;
    this.counts.profile = 0;
    this.failures = undefined;
    this.denyNext = undefined;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: FakeClaudeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      headers: req.headers,
    };
    this.requests.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (record.method === 'GET' && record.path === '/oauth/authorize') {
        this.authorizePage(res, record, `${this.url}${req.url ?? ''}`);
      } else if (record.method === 'POST' && record.path === '/v1/oauth/token') {
        this.reply(res, record, this.token(record, body));
      } else if (record.method === 'GET' && record.path === '/api/oauth/profile') {
        this.reply(res, record, this.profile(record));
      } else {
        this.reply(res, record, { status: 404, body: oauthError('not_found', record.path) });
      }
    });
  }

  private authorizePage(res: ServerResponse, record: FakeClaudeRequest, url: string): void {
    let signIn: FakeClaudeSignIn;
    try {
      signIn = this.signIn(url);
    } catch (error) {
      this.reply(res, record, {
        status: 400,
        body: oauthError('invalid_request', (error as Error).message),
      });
      return;
    }
    record.status = 302;
    res.writeHead(302, { location: signIn.callbackUrl, 'content-length': '0' });
    res.end();
  }

  private token(record: FakeClaudeRequest, body: string): Reply {
    const contentType = (record.headers['content-type'] ?? '').toLowerCase();
    if (!contentType.startsWith('application/json')) {
      return { status: 400, body: oauthError('invalid_request', 'the body must be JSON') };
    }
    const params = parseJson(body);
    record.params = params;
    if (this.failures !== undefined && this.failures.remaining > 0) {
      this.failures.remaining--;
      return {
        status: this.failures.status,
        body: { type: 'error', error: { type: 'api_error', message: 'Internal server error' } },
      };
    }
    if (params.client_id !== this.clientId) {
      return { status: 401, body: oauthError('invalid_client', 'unknown client_id') };
    }
    if (params.grant_type === 'authorization_code') return this.redeemCode(params);
    if (params.grant_type === 'refresh_token') return this.refresh(params);
    return { status: 400, body: oauthError('unsupported_grant_type', String(params.grant_type)) };
  }

  private redeemCode(params: Record<string, unknown>): Reply {
    this.counts.authorizationCode++;
    const grant = this.grants.find((candidate) => candidate.code === params.code);
    const refuse = (description: string): Reply => ({
      status: 400,
      body: oauthError('invalid_grant', description),
    });
    if (grant === undefined) return refuse('Invalid authorization code');
    if (grant.redeemed) return refuse('Authorization code already used');
    if (Date.now() - grant.issuedAt > CODE_TTL_MS) return refuse('Authorization code expired');
    if (params.redirect_uri !== grant.redirectUri) return refuse('Redirect URI mismatch');
    if (params.state !== grant.state) return refuse('State mismatch');
    if (
      typeof params.code_verifier !== 'string' ||
      s256(params.code_verifier) !== grant.codeChallenge
    ) {
      return refuse('Invalid code verifier');
    }
    grant.redeemed = true;
    const expiresIn = typeof params.expires_in === 'number' ? params.expires_in : undefined;
    // Claude Code's setup-token: inference only, a long-lived access token and nothing to refresh.
    const inferenceOnly = grant.scopes.length === 1 && grant.scopes[0] === 'user:inference';
    return {
      status: 200,
      body: this.mint(this.accountValue, grant.scopes, {
        ttlSeconds: expiresIn ?? this.ttlSeconds,
        refreshable: !inferenceOnly,
      }),
    };
  }

  private refresh(params: Record<string, unknown>): Reply {
    this.counts.refresh++;
    const token = typeof params.refresh_token === 'string' ? params.refresh_token : '';
    const state = this.refreshTokens.get(token);
    if (state === undefined || state.state === 'used') {
      return { status: 400, body: oauthError('invalid_grant', 'Invalid refresh token') };
    }
    state.state = 'used';
    return {
      status: 200,
      body: this.mint(state.account, state.scopes, {
        ttlSeconds: this.ttlSeconds,
        refreshable: true,
      }),
    };
  }

  private profile(record: FakeClaudeRequest): Reply {
    this.counts.profile++;
    const authorization = record.headers.authorization ?? '';
    const token = /^bearer /i.test(authorization) ? authorization.slice(7).trim() : '';
    const state = this.accessTokens.get(token);
    if (state === undefined || state.expiresAtMs <= Date.now()) {
      return {
        status: 401,
        body: {
          type: 'error',
          error: { type: 'authentication_error', message: 'Invalid bearer token' },
        },
      };
    }
    if (!state.scopes.includes('user:profile')) {
      return {
        status: 403,
        body: {
          type: 'error',
          error: {
            type: 'permission_error',
            message: 'OAuth token does not meet scope requirement user:profile',
          },
        },
      };
    }
    const { account } = state;
    return {
      status: 200,
      body: {
        account: {
          uuid: account.accountUuid,
          full_name: account.displayName,
          display_name: account.displayName,
          email: account.email,
          has_claude_max: account.plan === 'max',
          has_claude_pro: account.plan === 'pro',
          created_at: '2025-01-15T10:00:00.000000Z',
        },
        organization: {
          uuid: account.organizationUuid,
          name: account.organizationName,
          organization_type: ORGANIZATION_TYPE[account.plan],
          billing_type: account.plan === 'free' ? null : 'stripe_subscription',
          rate_limit_tier: account.plan === 'max' ? 'default_claude_max_20x' : 'default_claude_ai',
          has_extra_usage_enabled: false,
        },
      },
    };
  }

  private mint(
    account: FakeClaudeAccount,
    scopes: string[],
    options: { ttlSeconds: number; refreshable: boolean },
  ): Record<string, unknown> {
    const n = ++this.seq;
    const accessToken = `sk-ant-oat01-fake${n}-${randomBytes(18).toString('base64url')}`;
    this.accessTokens.set(accessToken, {
      account: { ...account },
      scopes,
      expiresAtMs: Date.now() + options.ttlSeconds * 1000,
    });
    const body: Record<string, unknown> = {
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: options.ttlSeconds,
      scope: scopes.join(' '),
      account: { uuid: account.accountUuid, email_address: account.email },
      organization: { uuid: account.organizationUuid, name: account.organizationName },
    };
    if (options.refreshable) {
      const refreshToken = `sk-ant-ort01-fake${n}-${randomBytes(18).toString('base64url')}`;
      this.refreshTokens.set(refreshToken, { account: { ...account }, scopes, state: 'active' });
      body.refresh_token = refreshToken;
    }
    return body;
  }

  private reply(res: ServerResponse, record: FakeClaudeRequest, reply: Reply): void {
    record.status = reply.status;
    const payload = JSON.stringify(reply.body);
    res.writeHead(reply.status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(payload)),
      'cache-control': 'no-store',
    });
    res.end(payload);
  }
}

/** base64url(sha256(verifier)): the S256 code challenge (RFC 7636 section 4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

function oauthError(error: string, description: string): Record<string, string> {
  return { error, error_description: description };
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

function isHttpUrl(value: string | undefined): value is string {
  if (value === undefined) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
