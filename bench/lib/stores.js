'use strict';
// The machine's PostgreSQL and Redis for the scaled configuration: a database dropped and
// created per run, a key prefix unique to the run, both removed afterwards.
const { Client } = require('pg');
const Redis = require('ioredis');

const DEFAULT_PG = 'postgres://postgres@127.0.0.1:5432/postgres';
const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

async function adminQuery(adminUrl, sql) {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await withTimeout(client.connect(), 6000, 'PostgreSQL connect');
  try {
    await withTimeout(client.query(sql), 30_000, 'PostgreSQL query');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Drops and creates the benchmark database; returns its URL and a function that drops it. */
async function preparePostgres(adminUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_PG) {
  const database = process.env.BENCH_DATABASE_NAME ?? 'switchyard_bench';
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`bad database name ${database}`);
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${database}`);
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return {
    url: url.toString(),
    drop: () => adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`),
  };
}

/** A Redis connection for INFO and cleanup, and a key prefix unique to this run. */
async function prepareRedis(redisUrl = process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS) {
  const prefix = `sybench:${process.pid}:${Date.now()}:`;
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  await withTimeout(client.connect(), 6000, 'Redis connect');
  await withTimeout(client.ping(), 3000, 'Redis ping');

  /** Calls per command on the whole server (other clients of a shared server included). */
  const commandStats = async () => {
    const text = await withTimeout(client.info('commandstats'), 3000, 'Redis INFO');
    const calls = {};
    for (const line of text.split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (match !== null) calls[match[1]] = Number(match[2]);
    }
    return calls;
  };

  const cleanup = async () => {
    try {
      let cursor = '0';
      do {
        const [next, keys] = await withTimeout(
          client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000),
          5000,
          'Redis SCAN',
        );
        cursor = next;
        if (keys.length > 0) await client.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      client.disconnect();
    }
  };
  return { url: redisUrl, prefix, commandStats, cleanup };
}

const SCRIPT_COMMANDS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'fcall', 'fcall_ro']);

/**
 * Difference of two commandstats snapshots, without the harness's own INFO calls. Redis counts
 * the commands a script runs as well as the script call itself: `scripts` counts only the calls
 * (each one round trip), `total` everything executed.
 */
function commandDelta(before, after) {
  const delta = {};
  let total = 0;
  let scripts = 0;
  for (const [name, calls] of Object.entries(after)) {
    if (name === 'info') continue;
    const d = calls - (before[name] ?? 0);
    if (d > 0) {
      delta[name] = d;
      total += d;
      if (SCRIPT_COMMANDS.has(name)) scripts += d;
    }
  }
  return { total, scripts, byCommand: delta };
}

module.exports = { preparePostgres, prepareRedis, commandDelta };
