import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppModule } from './app.module';
import { adminValidationPipe } from './common/http/admin-validation.pipe';
import { requestContextMiddleware } from './common/http/request-context.middleware';
import { appLogger, NestPinoLogger, setLogLevel } from './common/logging/app-logger';
import { loadEnvironment } from './config/config.loader';
import { ConfigService } from './config/config.service';
import { startTracing, type TracingOptions } from './infra/tracing/tracing';
import { MetricsService } from './modules/metrics/metrics.service';
import { OpenApiService } from './modules/openapi/openapi.service';
import { UsersService, type CreatedAdmin } from './modules/users/users.service';

export interface RunningServer {
  app: NestExpressApplication;
  config: ConfigService;
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Connections the kernel queues before the process accepts them (Node's default is 511; Linux
 * caps the value at net.core.somaxconn). Thousands of long streams can keep the event loop busy
 * for a moment while new clients keep connecting; an overflowing queue drops their handshakes,
 * which later surfaces as ECONNRESET for requests the process never saw.
 */
const LISTEN_BACKLOG = 4096;

/** Builds the Nest application for a validated configuration (no listening yet). */
export async function createApp(config: ConfigService): Promise<NestExpressApplication> {
  setLogLevel(config.env.LOG_LEVEL);
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config), {
    // Relay routes read raw request bytes themselves; only the admin API parses JSON.
    bodyParser: false,
    logger: new NestPinoLogger(),
    abortOnError: false,
  });
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestContextMiddleware(app.get(MetricsService)));
  app.use('/admin/api', express.json({ limit: '2mb' }));
  app.useGlobalPipes(adminValidationPipe());
  app.get(OpenApiService).useApplication(app);
  return app;
}

export interface StartOptions {
  /** Tests: span processors instead of the OTLP exporter (only with OTEL_TRACES_ENABLED). */
  tracing?: TracingOptions;
}

/**
 * Starts Switchyard: validates the environment, starts tracing when enabled (before Nest builds
 * anything), migrates, bootstraps the admin, listens.
 */
export async function startServer(
  env: NodeJS.ProcessEnv = process.env,
  options: StartOptions = {},
): Promise<RunningServer> {
  const config = new ConfigService(loadEnvironment(env));
  setLogLevel(config.env.LOG_LEVEL);
  const tracing = startTracing(config, options.tracing);
  let app: NestExpressApplication;
  let admin: CreatedAdmin | undefined;
  try {
    app = await createApp(config);
    admin = await app
      .get(UsersService)
      .bootstrapAdmin(config.env.ADMIN_USERNAME, config.env.ADMIN_PASSWORD);
    // Nest hands every argument on to server.listen(port, host, backlog, callback); its type only
    // names the callback.
    const listen = app.listen.bind(app) as unknown as (
      port: number,
      host: string,
      backlog: number,
    ) => Promise<unknown>;
    await listen(config.env.PORT, config.env.HOST, LISTEN_BACKLOG);
  } catch (error) {
    await tracing?.shutdown();
    throw error;
  }
  const port = (app.getHttpServer().address() as AddressInfo).port;
  const url = config.env.PUBLIC_URL ?? `http://localhost:${port}`;
  appLogger.info(
    {
      port,
      database: config.databaseEngine,
      coordination: config.redisMode === 'none' ? 'local' : `redis-${config.redisMode}`,
      instanceId: config.instanceId,
    },
    'switchyard listening',
  );
  if (config.env.PRINT_BANNER) printBanner(url, config, admin);
  const close = async (): Promise<void> => {
    await drainHttp(app.getHttpServer(), config.env.SHUTDOWN_TIMEOUT_MS);
    // Hooks run after the last response: feature modules first (usage drains), then the global
    // ones (HTTP pools, this instance's coordinator leases, the database).
    await app.close();
    // Last: the spans of the requests that just finished are exported (bounded wait).
    await tracing?.shutdown();
  };
  return { app, config, url, port, close };
}

/**
 * Stops accepting connections and waits for in-flight requests (streams included) to finish,
 * up to timeoutMs; then cuts what is left so shutdown always ends.
 */
async function drainHttp(server: Server, timeoutMs: number): Promise<void> {
  if (!server.listening) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      appLogger.warn({ timeoutMs }, 'shutdown: cutting requests still in flight');
      server.closeAllConnections();
    }, timeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}

/**
 * SIGTERM / SIGINT: stop accepting, let in-flight work finish within SHUTDOWN_TIMEOUT_MS, run the
 * modules' shutdown hooks (flush, release this instance's leases, close pools), exit 0. A second
 * signal or the timeout forces exit 1.
 */
export function installSignalHandlers(server: RunningServer): void {
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) {
      appLogger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    closing = true;
    appLogger.info({ signal }, 'shutting down');
    // The drain has SHUTDOWN_TIMEOUT_MS; flushing and closing get a little more before we give up.
    const timer = setTimeout(() => {
      appLogger.error({ timeoutMs: server.config.env.SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out');
      process.exit(1);
    }, server.config.env.SHUTDOWN_TIMEOUT_MS + 10_000);
    timer.unref();
    server
      .close()
      .then(() => {
        appLogger.info('shutdown complete');
        appLogger.flush();
        process.exit(0);
      })
      .catch((error: unknown) => {
        appLogger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

/**
 * Login instructions go to stdout as plain text, not into the JSON log, so a generated password
 * is shown once on the console and never stored in a log pipeline that parses JSON lines.
 */
function printBanner(url: string, config: ConfigService, admin: CreatedAdmin | undefined): void {
  const lines = [
    '',
    '  Switchyard is running',
    `  Admin UI:   ${url}/admin`,
    `  Relay API:  ${url}  (Anthropic: ${url}/v1/messages)`,
    `  Database:   ${config.databaseEngine === 'sqlite' ? config.sqliteFile : 'PostgreSQL'}`,
  ];
  if (admin?.generatedPassword !== undefined) {
    lines.push(
      `  Log in as:  ${admin.username} / ${admin.generatedPassword}`,
      '              (generated now and shown only once: store it in your password manager)',
    );
  } else if (admin !== undefined) {
    lines.push(`  Log in as:  ${admin.username} with the ADMIN_PASSWORD you configured`);
  } else {
    lines.push(
      `  Log in as:  ${config.env.ADMIN_USERNAME} with the password set at first start`,
      '              forgot it? `npx switchyard admin reset-password`',
    );
  }
  process.stdout.write(lines.join('\n') + '\n\n');
}
