'use strict';
// Sustained load (half non-stream, half stream requests at 32 connections) on each Switchyard
// target in turn, sampling the server's RSS and event-loop delay every second. A leak shows as
// an upward RSS trend: the last window's mean is compared with the second window's.
const autocannon = require('autocannon');
const { sleep, rssOf } = require('./proc');
const { SCENARIOS } = require('./load');
const { scrape, value, loopDelay } = require('./metrics');
const { log } = require('./environment');
const { fixed, thousands, mb, table, goalsTable } = require('./format');

function mean(values) {
  const xs = values.filter((v) => v !== null && !Number.isNaN(v));
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function soakOne(target, seconds, connections) {
  return new Promise((resolve, reject) => {
    const samples = [];
    let lastCount = 0;
    const started = Date.now();
    const instance = autocannon(
      {
        url: target.url + SCENARIOS['non-stream'].path,
        method: 'POST',
        connections,
        duration: seconds,
        timeout: 30,
        headers: { 'content-type': 'application/json', ...target.headers },
        requests: [
          { method: 'POST', body: SCENARIOS['non-stream'].body },
          { method: 'POST', body: SCENARIOS.stream.body },
        ],
      },
      (error, result) => {
        clearInterval(sampler);
        if (error) reject(error);
        else resolve({ samples, result });
      },
    );
    instance.on('tick', ({ counter }) => {
      lastCount = counter;
    });
    let sampling = false;
    const sampler = setInterval(() => {
      if (sampling) return;
      sampling = true;
      const t = (Date.now() - started) / 1000;
      const rss = rssOf(target.proc.pid);
      scrape(target.url)
        .then((metrics) => {
          const delay = loopDelay(metrics);
          samples.push({
            t,
            rssBytes: rss,
            rps: lastCount,
            lagP99Ms: delay.p99Ms,
            lagMaxMs: delay.maxMs,
            heapUsedBytes: value(metrics, 'switchyard_nodejs_heap_size_used_bytes'),
            usageQueue: value(metrics, 'switchyard_usage_queue_depth'),
          });
        })
        .catch(() =>
          samples.push({ t, rssBytes: rss, rps: lastCount, lagP99Ms: null, lagMaxMs: null }),
        )
        .finally(() => {
          sampling = false;
        });
    }, 1000);
  });
}

/** Windows of 60 s (or a fifth of a short soak), each with its means. */
function windowsOf(samples, seconds) {
  const size = seconds >= 180 ? 60 : Math.max(1, seconds / 5);
  const windows = [];
  for (const s of samples) {
    const i = Math.min(Math.floor(s.t / size), Math.ceil(seconds / size) - 1);
    (windows[i] ??= []).push(s);
  }
  return windows.filter(Boolean).map((w, i) => ({
    index: i + 1,
    fromS: i * size,
    toS: (i + 1) * size,
    rssBytes: mean(w.map((s) => s.rssBytes)),
    rps: mean(w.map((s) => s.rps)),
    lagP99Ms: mean(w.map((s) => s.lagP99Ms)),
    lagMaxMs: Math.max(...w.map((s) => s.lagMaxMs ?? 0)),
    heapUsedBytes: mean(w.map((s) => s.heapUsedBytes)),
  }));
}

async function runSoak(env, options) {
  const seconds = Math.max(10, Math.round(options.soakMinutes * 60));
  const perTarget = {};
  for (const target of env.targets) {
    // The first scrape's loop figures cover everything since the process started: reset them.
    await scrape(target.url).catch(() => undefined);
    log(`soak ${target.name}: ${seconds} s at ${options.connections} connections (half streams)`);
    const { samples, result } = await soakOne(target, seconds, options.connections);
    await sleep(1000);
    const windows = windowsOf(samples, seconds);
    const second = windows[1] ?? windows[0];
    const last = windows[windows.length - 1];
    const trend =
      second && last && second.rssBytes > 0 ? last.rssBytes / second.rssBytes - 1 : null;
    perTarget[target.name] = {
      label: target.label,
      seconds,
      requests: result['2xx'] + result.non2xx,
      errors: result.errors + result.timeouts + result.non2xx,
      rps: result['2xx'] / result.duration,
      rssAfterBytes: rssOf(target.proc.pid),
      peakRssBytes: Math.max(...samples.map((s) => s.rssBytes ?? 0)),
      rssTrend: trend,
      windows,
      samples,
    };
    const p = perTarget[target.name];
    log(
      `soak ${target.name}: ${thousands(p.rps)} req/s, RSS trend ${fixed((trend ?? 0) * 100, 1)} %`,
    );
  }
  const goals = [];
  for (const [name, p] of Object.entries(perTarget)) {
    goals.push({
      goal: `soak ${name}: last window's mean RSS within 5% of the second's`,
      value: `${fixed(p.rssTrend * 100, 1)} %`,
      pass: p.rssTrend !== null && Math.abs(p.rssTrend) <= 0.05,
    });
    goals.push({
      goal: `soak ${name}: no errors`,
      value: thousands(p.errors),
      pass: p.errors === 0,
    });
  }
  return {
    kind: 'soak',
    generator: 'autocannon',
    options,
    targets: perTarget,
    goals,
    skipped: env.skipped,
  };
}

function printSoak(report) {
  const lines = [
    `\nSwitchyard soak — ${report.finishedAt} — ${report.machine.cpus} x ${report.machine.cpuModel}`,
  ];
  for (const [name, p] of Object.entries(report.targets)) {
    lines.push(
      `\n${name}: ${thousands(p.requests)} requests in ${p.seconds} s (${thousands(p.rps)} req/s), ` +
        `errors ${p.errors}, RSS after ${mb(p.rssAfterBytes)}, peak ${mb(p.peakRssBytes)}`,
    );
    lines.push(
      table(
        ['window', 'seconds', 'req/s', 'RSS mean', 'heap used', 'loop delay p99', 'loop delay max'],
        p.windows.map((w) => [
          String(w.index),
          `${Math.round(w.fromS)}-${Math.round(w.toS)}`,
          thousands(w.rps),
          mb(w.rssBytes),
          mb(w.heapUsedBytes),
          `${fixed(w.lagP99Ms, 1)} ms`,
          `${fixed(w.lagMaxMs, 1)} ms`,
        ]),
      ),
    );
  }
  lines.push('');
  lines.push(goalsTable(report.goals));
  process.stdout.write(lines.join('\n') + '\n');
}

module.exports = { runSoak, printSoak };
