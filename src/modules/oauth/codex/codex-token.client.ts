import { Inject, Injectable, Optional } from '@nestjs/common';
import { ProxyAgent, request, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from '../account-dispatcher';
import { classifyTokenFailure, tokenErrorDetail } from './codex-oauth.protocol';
import type { CodexTokenResponse } from './codex-oauth.tokens';

export interface CodexTokenClientOptions {
  requestTimeoutMs: number;
}

export const CODEX_TOKEN_CLIENT_OPTIONS = Symbol('CODEX_TOKEN_CLIENT_OPTIONS');

const DEFAULTS: CodexTokenClientOptions = { requestTimeoutMs: 15_000 };

export type TokenCallResult =
  | { ok: true; body: CodexTokenResponse }
  /** refused: the endpoint said no (final); unavailable: worth trying again later. */
  | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number };

/** A proxy agent for one call when no shared dispatcher factory is bound. */
function temporaryProxyAgent(proxyUrl: string): Dispatcher {
  const url = new URL(proxyUrl);
  return url.protocol === 'socks5:'
    ? new Socks5ProxyAgent(proxyUrl)
    : new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
}

/**
 * Calls OpenAI's OAuth token endpoint (CODEX_OAUTH_TOKEN_URL) the way Codex CLI does, through the
 * account's proxy: the authorization-code exchange of a login (form-encoded, with the PKCE
 * verifier) and the refresh (JSON). Never rejects: failures are results, without secrets.
 */
@Injectable()
export class CodexTokenClient {
  private readonly options: CodexTokenClientOptions;

  constructor(
    private readonly config: ConfigService,
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional()
    @Inject(CODEX_TOKEN_CLIENT_OPTIONS)
    options?: Partial<CodexTokenClientOptions>,
    @Optional() private readonly traffic?: HttpTrafficLogger,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * codex-rs exchange_code_for_tokens: a form body, answered with id, access and refresh tokens.
   * `accountId`: the account a login replaces the credentials of (DEBUG_HTTP_TRAFFIC), else null.
   */
  exchangeCode(
    grant: { code: string; codeVerifier: string; redirectUri: string },
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<TokenCallResult> {
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: grant.code,
      redirect_uri: grant.redirectUri,
      client_id: this.config.env.CODEX_OAUTH_CLIENT_ID,
      code_verifier: grant.codeVerifier,
    });
    return this.post('application/x-www-form-urlencoded', form.toString(), proxyUrl, {
      accountId,
      secrets: [grant.code, grant.codeVerifier],
    });
  }

  /** codex-rs request_chatgpt_token_refresh: a JSON body; the answer may omit any token. */
  refresh(
    refreshToken: string,
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<TokenCallResult> {
    const body = JSON.stringify({
      client_id: this.config.env.CODEX_OAUTH_CLIENT_ID,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
    });
    return this.post('application/json', body, proxyUrl, { accountId, secrets: [refreshToken] });
  }

  private async post(
    contentType: string,
    body: string,
    proxyUrl: string | null,
    /** DEBUG_HTTP_TRAFFIC: the account the call is for, and the values to scrub from its log. */
    trace: { accountId: string | null; secrets: string[] },
  ): Promise<TokenCallResult> {
    const call = {
      method: 'POST' as const,
      url: this.config.env.CODEX_OAUTH_TOKEN_URL,
      headers: { 'content-type': contentType, accept: 'application/json' },
      body,
    };
    const traced =
      this.traffic?.enabled === true
        ? this.traffic.begin({ keyId: null, accountId: trace.accountId }, call, trace.secrets)
        : null;
    let temporary: Dispatcher | undefined;
    let dispatcher: Dispatcher | undefined;
    if (proxyUrl !== null) {
      dispatcher = this.dispatcherFactory?.(proxyUrl);
      if (dispatcher === undefined) dispatcher = temporary = temporaryProxyAgent(proxyUrl);
    }
    try {
      const response = await request(call.url, {
        method: call.method,
        headers: call.headers,
        body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      const raw = await response.body.text();
      traced?.completed(response.statusCode, response.headers, Buffer.from(raw));
      let parsed: unknown = null;
      try {
        parsed = JSON.parse(raw);
      } catch {
        parsed = null;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          return {
            ok: false,
            reason: 'unavailable',
            detail: 'token endpoint sent no JSON object',
            status,
          };
        }
        return { ok: true, body: parsed };
      }
      return {
        ok: false,
        reason: classifyTokenFailure(status, parsed),
        detail: tokenErrorDetail(status, parsed),
        status,
      };
    } catch (error) {
      traced?.failed(error);
      const code = (error as { code?: unknown }).code;
      const name = (error as { name?: unknown }).name;
      return {
        ok: false,
        reason: 'unavailable',
        detail: `token endpoint unreachable (${typeof code === 'string' ? code : String(name)})`,
      };
    } finally {
      await temporary?.close().catch(() => undefined);
    }
  }
}
