import { Inject, Injectable, Optional } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { AccountCredentials } from 'src/modules/accounts/account.types';
import { AccountCodec } from 'src/modules/accounts/account-codec';
import { AccountHealthService } from 'src/modules/accounts/account-health.service';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsRepository } from 'src/modules/accounts/accounts.repository';
import type { GeminiOAuthCredentials } from 'src/modules/accounts/types/gemini-oauth';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import type { RefreshResult } from '../credential-refresher.port';
import {
  REFRESH_DISCIPLINE_DEFAULTS,
  type RefreshDisciplineOptions,
  type RefreshSubject,
} from '../refresh-discipline';
import { DisciplinedRefresher } from '../disciplined-refresher';
import { GoogleTokenClient } from './google-token.client';

export type GoogleOAuthRefresherOptions = RefreshDisciplineOptions;

const GEMINI_OAUTH_TYPE = 'gemini-oauth' as const;

export const GOOGLE_OAUTH_REFRESHER_OPTIONS = Symbol('GOOGLE_OAUTH_REFRESHER_OPTIONS');

function geminiCredentialsOf(credentials: AccountCredentials): GeminiOAuthCredentials | null {
  return credentials.type === 'gemini-oauth' ? credentials : null;
}

/**
 * Refreshes the Google access tokens of gemini-oauth accounts (their CredentialRefresher) with
 * google-auth-library's refresh grant at GOOGLE_OAUTH_TOKEN_URL: after a 401 (the relay asks
 * CredentialRefreshService, then retries once) and ahead of expiry (the job every minute). The
 * lock, job and save discipline is the one the Claude and Codex refreshers share
 * (RefreshDiscipline): one refresh per account at a time across instances, a refresh that finds
 * the account already refreshed elsewhere adopts those credentials, memory first and saves
 * retried until SQL takes them. Google keeps the refresh token (a refresh answer names none), so
 * an unsaved access token loses nothing: SQL's refresh token still works for the next refresh.
 */
@Injectable()
export class GoogleOAuthRefresher extends DisciplinedRefresher<GeminiOAuthCredentials> {
  readonly accountType = GEMINI_OAUTH_TYPE;

  constructor(
    pool: AccountPool,
    accountsRepository: AccountsRepository,
    codec: AccountCodec,
    health: AccountHealthService,
    private readonly tokenClient: GoogleTokenClient,
    @InjectCoordinator() coordinator: Coordinator,
    @Optional()
    @Inject(GOOGLE_OAUTH_REFRESHER_OPTIONS)
    options?: Partial<GoogleOAuthRefresherOptions>,
    @Optional() notifications?: NotificationOutbox,
  ) {
    super({
      notifications,
      accountType: GEMINI_OAUTH_TYPE,
      pool,
      accountsRepository,
      codec,
      health,
      tokenLabel: 'Google OAuth',
      coordinator,
      options: { ...REFRESH_DISCIPLINE_DEFAULTS, ...options },
      logPrefix: 'google refresh',
      // Google does not rotate the refresh token: the next refresh gets a new access token.
      lostTokenRemedy: 'another refresh (the stored refresh token still works)',
      toAccountCredentials: (credentials) => credentials,
      credentialsOf: geminiCredentialsOf,
    });
  }

  protected async renew(subject: RefreshSubject<GeminiOAuthCredentials>): Promise<RefreshResult> {
    const { accountId, stored } = subject;
    const call = await this.tokenClient.refresh(subject.refreshToken, subject.proxyUrl, accountId);
    if (!call.ok) return this.discipline.callFailed(accountId, call);
    const credentials: GeminiOAuthCredentials = {
      ...stored,
      accessToken: call.tokens.accessToken,
      refreshToken: call.tokens.refreshToken ?? subject.refreshToken,
    };
    if (call.tokens.expiresAt !== undefined) credentials.expiresAt = call.tokens.expiresAt;
    else delete credentials.expiresAt;
    appLogger.info(
      { accountId, expiresAt: credentials.expiresAt ?? null },
      'google oauth token refreshed',
    );
    return this.discipline.commitRefreshed(subject, credentials);
  }
}
