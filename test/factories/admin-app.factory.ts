import { type INestApplication, type ModuleMetadata } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';
import express from 'express';
import { AdminExceptionFilter } from 'src/common/http/admin-exception.filter';
import { ConfigModule } from 'src/config/config.module';
import { ConfigService } from 'src/config/config.service';
import type { EnvironmentSchema } from 'src/config/environment.schema';
import { CoordinationModule } from 'src/infra/coordination/coordination.module';
import { CryptoModule } from 'src/infra/crypto/crypto.module';
import { DatabaseModule } from 'src/infra/database/database.module';
import { AccountsModule } from 'src/modules/accounts/accounts.module';
import { OAuthModule } from 'src/modules/oauth/oauth.module';
import { SettingsModule } from 'src/modules/settings/settings.module';
import { adminValidationPipe } from 'src/common/http/admin-validation.pipe';

/**
 * The admin API's accounts and oauth modules on real storage (the engines the environment names),
 * with the admin surface's body parser, validation pipe and exception filter, initialised.
 * `imports` adds modules; `override` adjusts the testing module (providers) before it compiles.
 */
export async function createAccountsAdminApp(
  env: EnvironmentSchema,
  options: {
    imports?: ModuleMetadata['imports'];
    override?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
  } = {},
): Promise<INestApplication> {
  const builder = Test.createTestingModule({
    imports: [
      ConfigModule.forRoot(new ConfigService(env)),
      ScheduleModule.forRoot(),
      CryptoModule,
      DatabaseModule,
      CoordinationModule,
      SettingsModule,
      AccountsModule,
      OAuthModule,
      ...(options.imports ?? []),
    ],
  });
  const moduleRef = await (options.override?.(builder) ?? builder).compile();
  const app = moduleRef.createNestApplication({ bodyParser: false, logger: false });
  app.use('/admin/api', express.json());
  app.useGlobalPipes(adminValidationPipe());
  app.useGlobalFilters(new AdminExceptionFilter());
  await app.init();
  return app;
}
