#!/usr/bin/env node
'use strict';
// Switchyard benchmark harness. `npm run bench` (throughput, latency, RSS, coordination),
// `npm run bench -- --soak <minutes>` (sustained load), `npm run bench -- --streams <n>` (n slow
// concurrent streams). See docs/performance.md for what each figure means.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { killAllNow } = require('./lib/proc');
const { startEnvironment, ensureBuilt, log } = require('./lib/environment');
const { hasWrk, cleanupLoadFiles } = require('./lib/load');
const { runThroughput, printThroughput } = require('./lib/throughput');
const { runSoak, printSoak } = require('./lib/soak');
const { runStreams, printStreams, STREAM_EVENTS, STREAM_DELAY_MS } = require('./lib/streams');

const RESULTS = path.join(__dirname, 'results');

const HELP = `Usage: npm run bench -- [options]

Modes (default: throughput and latency of every target):
  --soak <minutes>        sustained mixed load on each Switchyard target, RSS and event-loop
                          delay sampled every second
  --streams <n>           n concurrent slow streams (one event every ${STREAM_DELAY_MS} ms, ${STREAM_EVENTS} events)

Options:
  --stream-ramp <n>       new streams opened per second in --streams mode (default 250)
  --targets <list>        comma separated: baseline,embedded,scaled (default: all of them;
                          soak and streams: embedded,scaled)
  --duration <s>          seconds per loaded measurement (default 10)
  --latency-duration <s>  seconds per 1-connection measurement (default 5)
  --rounds <n>            alternating rounds (default 2)
  --warmup <s>            warm-up seconds per target and scenario (default 3)
  --connections <n>       connections of the loaded scenarios (default 32)
  --generator <name>      wrk | autocannon (default: wrk when installed, else autocannon)
  --rss-after <n>         requests each process serves before its RSS is read (default 100000)
  --profile               run Switchyard with --cpu-prof; profiles go to /tmp/switchyard-bench-prof
  --keep-logs             keep the work directory with every process's log
  --out <file>            where to write the JSON (default bench/results/latest.json, or
                          latest-soak.json / latest-streams.json)
  --no-openai             leave out the OpenAI Chat Completions scenarios (to compare with a
                          build that has no /openai routes, through BENCH_SWITCHYARD_MAIN)
  --help
`;

function parseArgs(argv) {
  const options = {
    mode: 'throughput',
    targets: null,
    duration: 10,
    latencyDuration: 5,
    rounds: 2,
    warmup: 3,
    connections: 32,
    generator: null,
    profile: false,
    keepLogs: false,
    out: null,
    rssAfter: 100_000,
    soakMinutes: 0,
    streams: 0,
    streamRamp: 250,
    openai: true,
  };
  const number = (name, value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} needs a number, got ${value}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '--soak':
        options.mode = 'soak';
        options.soakMinutes = number(arg, next());
        break;
      case '--streams':
        options.mode = 'streams';
        options.streams = Math.floor(number(arg, next()));
        break;
      case '--stream-ramp':
        options.streamRamp = Math.max(1, number(arg, next()));
        break;
      case '--targets':
        options.targets = next()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        break;
      case '--duration':
        options.duration = number(arg, next());
        break;
      case '--latency-duration':
        options.latencyDuration = number(arg, next());
        break;
      case '--rounds':
        options.rounds = Math.max(1, Math.floor(number(arg, next())));
        break;
      case '--warmup':
        options.warmup = number(arg, next());
        break;
      case '--connections':
        options.connections = Math.max(2, Math.floor(number(arg, next())));
        break;
      case '--generator':
        options.generator = next();
        if (!['wrk', 'autocannon'].includes(options.generator))
          throw new Error('--generator: wrk or autocannon');
        break;
      case '--rss-after':
        options.rssAfter = Math.floor(number(arg, next()));
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--no-openai':
        options.openai = false;
        break;
      case '--keep-logs':
        options.keepLogs = true;
        break;
      case '--out':
        options.out = path.resolve(next());
        break;
      case '--help':
      case '-h':
        process.stdout.write(HELP);
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${arg}\n\n${HELP}`);
    }
  }
  return options;
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    platform: `${os.type()} ${os.release()}`,
    node: process.version,
  };
}

function writeJson(file, report) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  log(`results written to ${path.relative(process.cwd(), file) || file}`);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.generator === null) options.generator = hasWrk() ? 'wrk' : 'autocannon';
  const started = new Date();
  ensureBuilt();

  // BENCH_NODE_ARGS: extra node flags for the Switchyard processes, e.g. to compare V8 heap flags.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  if (options.profile) {
    const dir = '/tmp/switchyard-bench-prof';
    fs.mkdirSync(dir, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    log(`CPU profiles of the Switchyard processes go to ${dir}`);
  }

  let names = options.targets;
  let upstreamEnv = {};
  if (options.mode === 'throughput') {
    names ??= ['baseline', 'embedded', 'scaled'];
    if (!names.includes('baseline')) names.unshift('baseline');
  } else {
    // The bare proxy only when asked for, as a reference for what the machine can carry.
    names ??= ['embedded', 'scaled'];
    if (options.mode === 'soak') names = names.filter((n) => n !== 'baseline');
  }
  if (options.mode === 'streams') {
    upstreamEnv = {
      FAKE_EVENTS: String(STREAM_EVENTS - 6),
      FAKE_EVENT_DELAY_MS: String(STREAM_DELAY_MS),
    };
  }

  // BENCH_SWITCHYARD_ENV: extra variables for the Switchyard processes, `NAME=value NAME=value`
  // (e.g. OTEL_TRACES_ENABLED=true OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 with
  // bench/otlp-sink.js listening there, to measure tracing's cost).
  const switchyardEnv = Object.fromEntries(
    (process.env.BENCH_SWITCHYARD_ENV ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  );
  const env = await startEnvironment({ names, upstreamEnv, switchyardEnv, nodeArgs });
  activeEnv = env;
  let report;
  let failed = false;
  try {
    if (options.mode === 'throughput') {
      report = await runThroughput(env, options);
    } else if (options.mode === 'soak') {
      report = await runSoak(env, options);
    } else {
      report = await runStreams(env, options);
    }
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    log('stopping every process');
    activeEnv = null;
    await env.close({ keepLogs: options.keepLogs || failed });
    if (options.keepLogs || failed) log(`logs kept in ${env.workDir}`);
    cleanupLoadFiles();
  }

  report.startedAt = started.toISOString();
  report.finishedAt = new Date().toISOString();
  report.machine = machine();
  report.command = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  if (options.mode === 'throughput') printThroughput(report);
  else if (options.mode === 'soak') printSoak(report);
  else printStreams(report);
  const file =
    options.out ??
    path.join(
      RESULTS,
      options.mode === 'throughput' ? 'latest.json' : `latest-${options.mode}.json`,
    );
  writeJson(file, report);
  return report;
}

// Whatever happens, no server is left running: an interrupted run stops its processes (and drops
// its database) within a bounded time, and exit kills anything left.
let activeEnv = null;
process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`${signal}: stopping`);
    const force = setTimeout(() => process.exit(130), 20_000);
    const closing = activeEnv === null ? Promise.resolve() : activeEnv.close({ keepLogs: true });
    closing.finally(() => {
      clearTimeout(force);
      process.exit(130);
    });
  });
}

main().then(
  (report) => {
    const missed = (report.goals ?? []).filter((g) => !g.pass).length;
    process.exitCode = 0;
    if (missed > 0) log(`${missed} goal(s) missed (see docs/performance.md)`);
  },
  (error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);
