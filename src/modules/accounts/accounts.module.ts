import { Module } from '@nestjs/common';
import { HttpModule } from 'src/infra/http/http.module';
import { UpstreamHttp } from 'src/infra/http/upstream-http.service';
import { AccountCodec } from './account-codec';
import { AccountGroupsController } from './account-groups.controller';
import { AccountGroupsRepository } from './account-groups.repository';
import { AccountGroupsService } from './account-groups.service';
import { AccountHealthEventsRepository } from './account-health-events.repository';
import { AccountHealthService } from './account-health.service';
import { AccountPool } from './account-pool.service';
import { AccountSecretsService } from './account-secrets.service';
import { AccountTestService } from './account-test.service';
import { ACCOUNT_DISPATCHER_FACTORY, type AccountDispatcherFactory } from './account-tester';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import { ClaudeOAuthRefresher } from './claude-oauth-refresher';

export {
  ACCOUNT_DISPATCHER_FACTORY,
  ACCOUNT_TESTER,
  type AccountDispatcherFactory,
  type AccountTester,
  type AccountTestResult,
} from './account-tester';

/**
 * Upstream accounts: storage (credentials and proxy encrypted), the in-memory pool the scheduler
 * reads, the health state machine, OAuth token refresh, and the admin API. Imports nothing from
 * the relay: the relay provides ACCOUNT_TESTER, found at call time wherever it is registered.
 */
@Module({
  imports: [HttpModule],
  controllers: [AccountsController, AccountGroupsController],
  providers: [
    {
      // Token refreshes go through the account's proxy on the same pools as its relay traffic.
      provide: ACCOUNT_DISPATCHER_FACTORY,
      inject: [UpstreamHttp],
      useFactory:
        (http: UpstreamHttp): AccountDispatcherFactory =>
        (proxyUrl) =>
          http.dispatcherFor(proxyUrl),
    },
    AccountsRepository,
    AccountGroupsRepository,
    AccountHealthEventsRepository,
    AccountCodec,
    AccountPool,
    AccountHealthService,
    AccountsService,
    AccountGroupsService,
    ClaudeOAuthRefresher,
    AccountTestService,
    AccountSecretsService,
  ],
  exports: [
    AccountsService,
    AccountGroupsService,
    AccountPool,
    AccountHealthService,
    ClaudeOAuthRefresher,
    AccountTestService,
    AccountSecretsService,
  ],
})
export class AccountsModule {}
