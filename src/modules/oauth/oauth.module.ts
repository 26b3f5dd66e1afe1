import { Module } from '@nestjs/common';
import { HttpModule } from 'src/infra/http/http.module';
import { UpstreamHttp } from 'src/infra/http/upstream-http.service';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from './account-dispatcher';
import { ClaudeOAuthRefresher } from './claude/claude-oauth-refresher';
import { CLAUDE_OAUTH_CONTROLLERS, CLAUDE_OAUTH_PROVIDERS } from './claude/claude-oauth.providers';
import { CodexOAuthRefresher } from './codex/codex-oauth-refresher';
import { CODEX_OAUTH_CONTROLLERS, CODEX_OAUTH_PROVIDERS } from './codex/codex-oauth.providers';
import { CredentialRefreshService } from './credential-refresh.service';
import { GoogleOAuthRefresher } from './google/google-oauth-refresher';
import { GOOGLE_OAUTH_CONTROLLERS, GOOGLE_OAUTH_PROVIDERS } from './google/google-oauth.providers';
import { CREDENTIAL_REFRESHERS, type CredentialRefresher } from './credential-refresher.port';

/** Every CredentialRefresher, one line each (and `hasRefresher: true` in its type's descriptor). */
const REFRESHERS = [ClaudeOAuthRefresher, CodexOAuthRefresher, GoogleOAuthRefresher];

/**
 * Credential refresh: one CredentialRefresher per account type whose credentials expire (OAuth
 * tokens), behind CredentialRefreshService; and the Claude, Codex (ChatGPT) and Google logins
 * (claude/, codex/, google/). Imports the
 * accounts module (pool, storage, health); the accounts module never imports this one.
 */
@Module({
  imports: [AccountsModule, HttpModule],
  controllers: [
    ...CLAUDE_OAUTH_CONTROLLERS,
    ...CODEX_OAUTH_CONTROLLERS,
    ...GOOGLE_OAUTH_CONTROLLERS,
  ],
  providers: [
    ...CLAUDE_OAUTH_PROVIDERS,
    ...CODEX_OAUTH_PROVIDERS,
    ...GOOGLE_OAUTH_PROVIDERS,
    {
      // Token refreshes go through the account's proxy on the same pools as its relay traffic.
      provide: ACCOUNT_DISPATCHER_FACTORY,
      inject: [UpstreamHttp],
      useFactory:
        (http: UpstreamHttp): AccountDispatcherFactory =>
        (proxyUrl) =>
          http.dispatcherFor(proxyUrl),
    },
    ...REFRESHERS,
    {
      provide: CREDENTIAL_REFRESHERS,
      inject: REFRESHERS,
      useFactory: (...refreshers: CredentialRefresher[]): CredentialRefresher[] => refreshers,
    },
    CredentialRefreshService,
  ],
  exports: [CredentialRefreshService],
})
export class OAuthModule {}
