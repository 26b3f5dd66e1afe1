import { Inject, Injectable, Optional } from '@nestjs/common';
import { ProxyAgent, request, Socks5ProxyAgent, type Dispatcher } from 'undici';
import { appLogger } from 'src/common/logging/app-logger';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import { ConfigService } from 'src/config/config.service';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountSubscription } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { ClaudeOAuthCredentials } from 'src/modules/accounts/types/claude-oauth';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from '../account-dispatcher';
import type { RefreshResult } from '../credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  type RefreshDisciplineOptions,
  type RefreshSubject,
} from '../refresh-discipline';
import { DisciplinedRefresher } from '../disciplined-refresher';

export interface ClaudeOAuthRefresherOptions extends RefreshDisciplineOptions {
  requestTimeoutMs: number;
}

const CLAUDE_OAUTH_TYPE = 'claude-oauth' as const;

export const CLAUDE_OAUTH_REFRESHER_OPTIONS = Symbol('CLAUDE_OAUTH_REFRESHER_OPTIONS');

const DEFAULTS: ClaudeOAuthRefresherOptions = {
  ...REFRESH_DISCIPLINE_DEFAULTS,
  requestTimeoutMs: 15_000,
};

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  expires_in?: unknown;
  scope?: unknown;
  account?: { uuid?: unknown; email_address?: unknown };
  organization?: { uuid?: unknown; name?: unknown };
  error?: unknown;
  error_description?: unknown;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The OAuth error of a refused refresh, short and without secrets (error bodies carry none). */
function refusalDetail(status: number, body: TokenResponse | null): string {
  const code = text(body?.error);
  const description = text(body?.error_description)?.slice(0, 200);
  return [`token endpoint answered ${status}`, code, description].filter(Boolean).join(': ');
}

/** A proxy agent for one refresh when no shared dispatcher factory is bound. */
function temporaryProxyAgent(proxyUrl: string): Dispatcher {
  const url = new URL(proxyUrl);
  return url.protocol === 'socks5:'
    ? new Socks5ProxyAgent(proxyUrl)
    : new ProxyAgent({ uri: proxyUrl, proxyTunnel: true });
}

/**
 * Refreshes Claude OAuth access tokens (the CredentialRefresher of claude-oauth accounts): on
 * demand (the relay asks CredentialRefreshService when an OAuth account answers 401, then
 * retries once) and ahead of expiry (the service runs the job every minute). One refresh per
 * account at a time across instances: refresh tokens rotate, so two concurrent refreshes would
 * leave one instance holding a revoked token.
 */
@Injectable()
export class ClaudeOAuthRefresher extends DisciplinedRefresher<ClaudeOAuthCredentials> {
  readonly accountType = CLAUDE_OAUTH_TYPE;
  private readonly options: ClaudeOAuthRefresherOptions;

  constructor(
    pool: AccountPool,
    accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    health: AccountHealthService,
    private readonly config: ConfigService,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional()
    @Inject(ACCOUNT_DISPATCHER_FACTORY)
    private readonly dispatcherFactory?: AccountDispatcherFactory,
    @Optional()
    @Inject(CLAUDE_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<ClaudeOAuthRefresherOptions>,
    @Optional() private readonly traffic?: HttpTrafficLogger,
    @Optional() notifications?: NotificationOutbox,
  ) {
    super({
      notifications,
      accountType: CLAUDE_OAUTH_TYPE,
      pool,
      accountsRepository,
      codec,
      health,
      tokenLabel: 'Claude OAuth',
      coordinator,
      options: { ...DEFAULTS, ...options },
      logPrefix: 'oauth refresh',
      lostTokenRemedy: 'its credentials entered again',
      toAccountCredentials: (credentials) => credentials,
      credentialsOf: (credentials) => (credentials.type === 'claude-oauth' ? credentials : null),
    });
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Refreshes the account's access token. True when the account now holds a fresh token (this
   * call refreshed it, or another instance did meanwhile); false when it has no refresh token or
   * the token endpoint refused or could not be reached.
   */
  async refresh(accountId: string): Promise<boolean> {
    return (await this.refreshWithResult(accountId)).ok;
  }

  protected async renew(subject: RefreshSubject<ClaudeOAuthCredentials>): Promise<RefreshResult> {
    const { accountId, record } = subject;
    const exchange = await this.exchange(subject.refreshToken, subject.proxyUrl, accountId);
    if (!exchange.ok) return this.discipline.callFailed(accountId, exchange);

    const body = exchange.body;
    const now = this.discipline.now;
    const expiresIn = typeof body.expires_in === 'number' ? body.expires_in : undefined;
    const credentials: ClaudeOAuthCredentials = {
      type: 'claude-oauth',
      accessToken: exchange.accessToken,
      // The endpoint rotates refresh tokens; keep the old one only when it sends none.
      refreshToken: text(body.refresh_token) ?? subject.refreshToken,
    };
    if (expiresIn !== undefined) credentials.expiresAt = now + Math.round(expiresIn * 1000);
    const subscription = this.mergeSubscription(this.codec.subscription(record), body);
    appLogger.info({ accountId, expiresInSeconds: expiresIn ?? null }, 'oauth token refreshed');
    return this.discipline.commitRefreshed(subject, credentials, { subscription, updatedAt: now });
  }

  private async exchange(
    refreshToken: string,
    proxyUrl: string | null,
    accountId: string,
  ): Promise<
    | { ok: true; accessToken: string; body: TokenResponse }
    | { ok: false; reason: 'refused' | 'unavailable'; detail: string; status?: number }
  > {
    const call = {
      method: 'POST' as const,
      url: this.config.env.CLAUDE_OAUTH_TOKEN_URL,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: this.config.env.CLAUDE_OAUTH_CLIENT_ID,
      }),
    };
    const traced =
      this.traffic?.enabled === true
        ? this.traffic.begin({ keyId: null, accountId }, call, [refreshToken])
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
        body: call.body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
        ...(dispatcher !== undefined ? { dispatcher } : {}),
      });
      const raw = await response.body.text();
      traced?.completed(response.statusCode, response.headers, Buffer.from(raw));
      let body: TokenResponse | null = null;
      try {
        body = JSON.parse(raw) as TokenResponse;
      } catch {
        body = null;
      }
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        const accessToken = text(body?.access_token);
        if (body === null || accessToken === undefined) {
          return {
            ok: false,
            reason: 'unavailable',
            detail: 'token endpoint sent no access token',
            status,
          };
        }
        return { ok: true, accessToken, body };
      }
      const retryable = status === 408 || status === 429 || status >= 500;
      return {
        ok: false,
        reason: retryable ? 'unavailable' : 'refused',
        detail: refusalDetail(status, body),
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

  private mergeSubscription(
    current: AccountSubscription | null,
    body: TokenResponse,
  ): AccountSubscription | null {
    const facts: AccountSubscription = {};
    const email = text(body.account?.email_address);
    const accountUuid = text(body.account?.uuid);
    const organizationUuid = text(body.organization?.uuid);
    const organizationName = text(body.organization?.name);
    const scope = text(body.scope);
    if (email !== undefined) facts.email = email;
    if (accountUuid !== undefined) facts.accountUuid = accountUuid;
    if (organizationUuid !== undefined) facts.organizationUuid = organizationUuid;
    if (organizationName !== undefined) facts.organizationName = organizationName;
    if (scope !== undefined) facts.scopes = scope.split(' ').filter((s) => s !== '');
    if (Object.keys(facts).length === 0) return null;
    return { ...current, ...facts };
  }
}
