import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A fake of Google's OAuth server as Gemini CLI (and google-auth-library) use it, for the
 * `gemini-oauth` account type's login and refresh:
 * - `GET /o/oauth2/v2/auth` (generateAuthUrl): client_id, redirect_uri, response_type=code,
 *   scope, access_type=offline, code_challenge, code_challenge_method=S256, state. It "signs in"
 *   at once and redirects to the redirect URI with `code`, `state` and `scope`.
 * - `POST /token` (form-encoded, client_secret_post): grant_type=authorization_code with code,
 *   code_verifier (checked against the challenge), redirect_uri, client_id, client_secret →
 *   `{access_token, expires_in, refresh_token, scope, token_type: "Bearer"}`;
 *   grant_type=refresh_token → a new access token and no refresh token (Google keeps it).
 *   Errors are `{error, error_description}` (400 invalid_grant, 401 invalid_client).
 * Access tokens are opaque (`ya29.fake-…`); `checkAccessToken` lets the fake Code Assist accept
 * only live ones.
 */

export const GEMINI_CLI_CLIENT_ID =
  '681255809395-oo8ft2oprdrnp9e3aqf6av3hmdib135j.apps.googleusercontent.com';
export const GEMINI_CLI_CLIENT_SECRET = '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';

export interface FakeGoogleAuthorization {
  query: Record<string, string>;
  code: string;
  redeemed: boolean;
}

export interface FakeGoogleTokenCall {
  grantType: string;
  params: Record<string, string>;
  status: number;
}

export interface FakeGoogleFailure {
  status: number;
  error?: string;
  description?: string;
}

interface AccessTokenState {
  email: string;
  expiresAtMs: number;
}

export type GoogleTokenCheck =
  { valid: true; email: string } | { valid: false; reason: 'expired' | 'unknown' };

/** What the fake Code Assist asks about a bearer token (FakeGoogleAuth implements it). */
export interface GoogleTokenAuthority {
  checkAccessToken(token: string): GoogleTokenCheck;
}

export class FakeGoogleAuth implements GoogleTokenAuthority {
  readonly authorizations: FakeGoogleAuthorization[] = [];
  readonly tokenCalls: FakeGoogleTokenCall[] = [];
  /** The account every login signs in as. */
  email = 'dev@example.com';
  /** `expires_in` of issued access tokens (Google: one hour). */
  accessTokenTtlSeconds = 3599;
  origin = '';

  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private issued = 0;
  private readonly accessTokens = new Map<string, AccessTokenState>();
  /** Refresh tokens: true while usable. */
  private readonly refreshTokens = new Map<string, boolean>();
  private readonly failures: { grant: string; failure: FakeGoogleFailure }[] = [];

  constructor(
    readonly clientId = GEMINI_CLI_CLIENT_ID,
    readonly clientSecret = GEMINI_CLI_CLIENT_SECRET,
  ) {}

  get authorizeUrl(): string {
    return `${this.origin}/o/oauth2/v2/auth`;
  }

  get tokenUrl(): string {
    return `${this.origin}/token`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
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

  /** Tokens as a login would issue them (for an oauth_creds.json or an account made by hand). */
  issueTokens(ttlSeconds = this.accessTokenTtlSeconds): {
    access_token: string;
    refresh_token: string;
    expires_in: number;
    expiry_date: number;
  } {
    const refreshToken = this.newRefreshToken();
    const accessToken = this.newAccessToken(ttlSeconds);
    return {
      access_token: accessToken,
      refresh_token: refreshToken,
      expires_in: ttlSeconds,
      expiry_date: Date.now() + ttlSeconds * 1000,
    };
  }

  /** Makes an issued access token expired now (Code Assist then answers 401). */
  expireAccessToken(token: string): void {
    const state = this.accessTokens.get(token);
    if (state !== undefined) state.expiresAtMs = 0;
  }

  /** Revokes a refresh token (its next refresh answers 400 invalid_grant). */
  revokeRefreshToken(token: string): void {
    this.refreshTokens.set(token, false);
  }

  /** The next token call of this grant (`authorization_code`, `refresh_token`) fails so. */
  failNext(grant: 'authorization_code' | 'refresh_token', failure: FakeGoogleFailure): void {
    this.failures.push({ grant, failure });
  }

  count(grant: string): number {
    return this.tokenCalls.filter((c) => c.grantType === grant && c.status === 200).length;
  }

  checkAccessToken(token: string): GoogleTokenCheck {
    const state = this.accessTokens.get(token);
    if (state === undefined) return { valid: false, reason: 'unknown' };
    if (state.expiresAtMs <= Date.now()) return { valid: false, reason: 'expired' };
    return { valid: true, email: state.email };
  }

  private newAccessToken(ttlSeconds: number): string {
    this.issued += 1;
    const token = `ya29.fake-${this.issued}-${randomBytes(12).toString('hex')}`;
    this.accessTokens.set(token, {
      email: this.email,
      expiresAtMs: Date.now() + ttlSeconds * 1000,
    });
    return token;
  }

  private newRefreshToken(): string {
    this.issued += 1;
    const token = `1//fake-refresh-${this.issued}-${randomBytes(12).toString('hex')}`;
    this.refreshTokens.set(token, true);
    return token;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.origin);
    if (req.method === 'GET' && url.pathname === '/o/oauth2/v2/auth') {
      this.authorize(url, res);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/token') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => this.token(req, Buffer.concat(chunks).toString('utf8'), res));
      return;
    }
    send(res, 404, { error: 'not_found' });
  }

  private authorize(url: URL, res: ServerResponse): void {
    const query = Object.fromEntries(url.searchParams);
    const problem =
      query.client_id !== this.clientId
        ? 'invalid_client'
        : query.response_type !== 'code'
          ? 'unsupported_response_type'
          : query.code_challenge_method !== 'S256' || !query.code_challenge
            ? 'invalid_request'
            : !query.redirect_uri
              ? 'redirect_uri_mismatch'
              : null;
    if (problem !== null) {
      send(res, 400, { error: problem });
      return;
    }
    const code = `4/fake-code-${randomBytes(16).toString('hex')}`;
    this.authorizations.push({ query, code, redeemed: false });
    const target = new URL(query.redirect_uri);
    target.searchParams.set('code', code);
    if (query.state) target.searchParams.set('state', query.state);
    if (query.scope) target.searchParams.set('scope', query.scope);
    res.writeHead(302, { location: target.toString() });
    res.end();
  }

  private token(req: IncomingMessage, raw: string, res: ServerResponse): void {
    const params = Object.fromEntries(new URLSearchParams(raw));
    const grantType = params.grant_type ?? '';
    const answer = (status: number, body: unknown): void => {
      this.tokenCalls.push({ grantType, params, status });
      send(res, status, body);
    };
    if (!String(req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded')) {
      answer(400, { error: 'invalid_request', error_description: 'form body expected' });
      return;
    }
    const failureAt = this.failures.findIndex((f) => f.grant === grantType);
    if (failureAt !== -1) {
      const { failure } = this.failures.splice(failureAt, 1)[0];
      answer(failure.status, {
        error: failure.error ?? 'server_error',
        ...(failure.description !== undefined ? { error_description: failure.description } : {}),
      });
      return;
    }
    if (params.client_id !== this.clientId || params.client_secret !== this.clientSecret) {
      answer(401, { error: 'invalid_client', error_description: 'Unauthorized' });
      return;
    }
    if (grantType === 'authorization_code') {
      const grant = this.authorizations.find((a) => a.code === params.code);
      if (grant === undefined || grant.redeemed) {
        answer(400, { error: 'invalid_grant', error_description: 'Malformed auth code.' });
        return;
      }
      const challenge = createHash('sha256')
        .update(params.code_verifier ?? '')
        .digest('base64url');
      if (challenge !== grant.query.code_challenge) {
        answer(400, { error: 'invalid_grant', error_description: 'Invalid code verifier.' });
        return;
      }
      if (params.redirect_uri !== grant.query.redirect_uri) {
        answer(400, { error: 'redirect_uri_mismatch', error_description: 'Bad Request' });
        return;
      }
      grant.redeemed = true;
      answer(200, {
        access_token: this.newAccessToken(this.accessTokenTtlSeconds),
        expires_in: this.accessTokenTtlSeconds,
        refresh_token: this.newRefreshToken(),
        scope: grant.query.scope ?? '',
        token_type: 'Bearer',
      });
      return;
    }
    if (grantType === 'refresh_token') {
      if (this.refreshTokens.get(params.refresh_token ?? '') !== true) {
        answer(400, {
          error: 'invalid_grant',
          error_description: 'Token has been expired or revoked.',
        });
        return;
      }
      answer(200, {
        access_token: this.newAccessToken(this.accessTokenTtlSeconds),
        expires_in: this.accessTokenTtlSeconds,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
        token_type: 'Bearer',
      });
      return;
    }
    answer(400, { error: 'unsupported_grant_type' });
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
