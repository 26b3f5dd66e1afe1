import { Module } from '@nestjs/common';
import { AccountCodec } from './account-codec';
import { AccountGroupsAuditLoader } from './account-groups-audit.loader';
import { AccountGroupsController } from './account-groups.controller';
import { AccountGroupsRepository } from './account-groups.repository';
import { AccountGroupsService } from './account-groups.service';
import { AccountHealthEventsRepository } from './account-health-events.repository';
import { AccountHealthService } from './account-health.service';
import { AccountMetrics } from './account-metrics';
import { AccountPool } from './account-pool.service';
import { AccountSecretsService } from './account-secrets.service';
import { AccountTestService } from './account-test.service';
import { AccountTypesController } from './account-types.controller';
import { AccountTypesService } from './account-types.service';
import { AccountsAuditLoader } from './accounts-audit.loader';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';

export { ACCOUNT_TESTER, type AccountTester, type AccountTestResult } from './account-tester';

/**
 * Upstream accounts: their types (descriptors in types/), storage (credentials and proxy
 * encrypted), the in-memory pool the scheduler reads, the health state machine, and the admin
 * API. Imports nothing from the relay (the relay provides ACCOUNT_TESTER, found at call time
 * wherever it is registered) nor from the oauth module, which refreshes credentials through the
 * pool and the repository exported here.
 */
@Module({
  controllers: [AccountsController, AccountGroupsController, AccountTypesController],
  providers: [
    AccountsRepository,
    AccountGroupsRepository,
    AccountHealthEventsRepository,
    AccountCodec,
    AccountPool,
    AccountHealthService,
    AccountMetrics,
    AccountsService,
    AccountGroupsService,
    AccountTestService,
    AccountSecretsService,
    AccountTypesService,
    AccountsAuditLoader,
    AccountGroupsAuditLoader,
  ],
  exports: [
    AccountsService,
    AccountGroupsService,
    AccountPool,
    AccountHealthService,
    AccountTestService,
    AccountSecretsService,
    AccountTypesService,
    // For the oauth module's refreshers: they read and compare-and-set sealed credentials.
    AccountsRepository,
    AccountCodec,
  ],
})
export class AccountsModule {}
