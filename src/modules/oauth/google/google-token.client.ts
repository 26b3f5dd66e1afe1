import { Inject, Injectable, Optional } from '@nestjs/common';
import { OAuth2Client, type Credentials } from 'google-auth-library';
import { fetch as undiciFetch, ProxyAgent, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger, type TrafficExchange } from 'src/infra/http/http-traffic-logger';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from '../account-dispatcher';
import { GOOGLE_OAUTH_SCOPES } from './google-oauth.protocol';

/** Tokens as Google's token endpoint issues them (google-auth-library's Credentials). */
export interface GoogleTokens {
  accessToken: string;
  refreshToken?: string;
  /** Epoch ms. */
  expiresAt?: number;
  scope?: string;
}

export type GoogleTokenResult =
  | { ok: true; tokens: GoogleTokens }
  /** refused: the endpoint said no (final); unavailable: worth trying again later. */
  | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number };

/** DEBUG_HTTP_TRAFFIC: the account a token call is for, and the values to scrub from its log. */
interface TokenTrace {
  accountId: string | null;
  secrets: string[];
}

/** What the traffic log shows of a request google-auth-library hands its fetch. */
function loggedRequest(
  url: string,
  init: Record<string, unknown> | undefined,
): { method: 'GET' | 'POST'; url: string; headers: Record<string, string>; body?: string } {
  const headers = Object.fromEntries(
    new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]),
  );
  const raw = init?.body;
  const body =
    typeof raw === 'string' ? raw : raw instanceof URLSearchParams ? raw.toString() : undefined;
  // fetch types a URLSearchParams body itself: the log says so, for the form redaction.
  if (raw instanceof URLSearchParams && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const method =
    typeof init?.method === 'string' && init.method.toUpperCase() === 'POST' ? 'POST' : 'GET';
  return { method, url, headers, ...(body !== undefined ? { body } : {}) };
}

/** A proxy agent for one call when no shared dispatcher factory is bound. */
function temporaryProxyAgent(proxyUrl: string): Dispatcher {
  return new URL(proxyUrl).protocol === 'socks5:'
    ? new Socks5ProxyAgent(proxyUrl)
    : new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
}

function tokensOf(credentials: Credentials): GoogleTokens | null {
  if (typeof credentials.access_token !== 'string' || credentials.access_token === '') return null;
  const tokens: GoogleTokens = { accessToken: credentials.access_token };
  if (typeof credentials.refresh_token === 'string' && credentials.refresh_token !== '')
    tokens.refreshToken = credentials.refresh_token;
  if (typeof credentials.expiry_date === 'number') tokens.expiresAt = credentials.expiry_date;
  if (typeof credentials.scope === 'string') tokens.scope = credentials.scope;
  return tokens;
}

/** Google's OAuth error (`{"error":"invalid_grant","error_description":…}`), never a token. */
function failureOf(error: unknown): GoogleTokenResult {
  const e = error as {
    status?: unknown;
    response?: { status?: unknown; data?: unknown };
    code?: unknown;
  };
  const status =
    typeof e.response?.status === 'number'
      ? e.response.status
      : typeof e.status === 'number'
        ? e.status
        : undefined;
  if (status === undefined) {
    const code = typeof e.code === 'string' ? e.code : 'network error';
    return { ok: false, reason: 'unavailable', detail: `token endpoint unreachable (${code})` };
  }
  const data = e.response?.data as { error?: unknown; error_description?: unknown } | undefined;
  const name = typeof data?.error === 'string' ? data.error : `HTTP ${status}`;
  const description =
    typeof data?.error_description === 'string' ? `: ${data.error_description.slice(0, 200)}` : '';
  // 429 and 5xx pass; every other 4xx (invalid_grant, invalid_client, unauthorized_client) is
  // the endpoint's final word on this code or refresh token.
  const refused = status >= 400 && status < 500 && status !== 429 && status !== 408;
  return {
    ok: false,
    reason: refused ? 'refused' : 'unavailable',
    detail: `${name}${description}`,
    status,
  };
}

/**
 * Google's OAuth endpoints through `google-auth-library`'s OAuth2Client, as Gemini CLI uses them
 * (its public installed-app client, its scopes, PKCE S256), with the authorize and token URLs
 * from config (GOOGLE_OAUTH_AUTHORIZE_URL, GOOGLE_OAUTH_TOKEN_URL) and every call through the
 * account's proxy on the shared pools. Never rejects for the endpoint's answers: failures are
 * results without secrets.
 */
@Injectable()
export class GoogleTokenClient {
  constructor(
    private readonly config: ConfigService,
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional() private readonly traffic?: HttpTrafficLogger,
  ) {}

  /**
   * An OAuth2Client on the configured endpoints, sending through `dispatcher` when given; its
   * calls logged for DEBUG_HTTP_TRAFFIC when `trace` is given and the account is traced.
   */
  client(dispatcher?: Dispatcher, credentials?: Credentials, trace?: TokenTrace): OAuth2Client {
    const traffic = this.traffic?.enabled === true && trace !== undefined ? this.traffic : null;
    const secrets =
      trace === undefined ? [] : [...trace.secrets, this.config.env.GOOGLE_OAUTH_CLIENT_SECRET];
    const fetchThrough = (async (url: string, init?: Record<string, unknown>) => {
      const traced: TrafficExchange | null =
        traffic === null
          ? null
          : traffic.begin(
              { keyId: null, accountId: trace?.accountId ?? null },
              loggedRequest(url, init),
              secrets,
            );
      let response: Awaited<ReturnType<typeof undiciFetch>>;
      try {
        response = await undiciFetch(url, {
          ...(init ?? {}),
          ...(dispatcher !== undefined ? { dispatcher } : {}),
        });
      } catch (error) {
        traced?.failed(error);
        throw error;
      }
      if (traced !== null) {
        // A copy for the log; google-auth-library reads the response itself.
        const text = await response.clone().text();
        traced.completed(response.status, Object.fromEntries(response.headers), Buffer.from(text));
      }
      return response;
    }) as unknown as typeof fetch;
    const client = new OAuth2Client({
      clientId: this.config.env.GOOGLE_OAUTH_CLIENT_ID,
      clientSecret: this.config.env.GOOGLE_OAUTH_CLIENT_SECRET,
      endpoints: {
        oauth2AuthBaseUrl: this.config.env.GOOGLE_OAUTH_AUTHORIZE_URL,
        oauth2TokenUrl: this.config.env.GOOGLE_OAUTH_TOKEN_URL,
      },
      transporterOptions: { fetchImplementation: fetchThrough },
    });
    if (credentials !== undefined) client.setCredentials(credentials);
    return client;
  }

  /** A PKCE verifier and its S256 challenge (OAuth2Client.generateCodeVerifierAsync). */
  async generatePkce(): Promise<{ codeVerifier: string; codeChallenge: string }> {
    const pkce = await this.client().generateCodeVerifierAsync();
    if (pkce.codeChallenge === undefined) throw new Error('no PKCE challenge generated');
    return { codeVerifier: pkce.codeVerifier, codeChallenge: pkce.codeChallenge };
  }

  /** Gemini CLI's authorize URL: offline access, its scopes, PKCE S256, the login's state. */
  authorizeUrl(input: { codeChallenge: string; state: string; redirectUri: string }): string {
    return this.client().generateAuthUrl({
      redirect_uri: input.redirectUri,
      access_type: 'offline',
      scope: [...GOOGLE_OAUTH_SCOPES],
      code_challenge_method: 'S256' as never,
      code_challenge: input.codeChallenge,
      state: input.state,
    });
  }

  /**
   * The authorization-code exchange with the login's PKCE verifier (OAuth2Client.getToken).
   * `accountId`: the account a login replaces the credentials of (DEBUG_HTTP_TRAFFIC), else null.
   */
  exchangeCode(
    grant: { code: string; codeVerifier: string; redirectUri: string },
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<GoogleTokenResult> {
    const trace = { accountId, secrets: [grant.code, grant.codeVerifier] };
    return this.call(proxyUrl, trace, async (client) => {
      const { tokens } = await client.getToken({
        code: grant.code,
        codeVerifier: grant.codeVerifier,
        redirect_uri: grant.redirectUri,
      });
      return tokens;
    });
  }

  /** A refresh-token grant (OAuth2Client.refreshAccessToken); Google may omit a new refresh token. */
  refresh(
    refreshToken: string,
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<GoogleTokenResult> {
    return this.call(proxyUrl, { accountId, secrets: [refreshToken] }, async (client) => {
      client.setCredentials({ refresh_token: refreshToken });
      const { credentials } = await client.refreshAccessToken();
      return credentials;
    });
  }

  private async call(
    proxyUrl: string | null,
    trace: TokenTrace,
    run: (client: OAuth2Client) => Promise<Credentials>,
  ): Promise<GoogleTokenResult> {
    let temporary: Dispatcher | undefined;
    let dispatcher: Dispatcher | undefined;
    if (proxyUrl !== null) {
      dispatcher = this.dispatcherFactory?.(proxyUrl);
      if (dispatcher === undefined) dispatcher = temporary = temporaryProxyAgent(proxyUrl);
    }
    try {
      const tokens = tokensOf(await run(this.client(dispatcher, undefined, trace)));
      if (tokens === null) {
        return { ok: false, reason: 'unavailable', detail: 'token endpoint sent no access token' };
      }
      return { ok: true, tokens };
    } catch (error) {
      return failureOf(error);
    } finally {
      await temporary?.close().catch(() => undefined);
    }
  }
}
