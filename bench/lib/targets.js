'use strict';
// The processes under test: the fake upstream, the bare Node proxy (baseline) and Switchyard's
// production build (dist/main.js) in its embedded (SQLite + in-process coordinator) and scaled
// (PostgreSQL + Redis) configurations, each set up through the admin API like a real install.
const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { freePort, startNode, waitReady, request } = require('./proc');

const ROOT = path.join(__dirname, '..', '..');
const ADMIN_PASSWORD = 'bench-admin-password-1234';

/** Limits high enough never to trip, so every check runs and none refuses. */
const KEY_LIMITS = {
  windowMinutes: 60,
  windowRequests: 1_000_000_000,
  windowTokens: 1_000_000_000_000,
  windowCostMicros: 1_000_000_000_000_000,
  concurrency: 100_000,
  dailyCostMicros: 1_000_000_000_000_000,
  weeklyCostMicros: 1_000_000_000_000_000,
  totalCostMicros: 1_000_000_000_000_000,
};

async function startFakeUpstream(workDir, extraEnv = {}) {
  const port = await freePort();
  const proc = startNode(
    'fake-upstream',
    [path.join(ROOT, 'test/fake-upstream/bench-server.js'), String(port)],
    {
      env: extraEnv,
      logFile: path.join(workDir, 'fake-upstream.log'),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/v1/models`, 15_000);
  return { name: 'upstream', proc, url, port };
}

async function startBaseline(workDir, upstreamUrl) {
  const port = await freePort();
  const proc = startNode(
    'baseline',
    [path.join(__dirname, '..', 'baseline-proxy.js'), String(port), upstreamUrl],
    {
      logFile: path.join(workDir, 'baseline.log'),
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/v1/models`, 15_000);
  return { name: 'baseline', label: 'bare node proxy', proc, url, port, headers: {} };
}

async function adminClient(url) {
  const login = await request(`${url}/admin/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (login.status !== 200 && login.status !== 201) {
    throw new Error(`admin login failed: ${login.status} ${login.body}`);
  }
  const { token } = JSON.parse(login.body);
  return async (method, apiPath, body) => {
    const res = await request(`${url}${apiPath}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      timeoutMs: 30_000,
    });
    if (res.status >= 300) throw new Error(`${method} ${apiPath} -> ${res.status} ${res.body}`);
    return res.body.length > 0 ? JSON.parse(res.body) : undefined;
  };
}

/**
 * Starts dist/main.js with only the environment a production install would set, then creates the
 * upstream account (pointing at the fake upstream) and a key with every limit set.
 */
async function startSwitchyard(workDir, { name, label, upstreamUrl, env = {}, nodeArgs = [] }) {
  const port = await freePort();
  const dataDir = path.join(workDir, `${name}-data`);
  fs.mkdirSync(dataDir, { recursive: true });
  // BENCH_SWITCHYARD_MAIN: another build of the server, e.g. to compare a change side by side.
  const main = process.env.BENCH_SWITCHYARD_MAIN ?? path.join(ROOT, 'dist/main.js');
  const proc = startNode('switchyard-' + name, [main], {
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      ADMIN_PASSWORD,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      JWT_SECRET: randomBytes(32).toString('hex'),
      PRINT_BANNER: 'false',
      LOG_LEVEL: 'info',
      ANTHROPIC_BASE_URL: upstreamUrl,
      ...env,
    },
    nodeArgs,
    logFile: path.join(workDir, `switchyard-${name}.log`),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/health/ready`, 90_000);
  const admin = await adminClient(url);
  const account = await admin('POST', '/admin/api/accounts', {
    name: 'bench-console',
    type: 'claude-console',
    baseUrl: upstreamUrl,
    credentials: { apiKey: 'sk-ant-bench-upstream-key' },
  });
  const created = await admin('POST', '/admin/api/keys', { name: 'bench-key', limits: KEY_LIMITS });
  return {
    name,
    label,
    proc,
    url,
    port,
    admin,
    accountId: account.id,
    keyId: created.key?.id ?? created.id,
    headers: { 'x-api-key': created.secret },
  };
}

module.exports = { startFakeUpstream, startBaseline, startSwitchyard, KEY_LIMITS, ROOT };
