import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import type { CodexTokenAuthority } from './fake-upstream';

/**
 * A fake of the OpenAI OAuth server (`auth.openai.com`) that the Codex CLI signs in with, for
 * the `codex-oauth` account type's login and refresh. Wire facts, from openai/codex:
 * - codex-rs/login/src/server.rs `build_authorize_url`: `GET {issuer}/oauth/authorize` with
 *   response_type=code, client_id, redirect_uri (`http://localhost:1455/auth/callback`), scope,
 *   code_challenge, code_challenge_method=S256, id_token_add_organizations,
 *   codex_cli_simplified_flow, state, originator; the browser comes back with `code` + `state`.
 * - same file, `exchange_code_for_tokens`: `POST {issuer}/oauth/token`,
 *   `application/x-www-form-urlencoded`, grant_type=authorization_code, code, redirect_uri,
 *   client_id, code_verifier; the answer has id_token, access_token, refresh_token.
 * - codex-rs/login/src/auth/manager.rs `request_chatgpt_token_refresh`: `POST .../oauth/token`,
 *   `application/json` `{client_id, grant_type: "refresh_token", refresh_token}`; the answer's
 *   id_token, access_token and refresh_token are each optional. A failure whose `error.code`
 *   (or string `error`) is `refresh_token_expired` / `_reused` / `_invalidated`, or any 401, is
 *   permanent (`classify_refresh_token_failure`); anything else is retried as transient.
 * - codex-rs/login/src/token_data.rs: the id_token payload carries `email` (or
 *   `https://api.openai.com/profile.email`) and `https://api.openai.com/auth` with
 *   chatgpt_account_id, chatgpt_plan_type, chatgpt_user_id. Codex only splits the JWT and
 *   base64url-decodes the payload, so these tokens are not really signed.
 * The server accepts both encodings on both grants and records which one was used.
 */

/** The Codex CLI's OAuth client id (codex-rs/login/src/auth/manager.rs `CLIENT_ID`). */
export const CODEX_CLIENT_ID = 'app_EMoamEEZ73f0CkXaXp7hrann';

/** What auth.openai.com reports as the access token lifetime: 10 days. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 864_000;

const AUTH_CLAIM = 'https://api.openai.com/auth';
const PROFILE_CLAIM = 'https://api.openai.com/profile';
const CODE_TTL_MS = 10 * 60_000;
const SCOPE = 'openid profile email offline_access';

export interface FakeChatGPTAccount {
  accountId: string;
  email: string;
  /** `free`, `plus`, `pro`, `team`, `business`, `enterprise`, `edu`. */
  planType: string;
  userId: string;
}

export type RefreshRefusal = 'invalid_grant' | 'expired' | 'reused' | 'invalidated';

export interface FakeOpenAIAuthOptions {
  port?: number;
  host?: string;
  /** The account every login signs in as (default a `plus` account). */
  account?: Partial<FakeChatGPTAccount>;
  /** `expires_in` and the access token's `exp`; default 10 days. */
  accessTokenTtlSeconds?: number;
  /** Default the Codex CLI's client id. */
  clientId?: string;
  /** Issue a new refresh token on each refresh and retire the old one (default true). */
  rotateRefreshTokens?: boolean;
}

/** One PKCE authorization the fake granted. */
export interface FakeAuthorization {
  clientId: string;
  redirectUri: string;
  scope: string | undefined;
  state: string | undefined;
  codeChallenge: string;
  codeChallengeMethod: string;
  /** Every query parameter of the authorize request. */
  query: Record<string, string>;
  code: string;
  redeemed: boolean;
}

export interface FakeAuthRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** How a token request's body was encoded. */
  encoding?: 'form' | 'json';
  /** The token request's parameters, whichever the encoding. */
  params?: Record<string, string>;
  headers: IncomingMessage['headers'];
  status?: number;
}

export interface FakeTokenSet {
  access_token: string;
  refresh_token: string;
  id_token: string;
  expires_in: number;
  token_type: 'Bearer';
  scope: string;
}

interface AccessTokenState {
  accountId: string;
  expiresAtMs: number;
}

interface RefreshTokenState {
  account: FakeChatGPTAccount;
  /** `used`: rotated away (a reuse is refused as `refresh_token_reused`). */
  state: 'active' | 'used' | 'revoked';
}

interface TokenError {
  status: number;
  body: unknown;
}

export class FakeOpenAIAuth implements CodexTokenAuthority {
  /** Requests, oldest first. */
  readonly requests: FakeAuthRequestRecord[] = [];
  /** Authorizations granted at `/oauth/authorize`, oldest first. */
  readonly authorizations: FakeAuthorization[] = [];
  /** Calls per kind since start or `reset()`. */
  readonly counts = { authorize: 0, authorizationCode: 0, refresh: 0, token: 0 };

  private readonly sockets = new Set<Socket>();
  private readonly accessTokens = new Map<string, AccessTokenState>();
  private readonly refreshTokens = new Map<string, RefreshTokenState>();
  private readonly refusals = new Map<string, RefreshRefusal>();
  /** Authorization codes' issue times, kept apart from the records a test may change. */
  private readonly codeIssuedAt = new Map<string, number>();
  private refuseAllRefreshes: RefreshRefusal | undefined;
  private failures: { status: number; remaining: number } | undefined;
  private denyNext: string | undefined;
  private accountValue: FakeChatGPTAccount;
  private ttlSeconds: number;
  private seq = 0;

  private constructor(
    private readonly server: Server,
    /** The issuer: `{url}/oauth/authorize`, `{url}/oauth/token`. */
    readonly url: string,
    readonly clientId: string,
    private readonly rotate: boolean,
    options: FakeOpenAIAuthOptions,
  ) {
    this.accountValue = {
      accountId: 'acct_fake_chatgpt',
      email: 'codex-user@example.com',
      planType: 'plus',
      userId: 'user-fake-chatgpt',
      ...options.account,
    };
    this.ttlSeconds = options.accessTokenTtlSeconds ?? DEFAULT_ACCESS_TOKEN_TTL_SECONDS;
  }

  static async start(options: FakeOpenAIAuthOptions = {}): Promise<FakeOpenAIAuth> {
    const host = options.host ?? '127.0.0.1';
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const urlHost = host.includes(':') ? `[${host}]` : host;
    const auth = new FakeOpenAIAuth(
      server,
      `http://${urlHost}:${port}`,
      options.clientId ?? CODEX_CLIENT_ID,
      options.rotateRefreshTokens ?? true,
      options,
    );
    server.on('connection', (socket: Socket) => {
      auth.sockets.add(socket);
      socket.once('close', () => auth.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => auth.handle(req, res));
    return auth;
  }

  get account(): FakeChatGPTAccount {
    return this.accountValue;
  }

  /** The account later logins sign in as (tokens already issued keep theirs). */
  setAccount(account: Partial<FakeChatGPTAccount>): this {
    this.accountValue = { ...this.accountValue, ...account };
    return this;
  }

  /** Lifetime of access tokens issued from now on (`expires_in` and `exp`). */
  setAccessTokenTtl(seconds: number): this {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`bad TTL ${seconds}`);
    this.ttlSeconds = seconds;
    return this;
  }

  /** Makes every access token issued so far expired (the Codex route then answers 401). */
  expireAccessTokens(): this {
    const past = Date.now() - 1;
    for (const state of this.accessTokens.values()) state.expiresAtMs = past;
    return this;
  }

  /**
   * Refuse one refresh token, or every one (`'*'`): `invalid_grant` answers 400
   * `{"error":"invalid_grant",...}` (RFC 6749); the others answer 401 with OpenAI's error
   * object and `code` `refresh_token_expired` / `_reused` / `_invalidated`.
   */
  refuseRefreshToken(token: string, reason: RefreshRefusal = 'invalid_grant'): this {
    if (token === '*') this.refuseAllRefreshes = reason;
    else this.refusals.set(token, reason);
    return this;
  }

  /** The next `count` token requests answer `status` (e.g. 500: a transient failure). */
  failTokenRequests(status: number, count = 1): this {
    this.failures = { status, remaining: count };
    return this;
  }

  /** The next authorize request redirects back with `error=<error>` instead of a code. */
  denyNextAuthorization(error = 'access_denied'): this {
    this.denyNext = error;
    return this;
  }

  /** Mints a token set without the browser dance, as if a login had just completed. */
  issueTokens(account: Partial<FakeChatGPTAccount> = {}): FakeTokenSet {
    return this.mint({ ...this.accountValue, ...account });
  }

  checkAccessToken(
    token: string,
  ): { valid: true; accountId: string } | { valid: false; reason: 'expired' | 'unknown' } {
    const state = this.accessTokens.get(token);
    if (state === undefined) return { valid: false, reason: 'unknown' };
    if (state.expiresAtMs <= Date.now()) return { valid: false, reason: 'expired' };
    return { valid: true, accountId: state.accountId };
  }

  /** Forgets requests, counts and knobs; issued tokens stay valid. */
  reset(): void {
    this.requests.length = 0;
    this.authorizations.length = 0;
    this.counts.authorize = 0;
    this.counts.authorizationCode = 0;
    this.counts.refresh = 0;
    this.counts.token = 0;
    this.refusals.clear();
    this.refuseAllRefreshes = undefined;
    this.failures = undefined;
    this.denyNext = undefined;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: FakeAuthRequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
    };
    this.requests.push(record);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (record.method === 'GET' && record.path === '/oauth/authorize') {
        this.authorize(res, record);
      } else if (record.method === 'POST' && record.path === '/oauth/token') {
        this.token(res, record, body);
      } else {
        this.json(res, record, 404, { error: 'not_found', error_description: record.path });
      }
    });
  }

  private authorize(res: ServerResponse, record: FakeAuthRequestRecord): void {
    this.counts.authorize++;
    const q = record.query;
    const problem =
      q.response_type !== 'code'
        ? 'response_type must be code'
        : q.client_id !== this.clientId
          ? `unknown client_id ${q.client_id}`
          : !q.code_challenge
            ? 'code_challenge is required'
            : q.code_challenge_method !== 'S256'
              ? 'code_challenge_method must be S256'
              : !isHttpUrl(q.redirect_uri)
                ? 'redirect_uri must be an http(s) URL'
                : undefined;
    if (problem !== undefined) {
      this.json(res, record, 400, { error: 'invalid_request', error_description: problem });
      return;
    }
    const redirect = new URL(q.redirect_uri);
    if (this.denyNext !== undefined) {
      redirect.searchParams.set('error', this.denyNext);
      redirect.searchParams.set('error_description', 'The user denied the request.');
      this.denyNext = undefined;
    } else {
      const code = `ac_fake_${++this.seq}_${randomBytes(12).toString('base64url')}`;
      this.authorizations.push({
        clientId: q.client_id,
        redirectUri: q.redirect_uri,
        scope: q.scope,
        state: q.state,
        codeChallenge: q.code_challenge,
        codeChallengeMethod: q.code_challenge_method,
        query: { ...q },
        code,
        redeemed: false,
      });
      redirect.searchParams.set('code', code);
      this.codeIssuedAt.set(code, Date.now());
    }
    if (q.state !== undefined) redirect.searchParams.set('state', q.state);
    record.status = 302;
    res.writeHead(302, { location: redirect.toString(), 'content-length': '0' });
    res.end();
  }

  private token(res: ServerResponse, record: FakeAuthRequestRecord, body: string): void {
    this.counts.token++;
    const contentType = (record.headers['content-type'] ?? '').toLowerCase();
    let params: Record<string, string>;
    if (contentType.startsWith('application/json')) {
      record.encoding = 'json';
      params = parseJsonParams(body);
    } else if (contentType.startsWith('application/x-www-form-urlencoded')) {
      record.encoding = 'form';
      params = Object.fromEntries(new URLSearchParams(body));
    } else {
      this.json(res, record, 400, oauthError('invalid_request', 'unsupported content-type'));
      return;
    }
    record.params = params;
    if (this.failures !== undefined && this.failures.remaining > 0) {
      this.failures.remaining--;
      this.json(res, record, this.failures.status, {
        error: { message: 'Internal error.', type: 'server_error', param: null, code: null },
      });
      return;
    }
    if (params.client_id !== this.clientId) {
      this.json(res, record, 401, oauthError('invalid_client', 'unknown client_id'));
      return;
    }
    const result =
      params.grant_type === 'authorization_code'
        ? this.redeemCode(params)
        : params.grant_type === 'refresh_token'
          ? this.refresh(params)
          : { status: 400, body: oauthError('unsupported_grant_type', params.grant_type ?? '') };
    this.json(res, record, result.status, result.body);
  }

  private redeemCode(params: Record<string, string>): TokenError {
    this.counts.authorizationCode++;
    const grant = this.authorizations.find((candidate) => candidate.code === params.code);
    const issuedAt = params.code === undefined ? undefined : this.codeIssuedAt.get(params.code);
    if (grant === undefined || issuedAt === undefined) {
      return { status: 400, body: oauthError('invalid_grant', 'unknown authorization code') };
    }
    if (grant.redeemed) {
      return { status: 400, body: oauthError('invalid_grant', 'authorization code already used') };
    }
    if (Date.now() - issuedAt > CODE_TTL_MS) {
      return { status: 400, body: oauthError('invalid_grant', 'authorization code expired') };
    }
    if (params.redirect_uri !== grant.redirectUri) {
      return { status: 400, body: oauthError('invalid_grant', 'redirect_uri mismatch') };
    }
    if (!params.code_verifier || s256(params.code_verifier) !== grant.codeChallenge) {
      return { status: 400, body: oauthError('invalid_grant', 'code_verifier does not match') };
    }
    grant.redeemed = true;
    return { status: 200, body: this.mint(this.accountValue) };
  }

  private refresh(params: Record<string, string>): TokenError {
    this.counts.refresh++;
    const token = params.refresh_token ?? '';
    const refusal = this.refusals.get(token) ?? this.refuseAllRefreshes;
    if (refusal !== undefined) return refreshRefusal(refusal);
    const state = this.refreshTokens.get(token);
    if (state === undefined) return refreshRefusal('invalid_grant');
    if (state.state === 'used') return refreshRefusal('reused');
    if (state.state === 'revoked') return refreshRefusal('invalidated');
    if (!this.rotate) {
      const tokens = this.mint(state.account, token);
      return { status: 200, body: tokens };
    }
    state.state = 'used';
    return { status: 200, body: this.mint(state.account) };
  }

  private mint(account: FakeChatGPTAccount, keepRefreshToken?: string): FakeTokenSet {
    const n = ++this.seq;
    const nowSeconds = Math.floor(Date.now() / 1000);
    const exp = nowSeconds + this.ttlSeconds;
    const authClaim = {
      chatgpt_account_id: account.accountId,
      chatgpt_plan_type: account.planType,
      chatgpt_user_id: account.userId,
      user_id: account.userId,
    };
    const accessToken = unsignedJwt({
      iss: this.url,
      aud: ['https://api.openai.com/v1'],
      client_id: this.clientId,
      sub: account.userId,
      iat: nowSeconds,
      exp,
      jti: `at-${n}-${randomBytes(6).toString('hex')}`,
      scp: SCOPE.split(' '),
      [AUTH_CLAIM]: authClaim,
      [PROFILE_CLAIM]: { email: account.email, email_verified: true },
    });
    const idToken = unsignedJwt({
      iss: this.url,
      aud: [this.clientId],
      sub: account.userId,
      iat: nowSeconds,
      exp: nowSeconds + 3600,
      auth_time: nowSeconds,
      email: account.email,
      email_verified: true,
      [AUTH_CLAIM]: authClaim,
      [PROFILE_CLAIM]: { email: account.email, email_verified: true },
    });
    const refreshToken =
      keepRefreshToken ?? `rt_fake_${n}_${randomBytes(16).toString('base64url')}`;
    this.accessTokens.set(accessToken, {
      accountId: account.accountId,
      expiresAtMs: exp * 1000,
    });
    this.refreshTokens.set(refreshToken, { account: { ...account }, state: 'active' });
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      id_token: idToken,
      expires_in: this.ttlSeconds,
      token_type: 'Bearer',
      scope: SCOPE,
    };
  }

  private json(
    res: ServerResponse,
    record: FakeAuthRequestRecord,
    status: number,
    body: unknown,
  ): void {
    record.status = status;
    const payload = JSON.stringify(body);
    res.writeHead(status, {
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

/** Decodes a JWT payload without verifying anything (what Codex does with its tokens). */
export function decodeJwtPayload(jwt: string): Record<string, unknown> {
  const parts = jwt.split('.');
  if (parts.length !== 3 || parts.some((part) => part === '')) {
    throw new Error('not a JWT: expected header.payload.signature');
  }
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

function unsignedJwt(payload: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  // Not a real signature: Codex never verifies these, and neither should a relay.
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(payload)}.ZmFrZS1zaWduYXR1cmU`;
}

function oauthError(error: string, description: string): Record<string, string> {
  return { error, error_description: description };
}

function refreshRefusal(reason: RefreshRefusal): TokenError {
  if (reason === 'invalid_grant') {
    return { status: 400, body: oauthError('invalid_grant', 'Invalid refresh token.') };
  }
  const messages: Record<Exclude<RefreshRefusal, 'invalid_grant'>, string> = {
    expired: 'Your refresh token has expired. Please try signing in again.',
    reused: 'Your refresh token has already been used to generate a new access token.',
    invalidated: 'Your refresh token has been invalidated. Please try signing in again.',
  };
  return {
    status: 401,
    body: {
      error: {
        message: messages[reason],
        type: 'invalid_request_error',
        param: null,
        code: `refresh_token_${reason}`,
      },
    },
  };
}

function parseJsonParams(body: string): Record<string, string> {
  try {
    const value: unknown = JSON.parse(body);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    const params: Record<string, string> = {};
    for (const [key, field] of Object.entries(value)) {
      if (typeof field === 'string') params[key] = field;
    }
    return params;
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
