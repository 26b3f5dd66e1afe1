import { Inject, Injectable, Optional, type OnModuleDestroy } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type {
  CredentialRefresher,
  RefreshJobSummary,
  RefreshResult,
} from '../credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  RefreshDiscipline,
  type RefreshDisciplineOptions,
} from '../refresh-discipline';
import {
  asAccountCredentials,
  CODEX_OAUTH_TYPE,
  codexCredentialsOf,
  isCodexOAuthType,
  type CodexOAuthCredentials,
} from './codex-oauth.credentials';
import { credentialsFromTokens, subscriptionFrom, tokensFromResponse } from './codex-oauth.tokens';
import { CodexTokenClient } from './codex-token.client';

export type CodexOAuthRefresherOptions = RefreshDisciplineOptions;

export const CODEX_OAUTH_REFRESHER_OPTIONS = Symbol('CODEX_OAUTH_REFRESHER_OPTIONS');

/**
 * Refreshes the ChatGPT tokens of codex-oauth accounts (their CredentialRefresher) as Codex CLI
 * does: `grant_type=refresh_token` at CODEX_OAUTH_TOKEN_URL. On demand (the relay asks
 * CredentialRefreshService when an account answers 401, then retries once) and ahead of expiry
 * (the service runs the job every minute). Same discipline as the Claude refresher: one refresh
 * per account at a time across instances (OpenAI rotates refresh tokens and refuses a reused one
 * for good), memory first, saves retried until SQL takes them, the account's proxy for the call.
 */
@Injectable()
export class CodexOAuthRefresher implements CredentialRefresher, OnModuleDestroy {
  readonly accountType = CODEX_OAUTH_TYPE;
  /** The lock and save-with-retry discipline shared with the other refreshers. */
  private readonly discipline: RefreshDiscipline<CodexOAuthCredentials>;

  constructor(
    private readonly pool: AccountPool,
    private readonly accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    health: AccountHealthService,
    private readonly tokenClient: CodexTokenClient,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional()
    @Inject(CODEX_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<CodexOAuthRefresherOptions>,
  ) {
    this.discipline = new RefreshDiscipline<CodexOAuthCredentials>({
      accountType: this.accountType,
      pool,
      accountsRepository,
      health,
      coordinator,
      options: { ...REFRESH_DISCIPLINE_DEFAULTS, ...options },
      logPrefix: 'codex refresh',
      lostTokenRemedy: 'a new login',
      toAccountCredentials: asAccountCredentials,
    });
  }

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    const seen = this.pool.get(accountId)?.credentials;
    const seenToken = seen === undefined ? undefined : codexCredentialsOf(seen)?.accessToken;
    return this.discipline.withAccountLock(accountId, () =>
      this.refreshLocked(accountId, seenToken),
    );
  }

  /**
   * One run of the refresh-ahead job (CredentialRefreshService runs it every minute): refreshes
   * tokens that expire within five minutes, on one instance; an account whose refresh is refused
   * is marked auth_failed (its refresh token is dead).
   */
  runRefreshJob(): Promise<RefreshJobSummary> {
    return this.discipline.runJob(
      (account, horizon) => this.isDue(account, horizon),
      (accountId) => this.refreshWithResult(accountId),
    );
  }

  private isDue(account: RoutableAccount, horizon: number): boolean {
    const c = codexCredentialsOf(account.credentials);
    return (
      c !== null &&
      account.enabled &&
      account.status === 'active' &&
      c.refreshToken !== undefined &&
      c.expiresAt !== undefined &&
      c.expiresAt <= horizon
    );
  }

  private async refreshLocked(
    accountId: string,
    seenToken: string | undefined,
  ): Promise<RefreshResult> {
    // Read SQL, not the pool: another instance may have rotated the tokens a moment ago.
    const record = await this.accountsRepository.findById(accountId);
    if (record === undefined) return { ok: false, reason: 'not_found', detail: 'no such account' };
    if (!isCodexOAuthType(record.type)) {
      return {
        ok: false,
        reason: 'wrong_type',
        detail: `${record.type} accounts have no Codex OAuth tokens`,
      };
    }
    // Tokens refreshed here but not saved yet are newer than SQL's: the old refresh token is spent
    // (unless someone, an admin or a new login, saved other credentials meanwhile: theirs win).
    const pending = this.discipline.unsaved(accountId, record.credentials);
    const opened = this.codec.openCredentials(record);
    const stored = pending ?? (opened === null ? null : codexCredentialsOf(opened));
    if (stored === null) {
      return { ok: false, reason: 'unreadable', detail: 'credentials cannot be decrypted' };
    }
    if (pending === undefined && seenToken !== undefined && stored.accessToken !== seenToken) {
      // Refreshed elsewhere while this instance still held the old token: adopt the new one.
      this.pool.applyCredentials(accountId, asAccountCredentials(stored));
      return { ok: true, expiresAt: stored.expiresAt ?? null };
    }
    if (stored.refreshToken === undefined) {
      return { ok: false, reason: 'no_refresh_token', detail: 'the account has no refresh token' };
    }

    const proxyUrl = this.codec.openProxy(record);
    if (proxyUrl === undefined) {
      return { ok: false, reason: 'unreadable', detail: 'proxy cannot be decrypted' };
    }
    // The refresh token goes through the account's proxy: the same host policy as relay traffic.
    const proxyRefusal =
      proxyUrl === null ? null : this.codec.hostPolicy.refusal(proxyUrl, 'proxy');
    if (proxyRefusal !== null) {
      return { ok: false, reason: 'unavailable', detail: proxyRefusal };
    }
    const call = await this.tokenClient.refresh(stored.refreshToken, proxyUrl);
    if (!call.ok) {
      appLogger.warn(
        { accountId, reason: call.reason, detail: call.detail },
        'codex refresh failed',
      );
      return call;
    }
    const tokens = tokensFromResponse(call.body);
    if (tokens === null) {
      return { ok: false, reason: 'unavailable', detail: 'token endpoint sent no access token' };
    }
    const now = this.discipline.now;
    const outcome = credentialsFromTokens(tokens, stored, now);
    if (!outcome.ok) return { ok: false, reason: 'unavailable', detail: outcome.detail };
    const credentials = outcome.credentials;
    const subscription = subscriptionFrom(outcome.identity, this.codec.subscription(record));

    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'codex oauth token refreshed',
    );
    await this.discipline.commit(accountId, credentials, record.credentials, {
      credentials: this.codec.sealCredentials(accountId, asAccountCredentials(credentials)),
      subscription: subscription === null ? record.subscription : JSON.stringify(subscription),
      updated_at: now,
    });
    return { ok: true, expiresAt: credentials.expiresAt ?? null };
  }

  /** Saves can still be pending at shutdown: one last attempt each, loudly if it fails. */
  onModuleDestroy(): Promise<void> {
    return this.discipline.flush();
  }

  /** Tokens refreshed but not yet saved to SQL (held in memory, save retried with backoff). */
  get unsavedAccountIds(): string[] {
    return this.discipline.unsavedAccountIds;
  }
}
