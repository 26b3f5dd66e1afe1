'use strict';
// Brings up everything one benchmark mode needs and takes it all down again: a work directory,
// the fake upstream, the targets, and for the scaled configuration a fresh PostgreSQL database
// and a Redis key prefix of its own.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { stopAll } = require('./proc');
const { preparePostgres, prepareRedis } = require('./stores');
const { startFakeUpstream, startBaseline, startSwitchyard, ROOT } = require('./targets');

function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Compiles dist/ when it is missing or older than src/ (scripts/ensure-built.js). */
function ensureBuilt() {
  const result = spawnSync(process.execPath, [path.join(ROOT, 'scripts/ensure-built.js')], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 600_000,
  });
  if (result.status !== 0) throw new Error('building dist/ failed');
}

/**
 * names: any of 'baseline', 'embedded', 'scaled'. Returns {targets, upstream, workDir, close}.
 * The scaled configuration is skipped, with a warning, when PostgreSQL or Redis is unreachable.
 */
async function startEnvironment({ names, upstreamEnv = {}, switchyardEnv = {}, nodeArgs = [] }) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'switchyard-bench-'));
  const cleanups = [];
  const skipped = [];
  const env = { workDir, targets: [], upstream: null, redis: null, skipped };
  env.close = async ({ keepLogs = false } = {}) => {
    await stopAll();
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((error) => log(`cleanup: ${error.message}`));
    }
    if (!keepLogs) fs.rmSync(workDir, { recursive: true, force: true });
  };
  try {
    log(`work directory ${workDir}`);
    env.upstream = await startFakeUpstream(workDir, upstreamEnv);
    log(`fake upstream on ${env.upstream.url}`);
    for (const name of names) {
      if (name === 'baseline') {
        env.targets.push(await startBaseline(workDir, env.upstream.url));
      } else if (name === 'embedded') {
        env.targets.push(
          await startSwitchyard(workDir, {
            name,
            label: 'switchyard embedded (SQLite + local)',
            upstreamUrl: env.upstream.url,
            env: switchyardEnv,
            nodeArgs,
          }),
        );
      } else if (name === 'scaled') {
        let database;
        let redis;
        try {
          database = await preparePostgres();
          cleanups.push(() => database.drop());
          redis = await prepareRedis();
          cleanups.push(() => redis.cleanup());
        } catch (error) {
          log(`scaled configuration skipped: PostgreSQL or Redis unreachable (${error.message})`);
          skipped.push({ name, reason: error.message });
          continue;
        }
        env.redis = redis;
        env.targets.push(
          await startSwitchyard(workDir, {
            name,
            label: 'switchyard scaled (PostgreSQL + Redis)',
            upstreamUrl: env.upstream.url,
            env: {
              DATABASE_URL: database.url,
              REDIS_URL: redis.url,
              REDIS_KEY_PREFIX: redis.prefix,
              ...switchyardEnv,
            },
            nodeArgs,
          }),
        );
      } else {
        throw new Error(`unknown target ${name}`);
      }
      const target = env.targets[env.targets.length - 1];
      log(`${target.name} on ${target.url} (pid ${target.proc.pid})`);
    }
    return env;
  } catch (error) {
    await env.close({ keepLogs: true });
    log(`logs kept in ${workDir}`);
    throw error;
  }
}

module.exports = { startEnvironment, ensureBuilt, log };
