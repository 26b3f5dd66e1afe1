import { Global, Module } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { ACCOUNT_TESTER } from 'src/modules/accounts/account-tester';
import type { RoutableAccount } from 'src/modules/accounts/account.types';
import { ClaudeOAuthRefresher } from 'src/modules/accounts/claude-oauth-refresher';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { SchedulerModule } from 'src/modules/scheduler/scheduler.module';
import { ModelRouter } from 'src/modules/routing/model-router.service';
import { RoutingModule } from 'src/modules/routing/routing.module';
import { UsageModule } from 'src/modules/usage/usage.module';
import { RelayAccountTester } from './account-tester.service';
import { AnthropicRelayController } from './anthropic-relay.controller';
import { ConverterRegistry } from './converters/converter.registry';
import { InboundLimits } from './inbound-limits';
import { KeyUsageController } from './key-usage.controller';
import { ModelCatalog } from './model-catalog.service';
import { OpenAIRelayController } from './openai-relay.controller';
import { AdmitStage } from './pipeline/admit.stage';
import {
  AttemptLoopStage,
  CREDENTIAL_REFRESH,
  type CredentialRefresh,
} from './pipeline/attempt-loop.stage';
import { AuthenticateStage } from './pipeline/authenticate.stage';
import { ReadBodyStage } from './pipeline/read-body.stage';
import { RespondStage } from './pipeline/respond.stage';
import { MODEL_ROUTING, RouteStage, type ModelRouting } from './pipeline/route.stage';
import { SettleStage } from './pipeline/settle.stage';
import { ProviderRegistry } from './providers/provider.registry';
import { RelayFastPath } from './relay-fast-path';
import { RelayService } from './relay.service';

/**
 * Inbound dialects × provider adapters over the shared pipeline. Global only to hand the accounts
 * module its account-test port without a circular import.
 */
@Global()
@Module({
  imports: [AccountsModule, ApiKeysModule, SchedulerModule, UsageModule, RoutingModule],
  controllers: [AnthropicRelayController, OpenAIRelayController, KeyUsageController],
  providers: [
    RelayService,
    RelayFastPath,
    ModelCatalog,
    RelayAccountTester,
    ProviderRegistry,
    ConverterRegistry,
    AuthenticateStage,
    ReadBodyStage,
    RouteStage,
    AdmitStage,
    AttemptLoopStage,
    RespondStage,
    SettleStage,
    {
      provide: InboundLimits,
      useFactory: (config: ConfigService) =>
        new InboundLimits(config.env.RELAY_MAX_INFLIGHT_BODY_BYTES),
      inject: [ConfigService],
    },
    {
      provide: MODEL_ROUTING,
      useFactory: (router: ModelRouter): ModelRouting => router,
      inject: [ModelRouter],
    },
    {
      provide: CREDENTIAL_REFRESH,
      useFactory: (refresher: ClaudeOAuthRefresher, pool: AccountPool): CredentialRefresh => ({
        async refreshAfterAuthFailure(account: RoutableAccount) {
          if (account.type !== 'claude-oauth') return null;
          return (await refresher.refresh(account.id)) ? (pool.get(account.id) ?? null) : null;
        },
      }),
      inject: [ClaudeOAuthRefresher, AccountPool],
    },
    { provide: ACCOUNT_TESTER, useExisting: RelayAccountTester },
  ],
  exports: [RelayService, ACCOUNT_TESTER],
})
export class RelayModule {}
