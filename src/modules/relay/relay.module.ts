import { Global, Module } from '@nestjs/common';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { ACCOUNT_TESTER } from 'src/modules/accounts/account-tester';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { OAuthModule } from 'src/modules/oauth/oauth.module';
import { SchedulerModule } from 'src/modules/scheduler/scheduler.module';
import { UsageModule } from 'src/modules/usage/usage.module';
import { RelayAccountTester } from './account-tester.service';
import { AnthropicRelayController } from './anthropic-relay.controller';
import { KeyUsageController } from './key-usage.controller';
import { ModelCatalog } from './model-catalog.service';
import { RelayFastPath } from './relay-fast-path';
import { RelayService } from './relay.service';

/**
 * Inbound dialects × provider adapters over the shared pipeline. Global only to hand the accounts
 * module its account-test port without a circular import.
 */
@Global()
@Module({
  imports: [AccountsModule, ApiKeysModule, OAuthModule, SchedulerModule, UsageModule],
  controllers: [AnthropicRelayController, KeyUsageController],
  providers: [
    RelayService,
    RelayFastPath,
    ModelCatalog,
    RelayAccountTester,
    { provide: ACCOUNT_TESTER, useExisting: RelayAccountTester },
  ],
  exports: [RelayService, ACCOUNT_TESTER],
})
export class RelayModule {}
