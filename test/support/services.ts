import { spawnSync } from 'node:child_process';

/**
 * Suites that need a real Redis, PostgreSQL or RabbitMQ. Without the URL they are skipped with one line on
 * stderr, unless REQUIRE_SERVICES=1 (CI), where a missing server must fail the run instead.
 */

type ServiceVariable = 'TEST_REDIS_URL' | 'TEST_DATABASE_URL' | 'TEST_AMQP_URL';

function serviceUrlOrSkip(variable: ServiceVariable, suite: string): string | null {
  const url = process.env[variable];
  if (url) return url;
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${suite}: ${variable} is not set but REQUIRE_SERVICES=1; ` +
        `point ${variable} at a running server or unset REQUIRE_SERVICES`,
    );
  }
  process.stderr.write(`[skip] ${suite}: ${variable} not set\n`);
  return null;
}

export function redisUrlOrSkip(suite: string): string | null {
  return serviceUrlOrSkip('TEST_REDIS_URL', suite);
}

export function databaseUrlOrSkip(suite: string): string | null {
  return serviceUrlOrSkip('TEST_DATABASE_URL', suite);
}

/** RabbitMQ (AMQP 0-9-1), e.g. amqp://guest:guest@127.0.0.1:5672. */
export function amqpUrlOrSkip(suite: string): string | null {
  return serviceUrlOrSkip('TEST_AMQP_URL', suite);
}

function describeWithService(
  variable: ServiceVariable,
  name: string,
  fn: (url: string) => void,
): void {
  const url = serviceUrlOrSkip(variable, name);
  if (url === null) {
    // One skipped test keeps jest from failing the file for containing no tests.
    describe.skip(name, () => {
      it(`needs ${variable}`, () => undefined);
    });
    return;
  }
  describe(name, () => fn(url));
}

/** `describe` with the Redis URL from TEST_REDIS_URL, or skipped when it is not set. */
export function describeWithRedis(name: string, fn: (url: string) => void): void {
  describeWithService('TEST_REDIS_URL', name, fn);
}

/** `describe` with the PostgreSQL URL from TEST_DATABASE_URL, or skipped when it is not set. */
export function describeWithPostgres(name: string, fn: (url: string) => void): void {
  describeWithService('TEST_DATABASE_URL', name, fn);
}

/** `redis-server` and `redis-cli` are on PATH (Debian: `apt-get install redis-server`). */
export function redisBinariesAvailable(): boolean {
  return ['redis-server', 'redis-cli'].every(
    (binary) => spawnSync(binary, ['--version'], { stdio: 'ignore' }).status === 0,
  );
}

/**
 * `describe` for suites that start their own Redis processes (Sentinel, Cluster): skipped with
 * one line on stderr when redis-server is not installed, failed instead under REQUIRE_SERVICES=1.
 */
export function describeWithRedisBinaries(name: string, fn: () => void): void {
  if (redisBinariesAvailable()) {
    describe(name, fn);
    return;
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    throw new Error(
      `${name}: redis-server / redis-cli are not on PATH but REQUIRE_SERVICES=1; ` +
        'install them (Debian: apt-get install redis-server) or unset REQUIRE_SERVICES',
    );
  }
  process.stderr.write(`[skip] ${name}: redis-server / redis-cli not installed\n`);
  describe.skip(name, () => {
    it('needs redis-server and redis-cli', () => undefined);
  });
}

/** `describe` with the RabbitMQ URL from TEST_AMQP_URL, or skipped when it is not set. */
export function describeWithRabbitMq(name: string, fn: (url: string) => void): void {
  describeWithService('TEST_AMQP_URL', name, fn);
}
