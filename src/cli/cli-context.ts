import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from 'src/app.module';
import { setLogLevel } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';

/** Runs fn with the application's services (database migrated, no HTTP server), then closes. */
export async function withAppContext<T>(
  fn: (context: INestApplicationContext, config: ConfigService) => Promise<T>,
): Promise<T> {
  const config = new ConfigService(loadEnvironment(process.env));
  setLogLevel(process.env.SWITCHYARD_CLI_LOG_LEVEL === 'debug' ? 'debug' : 'warn');
  const context = await NestFactory.createApplicationContext(AppModule.forRoot(config), {
    logger: false,
    abortOnError: false,
  });
  try {
    return await fn(context, config);
  } finally {
    await context.close();
  }
}
