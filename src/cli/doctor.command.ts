import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import {
  ConfigValidationError,
  environmentSources,
  loadEnvironment,
} from 'src/config/config.loader';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { sensitiveKeys } from 'src/config/sensitive.decorator';
import { ConfigService } from 'src/config/config.service';
import { createCoordinator } from 'src/infra/coordination/coordination.module';
import { localSecretsPath } from 'src/infra/crypto/local-secrets';
import { createDatabase } from 'src/infra/database/database.factory';
import { pingDatabase } from 'src/infra/database/database.module';
import { withTimeout } from 'src/modules/health/health.indicators';
import { MIGRATION_NAMES } from 'src/infra/database/migrations';
import { sql } from 'kysely';

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Checks configuration, data directory, database and Redis; prints what is wrong and how to fix it. */
export async function runDoctor(env: NodeJS.ProcessEnv): Promise<number> {
  const checks: Check[] = [];
  let config: ConfigService;
  try {
    config = new ConfigService(loadEnvironment(env));
    checks.push({ name: 'configuration', ok: true, detail: 'all variables valid' });
    checks.push(secretSources(env));
  } catch (error) {
    const detail =
      error instanceof ConfigValidationError ? error.problems.join('; ') : message(error);
    checks.push({
      name: 'configuration',
      ok: false,
      detail,
      fix: 'see .env.example and docs/configuration.md',
    });
    return report(checks);
  }

  checks.push(checkDataDir(config));
  checks.push(await checkDatabase(config));
  if (config.redisMode !== 'none') checks.push(await checkRedis(config));
  return report(checks);
}

/** Which secrets are set and where each comes from (environment or file), never their values. */
function secretSources(env: NodeJS.ProcessEnv): Check {
  const sources = environmentSources(env);
  const given = sensitiveKeys(EnvironmentSchema.prototype).flatMap((key) => {
    const source = sources[key];
    if (source === undefined || source.kind === 'default') return [];
    return [source.kind === 'file' ? `${key} from file ${source.path}` : `${key} from environment`];
  });
  return {
    name: 'secrets',
    ok: true,
    detail: given.length === 0 ? 'none set' : given.join(', '),
  };
}

function checkDataDir(config: ConfigService): Check {
  const dir = config.dataDir;
  try {
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.R_OK);
    const secrets = localSecretsPath(dir);
    if (existsSync(secrets) && (statSync(secrets).mode & 0o077) !== 0) {
      return {
        name: 'data directory',
        ok: false,
        detail: `${secrets} is readable by other users`,
        fix: `chmod 600 ${secrets}`,
      };
    }
    return { name: 'data directory', ok: true, detail: `${dir} is writable` };
  } catch (error) {
    return {
      name: 'data directory',
      ok: false,
      detail: message(error),
      fix: `create ${dir} and make it writable by this user, or set DATA_DIR`,
    };
  }
}

async function checkDatabase(config: ConfigService): Promise<Check> {
  const db = createDatabase({
    engine: config.databaseEngine,
    sqliteFile: config.sqliteFile,
    url: config.env.DATABASE_URL,
    poolSize: 1,
  });
  try {
    await withTimeout(pingDatabase(db), 5000, 'database');
    const applied = await sql<{ name: string }>`select name from kysely_migration`
      .execute(db)
      .then((r) => r.rows.length)
      .catch(() => 0);
    const pending = MIGRATION_NAMES.length - applied;
    return {
      name: `database (${config.databaseEngine})`,
      ok: true,
      detail:
        pending > 0
          ? `reachable; ${pending} migration(s) will run at next start`
          : 'reachable and migrated',
    };
  } catch (error) {
    return {
      name: `database (${config.databaseEngine})`,
      ok: false,
      detail: message(error),
      fix:
        config.databaseEngine === 'sqlite'
          ? `check that ${config.sqliteFile} is writable`
          : 'check DATABASE_URL, that PostgreSQL is running and that the user may connect',
    };
  } finally {
    await db.destroy();
  }
}

async function checkRedis(config: ConfigService): Promise<Check> {
  const coordinator = createCoordinator(config);
  try {
    await withTimeout(coordinator.ping(), 3000, 'redis');
    return { name: `redis (${config.redisMode})`, ok: true, detail: 'reachable' };
  } catch (error) {
    return {
      name: `redis (${config.redisMode})`,
      ok: false,
      detail: message(error),
      fix: 'check REDIS_URL / REDIS_SENTINELS / REDIS_CLUSTER_NODES and that Redis is running',
    };
  } finally {
    await coordinator.close().catch(() => undefined);
  }
}

function report(checks: Check[]): number {
  for (const check of checks) {
    process.stdout.write(`${check.ok ? 'ok  ' : 'FAIL'}  ${check.name}: ${check.detail}\n`);
    if (!check.ok && check.fix !== undefined) process.stdout.write(`      fix: ${check.fix}\n`);
  }
  const failed = checks.filter((c) => !c.ok).length;
  process.stdout.write(failed === 0 ? '\nAll checks passed.\n' : `\n${failed} check(s) failed.\n`);
  return failed === 0 ? 0 : 1;
}
