import { Inject, Injectable, Optional } from '@nestjs/common';
import { request } from 'undici';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import {
  ACCOUNT_DISPATCHER_FACTORY,
  proxiedDispatcher,
  type AccountDispatcherFactory,
} from '../account-dispatcher';
import type { OAuthTokenCall } from '../oauth-login-flow';
import {
  CLAUDE_OAUTH_BETA,
  profileFromResponse,
  tokenErrorDetail,
  tokensFromResponse,
  type ClaudeProfile,
  type ClaudeTokens,
} from './claude-oauth.protocol';

export interface ClaudeOAuthClientOptions {
  requestTimeoutMs: number;
}

export const CLAUDE_OAUTH_CLIENT_OPTIONS = Symbol('CLAUDE_OAUTH_CLIENT_OPTIONS');

const DEFAULTS: ClaudeOAuthClientOptions = { requestTimeoutMs: 15_000 };

export type ClaudeTokenCall = OAuthTokenCall<{ tokens: ClaudeTokens }>;

export type ClaudeProfileCall =
  { ok: true; profile: ClaudeProfile } | { ok: false; detail: string; status?: number };

export interface ClaudeCodeGrant {
  code: string;
  /** The login's state: Claude's token endpoint takes it with the code. */
  state: string;
  codeVerifier: string;
  redirectUri: string;
  /** Seconds the access token should live (`claude setup-token` asks for one year). */
  expiresIn?: number;
}

interface Answer {
  status: number;
  body: unknown;
}

function unreachable(what: string, error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const name = (error as { name?: unknown }).name;
  return `${what} unreachable (${typeof code === 'string' ? code : String(name)})`;
}

/**
 * Anthropic's OAuth endpoints as Claude Code calls them, through the account's proxy on the shared
 * pools: the authorization-code exchange (JSON, CLAUDE_OAUTH_TOKEN_URL) and the subscription
 * profile (CLAUDE_OAUTH_PROFILE_URL, with the new access token). Never rejects: failures are
 * results, without secrets.
 */
@Injectable()
export class ClaudeOAuthClient {
  private readonly options: ClaudeOAuthClientOptions;

  constructor(
    private readonly config: ConfigService,
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional()
    @Inject(CLAUDE_OAUTH_CLIENT_OPTIONS)
    options?: Partial<ClaudeOAuthClientOptions>,
    @Optional() private readonly traffic?: HttpTrafficLogger,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Claude Code's exchange (its `exchangeCodeForTokens`): a JSON body with grant_type, code,
   * redirect_uri, client_id, code_verifier and state, plus expires_in for a setup token.
   * `accountId`: the account a login replaces the credentials of (DEBUG_HTTP_TRAFFIC), else null.
   */
  async exchangeCode(
    grant: ClaudeCodeGrant,
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<ClaudeTokenCall> {
    const body: Record<string, unknown> = {
      grant_type: 'authorization_code',
      code: grant.code,
      redirect_uri: grant.redirectUri,
      client_id: this.config.env.CLAUDE_OAUTH_CLIENT_ID,
      code_verifier: grant.codeVerifier,
      state: grant.state,
    };
    if (grant.expiresIn !== undefined) body.expires_in = grant.expiresIn;
    let answer: Answer;
    try {
      answer = await this.call(
        this.config.env.CLAUDE_OAUTH_TOKEN_URL,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: JSON.stringify(body),
        },
        proxyUrl,
        { accountId, secrets: [grant.code, grant.codeVerifier] },
      );
    } catch (error) {
      return { ok: false, reason: 'unavailable', detail: unreachable('token endpoint', error) };
    }
    const { status } = answer;
    if (status >= 200 && status < 300) {
      const tokens = tokensFromResponse(answer.body);
      if (tokens === null) {
        return {
          ok: false,
          reason: 'unavailable',
          detail: 'token endpoint sent no access token',
          status,
        };
      }
      return { ok: true, tokens };
    }
    const retryable = status === 408 || status === 429 || status >= 500;
    return {
      ok: false,
      reason: retryable ? 'unavailable' : 'refused',
      detail: tokenErrorDetail(status, answer.body),
      status,
    };
  }

  /** `GET /api/oauth/profile` with the login's access token: the account, organization, plan. */
  async fetchProfile(
    accessToken: string,
    proxyUrl: string | null,
    accountId: string | null = null,
  ): Promise<ClaudeProfileCall> {
    let answer: Answer;
    try {
      answer = await this.call(
        this.config.env.CLAUDE_OAUTH_PROFILE_URL,
        {
          method: 'GET',
          headers: {
            authorization: `Bearer ${accessToken}`,
            'anthropic-beta': CLAUDE_OAUTH_BETA,
            'content-type': 'application/json',
            accept: 'application/json',
          },
        },
        proxyUrl,
        { accountId, secrets: [accessToken] },
      );
    } catch (error) {
      return { ok: false, detail: unreachable('profile endpoint', error) };
    }
    if (answer.status < 200 || answer.status >= 300) {
      return {
        ok: false,
        detail: `profile endpoint answered ${answer.status}`,
        status: answer.status,
      };
    }
    const profile = profileFromResponse(answer.body);
    if (profile === null) return { ok: false, detail: 'profile endpoint sent no account' };
    return { ok: true, profile };
  }

  private async call(
    url: string,
    init: { method: 'GET' | 'POST'; headers: Record<string, string>; body?: string },
    proxyUrl: string | null,
    /** DEBUG_HTTP_TRAFFIC: the account the call is for, and the values to scrub from its log. */
    trace: { accountId: string | null; secrets: string[] },
  ): Promise<Answer> {
    const traced =
      this.traffic?.enabled === true
        ? this.traffic.begin(
            { keyId: null, accountId: trace.accountId },
            { url, ...init },
            trace.secrets,
          )
        : null;
    const { dispatcher, close } = proxiedDispatcher(proxyUrl, this.dispatcherFactory);
    try {
      const response = await request(url, {
        ...init,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      const raw = await response.body.text();
      traced?.completed(response.statusCode, response.headers, Buffer.from(raw));
      let body: unknown = null;
      try {
        body = JSON.parse(raw);
      } catch {
        body = null;
      }
      return { status: response.statusCode, body };
    } catch (error) {
      traced?.failed(error);
      throw error;
    } finally {
      await close();
    }
  }
}
