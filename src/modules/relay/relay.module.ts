import { Global, Module } from '@nestjs/common';
import { ConfigService } from 'src/config/config.service';
import { ACCOUNT_TESTER } from 'src/modules/accounts/account-tester';
import { ApiKeysModule } from 'src/modules/api-keys/api-keys.module';
import { CredentialRefreshService } from 'src/modules/oauth/credential-refresh.service';
import { OAuthModule } from 'src/modules/oauth/oauth.module';
import { SchedulerModule } from 'src/modules/scheduler/scheduler.module';
import { ModelRouter } from 'src/modules/routing/model-router.service';
import { RoutingModule } from 'src/modules/routing/routing.module';
import { RuleRouter } from 'src/modules/routing/rule-router.service';
import { UsageModule } from 'src/modules/usage/usage.module';
import { RelayAccountTester } from './account-tester.service';
import { AnthropicRelayController } from './anthropic-relay.controller';
import { CodeAssistRelayController } from './code-assist-relay.controller';
import { ConverterRegistry } from './converters/converter.registry';
import { GeminiRelayController } from './gemini-relay.controller';
import { InboundLimits } from './inbound-limits';
import { KeyUsageController } from './key-usage.controller';
import { ModelCatalog } from './model-catalog.service';
import { MetricsService } from 'src/modules/metrics/metrics.service';
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
import {
  MODEL_ROUTING,
  ROUTING_RULES,
  RouteStage,
  type ModelRouting,
  type RoutingRules,
} from './pipeline/route.stage';
import { SettleStage } from './pipeline/settle.stage';
import { ProviderRegistry } from './providers/provider.registry';
import { RelayActivity } from './relay-activity';
import { RelayActivityController } from './relay-activity.controller';
import { RelayFastPath } from './relay-fast-path';
import { RelayService } from './relay.service';
import { RelayTracer } from './tracing/relay-tracer';

/**
 * Inbound dialects × provider adapters over the shared pipeline. Global only to hand the accounts
 * module its account-test port without a circular import.
 */
@Global()
@Module({
  imports: [ApiKeysModule, SchedulerModule, UsageModule, RoutingModule, OAuthModule],
  controllers: [
    AnthropicRelayController,
    OpenAIRelayController,
    GeminiRelayController,
    KeyUsageController,
    CodeAssistRelayController,
    RelayActivityController,
  ],
  providers: [
    RelayService,
    RelayTracer,
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
      provide: RelayActivity,
      useFactory: (metrics: MetricsService) => {
        const activity = new RelayActivity();
        activity.register(metrics.registry);
        return activity;
      },
      inject: [MetricsService],
    },
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
      provide: ROUTING_RULES,
      useFactory: (router: RuleRouter): RoutingRules => router,
      inject: [RuleRouter],
    },
    {
      provide: CREDENTIAL_REFRESH,
      useFactory: (refresher: CredentialRefreshService): CredentialRefresh => refresher,
      inject: [CredentialRefreshService],
    },
    { provide: ACCOUNT_TESTER, useExisting: RelayAccountTester },
  ],
  exports: [RelayService, ACCOUNT_TESTER],
})
export class RelayModule {}
