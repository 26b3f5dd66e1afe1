#!/usr/bin/env node
// `npm test`: unit, integration and e2e suites in turn, then one summary line.
// Without TEST_DATABASE_URL / TEST_REDIS_URL / TEST_AMQP_URL the suites that need those servers skip and are
// listed; with REQUIRE_SERVICES=1 a missing server fails the run instead.
const { spawnSync } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const extra = process.argv.slice(2);
const out = mkdtempSync(join(tmpdir(), 'switchyard-tests-'));
const totals = { passed: 0, failed: 0, skipped: 0, suitesFailed: 0 };
let exitCode = 0;

const stages = [
  ['unit', 'jest.unit.config.js', []],
  ['integration', 'jest.integration.config.js', ['--runInBand']],
  ['e2e', 'jest.e2e.config.js', ['--runInBand']],
];

/** Adds a Jest-format JSON report (Jest and Vitest both write one) to the totals. */
function collect(file) {
  try {
    const report = JSON.parse(readFileSync(file, 'utf8'));
    totals.passed += report.numPassedTests;
    totals.failed += report.numFailedTests;
    totals.skipped += report.numPendingTests + report.numTodoTests;
    totals.suitesFailed += report.numFailedTestSuites;
  } catch {
    totals.suitesFailed += 1;
  }
}

// e2e suites that start the server as a separate process use the compiled build.
const build = spawnSync('node', [join(root, 'scripts', 'ensure-built.js')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

// The admin UI's component tests (Vitest, jsdom), first: they need no server and take seconds.
{
  process.stdout.write('\n== admin UI component tests\n');
  const file = join(out, 'admin-ui.json');
  const result = spawnSync(
    process.execPath,
    [
      // Its bin (the package's exports do not list it).
      join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs'),
      'run',
      '--config',
      join(root, 'admin-ui', 'vite.config.mts'),
      '--reporter=default',
      '--reporter=json',
      `--outputFile.json=${file}`,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) exitCode = result.status ?? 1;
  collect(file);
}

for (const [name, config, flags] of stages) {
  process.stdout.write(`\n== ${name} tests\n`);
  const file = join(out, `${name}.json`);
  const result = spawnSync(
    process.execPath,
    [
      require.resolve('jest/bin/jest'),
      '-c',
      config,
      ...flags,
      '--json',
      `--outputFile=${file}`,
      '--passWithNoTests',
      ...extra,
    ],
    { cwd: root, stdio: 'inherit' },
  );
  if (result.status !== 0) exitCode = result.status ?? 1;
  collect(file);
}
rmSync(out, { recursive: true, force: true });

const skippedServices = [];
if (!process.env.TEST_DATABASE_URL)
  skippedServices.push('PostgreSQL suites (TEST_DATABASE_URL not set)');
if (!process.env.TEST_REDIS_URL) skippedServices.push('Redis suites (TEST_REDIS_URL not set)');
if (!process.env.TEST_AMQP_URL) skippedServices.push('RabbitMQ suites (TEST_AMQP_URL not set)');
if (skippedServices.length > 0) {
  process.stdout.write(`\nSkipped: ${skippedServices.join('; ')}.\n`);
  process.stdout.write('Set them (see README, "Running the tests") to run every suite.\n');
}
process.stdout.write(
  `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
);
if (totals.suitesFailed > 0 && exitCode === 0) exitCode = 1;
process.exit(exitCode);
