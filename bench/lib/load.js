'use strict';
// Load generators. Loaded scenarios use wrk when it is installed (C, cheap on a 2-core box) or
// autocannon in this process; the unloaded (1 connection) scenario uses a sequential client timed
// with hrtime, because both tools report latency in whole milliseconds or coarser.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const autocannon = require('autocannon');

/** What Claude Code sends, trimmed: a session in metadata.user_id makes routing sticky. */
const SESSION = 'user_0123456789abcdef_account__session_6b3c8f5e-1d2a-4c4b-9e7f-0a1b2c3d4e5f';
const PROMPT =
  'Summarise the following paragraph in one sentence. The quick brown fox jumps over the lazy ' +
  'dog while the benchmark measures how much a relay adds to every request it forwards upstream.';

function messageBody(stream) {
  return JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_tokens: 1024,
    stream,
    metadata: { user_id: SESSION },
    messages: [{ role: 'user', content: PROMPT }],
  });
}

/** The same request from an OpenAI Chat Completions client (converted for a Claude account). */
function chatBody(stream) {
  return JSON.stringify({
    model: 'claude-sonnet-4-6',
    max_completion_tokens: 1024,
    stream,
    ...(stream && { stream_options: { include_usage: true } }),
    user: SESSION,
    messages: [{ role: 'user', content: PROMPT }],
  });
}

/** switchyardOnly: the bare proxy cannot convert formats, so it has no figure to compare. */
const SCENARIOS = {
  'non-stream': { stream: false, path: '/v1/messages', body: messageBody(false) },
  stream: { stream: true, path: '/v1/messages', body: messageBody(true) },
  'openai non-stream': {
    stream: false,
    path: '/openai/v1/chat/completions',
    body: chatBody(false),
    switchyardOnly: true,
  },
  'openai stream': {
    stream: true,
    path: '/openai/v1/chat/completions',
    body: chatBody(true),
    switchyardOnly: true,
  },
};

function hasWrk() {
  const probe = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  return probe.error === undefined && /wrk/.test(`${probe.stdout}${probe.stderr}`);
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** autocannon in this process: {requests, ok, errors, rps, p50Ms, p99Ms, seconds}. */
async function runAutocannon({ url, headers, scenario, connections, seconds, amount }) {
  const result = await autocannon({
    url: url + scenario.path,
    method: 'POST',
    connections,
    ...(amount === undefined ? { duration: seconds } : { amount }),
    timeout: 30,
    headers: { 'content-type': 'application/json', ...headers },
    body: scenario.body,
  });
  const ok = result['2xx'];
  const errors = result.errors + result.timeouts + result.non2xx;
  const elapsed = result.duration;
  return {
    tool: 'autocannon',
    requests: ok + result.non2xx,
    ok,
    errors,
    seconds: elapsed,
    rps: ok / elapsed,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}

const WRK_SCRIPT = `
wrk.method = "POST"
local f = io.open(os.getenv("BENCH_BODY_FILE"), "rb")
wrk.body = f:read("*a")
f:close()
wrk.headers["content-type"] = "application/json"
local key = os.getenv("BENCH_API_KEY")
if key ~= nil and key ~= "" then wrk.headers["x-api-key"] = key end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50":%d,"p99":%d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;

let wrkFiles = null;
function wrkScript() {
  if (wrkFiles === null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sy-bench-wrk-'));
    wrkFiles = { dir, script: path.join(dir, 'post.lua') };
    fs.writeFileSync(wrkFiles.script, WRK_SCRIPT);
  }
  return wrkFiles;
}

/** wrk in its own process, 2 threads: same result shape as runAutocannon. */
function runWrk({ url, headers, scenario, connections, seconds }) {
  const files = wrkScript();
  const bodyFile = path.join(files.dir, `${scenario.stream ? 'stream' : 'plain'}.json`);
  fs.writeFileSync(bodyFile, scenario.body);
  const threads = Math.min(2, connections);
  return new Promise((resolve, reject) => {
    const child = spawn(
      'wrk',
      [
        `-t${threads}`,
        `-c${connections}`,
        `-d${seconds}s`,
        '--timeout',
        '30s',
        '-s',
        files.script,
        url + scenario.path,
      ],
      {
        env: {
          ...process.env,
          BENCH_BODY_FILE: bodyFile,
          BENCH_API_KEY: headers['x-api-key'] ?? '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 60) * 1000);
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(timer);
      const match = /BENCH_JSON (\{.*\})/.exec(out);
      if (match === null) return reject(new Error(`wrk failed:\n${out}`));
      const r = JSON.parse(match[1]);
      const socketErrors = r.connect + r.read + r.write + r.timeout;
      const elapsed = r.us / 1e6;
      const ok = r.requests - r.status;
      resolve({
        tool: 'wrk',
        requests: r.requests,
        ok,
        errors: socketErrors + r.status,
        seconds: elapsed,
        rps: ok / elapsed,
        p50Ms: r.p50 / 1000,
        p99Ms: r.p99 / 1000,
      });
    });
  });
}

/**
 * One connection, one request at a time, for `seconds`: the added latency of an unloaded relay.
 * Latencies are timed from write to the last byte, in microseconds.
 */
async function runSequential({ url, headers, scenario, seconds }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url + scenario.path);
  const body = Buffer.from(scenario.body);
  const options = {
    host: target.hostname,
    port: target.port,
    path: target.pathname,
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': body.length, ...headers },
  };
  const once = () =>
    new Promise((resolve) => {
      const started = process.hrtime.bigint();
      const req = http.request(options, (res) => {
        res.on('data', () => undefined);
        res.on('end', () =>
          resolve({
            ok: res.statusCode === 200,
            us: Number(process.hrtime.bigint() - started) / 1000,
          }),
        );
        res.on('error', () => resolve({ ok: false, us: 0 }));
      });
      req.setTimeout(30_000, () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ ok: false, us: 0 }));
      req.end(body);
    });
  const latencies = [];
  let errors = 0;
  const started = Date.now();
  const until = started + seconds * 1000;
  while (Date.now() < until) {
    const r = await once();
    if (r.ok) latencies.push(r.us);
    else errors += 1;
  }
  const elapsed = (Date.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    tool: 'sequential',
    requests: latencies.length + errors,
    ok: latencies.length,
    errors,
    seconds: elapsed,
    rps: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50) / 1000,
    p99Ms: percentile(latencies, 99) / 1000,
  };
}

/** Runs one measurement with the chosen generator. */
function drive(generator, options) {
  if (options.connections === 1) return runSequential(options);
  return generator === 'wrk' ? runWrk(options) : runAutocannon(options);
}

function cleanupLoadFiles() {
  if (wrkFiles !== null) fs.rmSync(wrkFiles.dir, { recursive: true, force: true });
  wrkFiles = null;
}

module.exports = {
  SCENARIOS,
  messageBody,
  hasWrk,
  drive,
  runAutocannon,
  percentile,
  cleanupLoadFiles,
};
