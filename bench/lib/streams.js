'use strict';
// n concurrent slow streams on one instance: each client holds one stream of STREAM_EVENTS events,
// one every STREAM_DELAY_MS (60 s), through a raw HTTP client. Every stream must end with
// message_stop, none may fail, and the request log must hold exactly one row per stream.
const fs = require('node:fs');
const http = require('node:http');
const { sleep, rssOf } = require('./proc');
const { SCENARIOS } = require('./load');
const { scrape, loopDelay } = require('./metrics');
const { log } = require('./environment');
const { fixed, thousands, mb, table, goalsTable } = require('./format');

const STREAM_EVENTS = 600;
const STREAM_DELAY_MS = 100;
const STOP = Buffer.from('event: message_stop');
const ERROR = Buffer.from('event: error');

/** Linux TCP counters of the whole machine (loopback included): listen queue overflows etc. */
function tcpCounters() {
  try {
    const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n');
    const out = {};
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const names = lines[i].split(/\s+/);
      const values = lines[i + 1].split(/\s+/);
      if (names[0] !== 'TcpExt:') continue;
      for (let j = 1; j < names.length; j++) out[names[j]] = Number(values[j]);
    }
    return out;
  } catch {
    return {};
  }
}

function counterDelta(before, after) {
  const keys = [
    'ListenOverflows',
    'ListenDrops',
    'TCPAbortOnData',
    'TCPAbortOnClose',
    'TCPTimeouts',
  ];
  const out = {};
  for (const key of keys) if (after[key] !== undefined) out[key] = after[key] - (before[key] ?? 0);
  return out;
}

function openFilesLimit() {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const match = /^Max open files\s+(\d+)/m.exec(limits);
    return match === null ? Infinity : Number(match[1]);
  } catch {
    return Infinity;
  }
}

/** One stream: resolves {ok, reason, bytes, ms}; never rejects. */
function oneStream(target, agent, body, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    const url = new URL(target.url + SCENARIOS.stream.path);
    let settled = false;
    const finish = (ok, reason, bytes) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ok, reason, bytes, ms: Date.now() - started });
    };
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': body.length,
          ...target.headers,
        },
      },
      (res) => {
        let tail = Buffer.alloc(0);
        let bytes = 0;
        let sawStop = false;
        let sawError = false;
        res.on('data', (chunk) => {
          bytes += chunk.length;
          const window = Buffer.concat([tail, chunk]);
          if (!sawStop && window.includes(STOP)) sawStop = true;
          if (!sawError && window.includes(ERROR)) sawError = true;
          tail = window.subarray(Math.max(0, window.length - 32));
        });
        res.on('end', () => {
          if (res.statusCode !== 200) finish(false, `status ${res.statusCode}`, bytes);
          else if (sawError) finish(false, 'error event', bytes);
          else if (!sawStop) finish(false, 'no message_stop', bytes);
          else finish(true, null, bytes);
        });
        res.on('error', (error) => finish(false, error.code ?? error.message, bytes));
      },
    );
    const timer = setTimeout(() => req.destroy(new Error('client timeout')), timeoutMs);
    req.on('error', (error) => finish(false, error.code ?? error.message, 0));
    req.end(body);
  });
}

async function requestRows(target, outcome) {
  const query = outcome === undefined ? '' : `&outcome=${outcome}`;
  return (await target.admin('GET', `/admin/api/usage/requests?pageSize=1${query}`)).total;
}

async function streamsOne(target, n, rampPerSecond) {
  const body = Buffer.from(SCENARIOS.stream.body);
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  // The bare proxy (for comparison, when asked for) keeps no request log.
  const accounted = target.admin !== undefined;
  const rowsBefore = accounted ? await requestRows(target) : 0;
  const okBefore = accounted ? await requestRows(target, 'ok') : 0;
  const expectedMs = STREAM_EVENTS * STREAM_DELAY_MS;
  const rampMs = Math.max(1000, (n / rampPerSecond) * 1000);
  const samples = [];
  let active = 0;
  let done = 0;
  const started = Date.now();
  // The first scrape's loop figures cover everything since the process started: reset them.
  await scrape(target.url).catch(() => undefined);
  const sampler = setInterval(() => {
    const rss = rssOf(target.proc.pid);
    const t = (Date.now() - started) / 1000;
    scrape(target.url)
      .then((metrics) => {
        const delay = loopDelay(metrics);
        samples.push({
          t,
          rssBytes: rss,
          active,
          done,
          lagP99Ms: delay.p99Ms,
          lagMaxMs: delay.maxMs,
        });
      })
      .catch(() =>
        samples.push({ t, rssBytes: rss, active, done, lagP99Ms: null, lagMaxMs: null }),
      );
  }, 1000);
  const results = [];
  const streams = [];
  const tcpBefore = tcpCounters();
  try {
    for (let i = 0; i < n; i++) {
      const due = started + (i * rampMs) / n;
      if (due > Date.now()) await sleep(due - Date.now());
      active += 1;
      streams.push(
        oneStream(target, agent, body, expectedMs + 120_000).then((r) => {
          active -= 1;
          done += 1;
          results.push(r);
        }),
      );
    }
    log(
      `${target.name}: ${thousands(n)} streams open after ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    await Promise.all(streams);
  } finally {
    clearInterval(sampler);
    agent.destroy();
  }
  const seconds = (Date.now() - started) / 1000;
  const tcp = counterDelta(tcpBefore, tcpCounters());
  const complete = results.filter((r) => r.ok).length;
  const reasons = {};
  for (const r of results) if (!r.ok) reasons[r.reason] = (reasons[r.reason] ?? 0) + 1;

  // The recorder flushes every USAGE_FLUSH_INTERVAL_MS: wait until every stream has its row.
  let rows = null;
  let rowsOk = null;
  for (let i = 0; accounted && i < 30; i++) {
    rows = (await requestRows(target)) - rowsBefore;
    rowsOk = (await requestRows(target, 'ok')) - okBefore;
    if (rows >= n) break;
    await sleep(500);
  }
  const durations = results
    .filter((r) => r.ok)
    .map((r) => r.ms)
    .sort((a, b) => a - b);
  return {
    label: target.label,
    streams: n,
    complete,
    errors: n - complete,
    errorReasons: reasons,
    seconds,
    streamMsP50: durations[Math.floor(durations.length / 2)] ?? null,
    streamMsMax: durations[durations.length - 1] ?? null,
    rows,
    rowsOk,
    rampPerSecond,
    tcp,
    peakRssBytes: Math.max(0, ...samples.map((s) => s.rssBytes ?? 0)),
    rssAfterBytes: rssOf(target.proc.pid),
    lagP99MsMax: Math.max(0, ...samples.map((s) => s.lagP99Ms ?? 0)),
    samples,
  };
}

async function runStreams(env, options) {
  const n = options.streams;
  const limit = openFilesLimit();
  if (limit < n + 256) {
    throw new Error(
      `this process may open ${limit} files, too few for ${n} streams: run \`ulimit -n ${Math.max(65535, n + 1024)}\` first`,
    );
  }
  const perTarget = {};
  for (const target of env.targets) {
    log(
      `streams ${target.name}: ${thousands(n)} streams of ${STREAM_EVENTS} events every ${STREAM_DELAY_MS} ms`,
    );
    perTarget[target.name] = await streamsOne(target, n, options.streamRamp);
    const p = perTarget[target.name];
    log(
      `streams ${target.name}: ${p.complete} complete, ${p.errors} failed, peak RSS ${mb(p.peakRssBytes)}`,
    );
  }
  const goals = [];
  for (const [name, p] of Object.entries(perTarget)) {
    goals.push({
      goal: `${n} streams ${name}: no errors`,
      value: thousands(p.errors),
      pass: p.errors === 0,
    });
    if (p.rows !== null) {
      goals.push({
        goal: `${n} streams ${name}: every stream complete and accounted for`,
        value: `${thousands(p.complete)} complete, ${thousands(p.rowsOk)} ok rows, ${thousands(p.rows)} rows`,
        pass: p.complete === n && p.rowsOk === n && p.rows === n,
      });
    }
    goals.push({
      goal: `${n} streams ${name}: RSS < 1 GB`,
      value: mb(p.peakRssBytes),
      pass: p.peakRssBytes < 1024 ** 3,
    });
  }
  return { kind: 'streams', options, targets: perTarget, goals, skipped: env.skipped };
}

function printStreams(report) {
  const lines = [
    `\nSwitchyard slow streams — ${report.finishedAt} — ${report.machine.cpus} x ${report.machine.cpuModel}`,
  ];
  lines.push(
    table(
      [
        'target',
        'streams',
        'complete',
        'errors',
        'rows (ok)',
        'stream p50',
        'stream max',
        'peak RSS',
        'loop delay p99 max',
      ],
      Object.entries(report.targets).map(([name, p]) => [
        name,
        thousands(p.streams),
        thousands(p.complete),
        thousands(p.errors),
        p.rows === null ? '-' : `${thousands(p.rows)} (${thousands(p.rowsOk)})`,
        `${fixed(p.streamMsP50 / 1000, 1)} s`,
        `${fixed(p.streamMsMax / 1000, 1)} s`,
        mb(p.peakRssBytes),
        `${fixed(p.lagP99MsMax, 1)} ms`,
      ]),
    ),
  );
  for (const [name, p] of Object.entries(report.targets)) {
    if (p.errors > 0) lines.push(`  ${name} failures: ${JSON.stringify(p.errorReasons)}`);
    lines.push(
      `  ${name}: opened at ${p.rampPerSecond}/s; TCP counters (whole machine) ${JSON.stringify(p.tcp)}`,
    );
  }
  lines.push('');
  lines.push(goalsTable(report.goals));
  process.stdout.write(lines.join('\n') + '\n');
}

module.exports = { runStreams, printStreams, STREAM_EVENTS, STREAM_DELAY_MS };
