import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { AdminExceptionFilter } from './common/http/admin-exception.filter';
import { ConfigModule } from './config/config.module';
import type { ConfigService } from './config/config.service';
import { CoordinationModule } from './infra/coordination/coordination.module';
import { CryptoModule } from './infra/crypto/crypto.module';
import { DatabaseModule } from './infra/database/database.module';
import { HttpModule } from './infra/http/http.module';
import { OutboxModule } from './infra/outbox/outbox.module';
import { AccountsModule } from './modules/accounts/accounts.module';
import { ApiKeysModule } from './modules/api-keys/api-keys.module';
import { AuditModule } from './modules/audit/audit.module';
import { OAuthModule } from './modules/oauth/oauth.module';
import { RelayModule } from './modules/relay/relay.module';
import { RoutingModule } from './modules/routing/routing.module';
import { SchedulerModule } from './modules/scheduler/scheduler.module';
import { SettingsModule } from './modules/settings/settings.module';
import { UsageModule } from './modules/usage/usage.module';
import { AdminUiModule } from './modules/admin-ui/admin-ui.module';
import { AuthModule } from './modules/auth/auth.module';
import { BillingStreamModule } from './modules/billing-stream/billing-stream.module';
import { HealthModule } from './modules/health/health.module';
import { MetricsModule } from './modules/metrics/metrics.module';
import { OpenApiModule } from './modules/openapi/openapi.module';
import { UsersModule } from './modules/users/users.module';
import { WebhooksModule } from './modules/webhooks/webhooks.module';

@Module({})
export class AppModule {
  static forRoot(config: ConfigService): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        ScheduleModule.forRoot(),
        CryptoModule,
        DatabaseModule,
        CoordinationModule,
        OutboxModule,
        HttpModule,
        MetricsModule,
        SettingsModule,
        UsersModule,
        AuditModule,
        AuthModule,
        HealthModule,
        AccountsModule,
        OAuthModule,
        ApiKeysModule,
        UsageModule,
        BillingStreamModule,
        SchedulerModule,
        RoutingModule,
        RelayModule,
        WebhooksModule,
        AdminUiModule,
        OpenApiModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: AdminExceptionFilter }],
    };
  }
}
