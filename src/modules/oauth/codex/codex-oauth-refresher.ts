import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { RefreshResult } from '../credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  type RefreshDisciplineOptions,
  type RefreshSubject,
} from '../refresh-discipline';
import { DisciplinedRefresher } from '../disciplined-refresher';
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
export class CodexOAuthRefresher extends DisciplinedRefresher<CodexOAuthCredentials> {
  readonly accountType = CODEX_OAUTH_TYPE;

  constructor(
    pool: AccountPool,
    accountsRepository: AccountsRepository,
    private readonly codec: AccountCodec,
    health: AccountHealthService,
    private readonly tokenClient: CodexTokenClient,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional()
    @Inject(CODEX_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<CodexOAuthRefresherOptions>,
    @Optional() notifications?: NotificationOutbox,
  ) {
    super({
      notifications,
      accountType: CODEX_OAUTH_TYPE,
      pool,
      accountsRepository,
      codec,
      health,
      isAccountType: isCodexOAuthType,
      tokenLabel: 'Codex OAuth',
      coordinator,
      options: { ...REFRESH_DISCIPLINE_DEFAULTS, ...options },
      logPrefix: 'codex refresh',
      lostTokenRemedy: 'a new login',
      toAccountCredentials: asAccountCredentials,
      credentialsOf: codexCredentialsOf,
    });
  }

  protected async renew(subject: RefreshSubject<CodexOAuthCredentials>): Promise<RefreshResult> {
    const { accountId, record } = subject;
    const call = await this.tokenClient.refresh(subject.refreshToken, subject.proxyUrl, accountId);
    if (!call.ok) return this.discipline.callFailed(accountId, call);
    const tokens = tokensFromResponse(call.body);
    if (tokens === null) {
      return { ok: false, reason: 'unavailable', detail: 'token endpoint sent no access token' };
    }
    const now = this.discipline.now;
    const outcome = credentialsFromTokens(tokens, subject.stored, now);
    if (!outcome.ok) return { ok: false, reason: 'unavailable', detail: outcome.detail };
    const credentials = outcome.credentials;
    const subscription = subscriptionFrom(outcome.identity, this.codec.subscription(record));
    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'codex oauth token refreshed',
    );
    return this.discipline.commitRefreshed(subject, credentials, { subscription, updatedAt: now });
  }
}
