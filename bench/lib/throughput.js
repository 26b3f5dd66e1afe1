'use strict';
// The default run: every target, non-stream and stream, at 32 connections and at 1, alternating
// targets (forward, then reverse order) so drift hits them all alike; then RSS after at least
// 100,000 requests, coordinator round trips per request, and a usage accounting check.
const { sleep, rssOf, cpuTimesOf, request } = require('./proc');
const { SCENARIOS, drive, runAutocannon } = require('./load');
const { scrape, coordinatorCalls, callDelta } = require('./metrics');
const { commandDelta } = require('./stores');
const { log } = require('./environment');
const { fixed, thousands, mb, table, goalsTable } = require('./format');

const RSS_AFTER_REQUESTS = 100_000;

function mean(values) {
  const xs = values.filter((v) => v !== null && v !== undefined && !Number.isNaN(v));
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function isSwitchyard(target) {
  return target.name !== 'baseline';
}

async function usageRows(target) {
  const res = await target.admin('GET', '/admin/api/usage/requests?pageSize=1');
  return res.total;
}

async function measure(env, target, scenarioName, connections, seconds, generator, stats) {
  const scenario = SCENARIOS[scenarioName];
  const sy = isSwitchyard(target);
  const callsBefore = sy ? coordinatorCalls(await scrape(target.url)) : null;
  const redisBefore = target.name === 'scaled' ? await env.redis.commandStats() : null;
  const cpuBefore = cpuTimesOf(target.proc.pid);
  const result = await drive(generator, {
    url: target.url,
    headers: target.headers,
    scenario,
    connections,
    seconds,
  });
  const cpuAfter = cpuTimesOf(target.proc.pid);
  // CPU time (user + system, every thread) the server spent per request served under load: a
  // figure that drifts far less with the machine's other work than requests/s does.
  const perRequest = (seconds) => (seconds * 1e6) / result.requests;
  const measured = cpuBefore !== null && cpuAfter !== null && result.requests > 0;
  result.cpuUsPerRequest = measured
    ? perRequest(cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system)
    : null;
  result.cpuSystemUsPerRequest = measured ? perRequest(cpuAfter.system - cpuBefore.system) : null;
  stats.served[target.name] = (stats.served[target.name] ?? 0) + result.requests;
  if (connections > 1) stats.cutOff[target.name] = (stats.cutOff[target.name] ?? 0) + connections;
  // Let settles and usage events of the last requests land before reading the counters.
  await sleep(300);
  if (sy) {
    const calls = callDelta(callsBefore, coordinatorCalls(await scrape(target.url)));
    result.coordinatorCalls = calls.total;
    result.coordinatorCallsByOp = calls.byOp;
  }
  if (redisBefore !== null) {
    const delta = commandDelta(redisBefore, await env.redis.commandStats());
    result.redisCommands = delta.total;
    result.redisScriptCalls = delta.scripts;
    result.redisCommandsByName = delta.byCommand;
  }
  result.rssBytes = rssOf(target.proc.pid);
  return result;
}

function summarise(runs) {
  return {
    rps: mean(runs.map((r) => r.rps)),
    p50Ms: mean(runs.map((r) => r.p50Ms)),
    p99Ms: mean(runs.map((r) => r.p99Ms)),
    cpuUsPerRequest: mean(runs.map((r) => r.cpuUsPerRequest)),
    cpuSystemUsPerRequest: mean(runs.map((r) => r.cpuSystemUsPerRequest)),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    rounds: runs,
  };
}

async function runThroughput(env, options) {
  const { targets } = env;
  const generator = options.generator;
  const scenarios = [
    {
      key: 'non-stream c=32',
      scenario: 'non-stream',
      connections: options.connections,
      seconds: options.duration,
    },
    {
      key: 'stream c=32',
      scenario: 'stream',
      connections: options.connections,
      seconds: options.duration,
    },
    {
      key: 'non-stream c=1',
      scenario: 'non-stream',
      connections: 1,
      seconds: options.latencyDuration,
    },
    { key: 'stream c=1', scenario: 'stream', connections: 1, seconds: options.latencyDuration },
    {
      key: 'openai non-stream c=32',
      scenario: 'openai non-stream',
      connections: options.connections,
      seconds: options.duration,
    },
    {
      key: 'openai stream c=32',
      scenario: 'openai stream',
      connections: options.connections,
      seconds: options.duration,
    },
  ];
  if (options.connections !== 32) {
    scenarios[0].key = `non-stream c=${options.connections}`;
    scenarios[1].key = `stream c=${options.connections}`;
    scenarios[4].key = `openai non-stream c=${options.connections}`;
    scenarios[5].key = `openai stream c=${options.connections}`;
  }
  if (!options.openai) scenarios.splice(4, 2);
  const runsOn = (s, t) => !SCENARIOS[s.scenario].switchyardOnly || isSwitchyard(t);
  // cutOff: requests a load generator may have left in flight when its time ran out; the relay
  // records those as aborted, so the request log may hold up to that many rows more.
  const stats = { served: {}, cutOff: {}, peakRss: {} };
  const sampler = setInterval(() => {
    for (const t of targets) {
      const rss = rssOf(t.proc.pid);
      if (rss !== null) stats.peakRss[t.name] = Math.max(stats.peakRss[t.name] ?? 0, rss);
    }
  }, 250);
  const usageBefore = {};
  const runs = {};
  try {
    for (const t of targets) if (isSwitchyard(t)) usageBefore[t.name] = await usageRows(t);

    // Sanity: every target answers both scenarios correctly before anything is timed.
    for (const t of targets) {
      for (const name of new Set(scenarios.map((x) => x.scenario))) {
        if (SCENARIOS[name].switchyardOnly && !isSwitchyard(t)) continue;
        const res = await request(t.url + SCENARIOS[name].path, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...t.headers },
          body: SCENARIOS[name].body,
          timeoutMs: 10_000,
        });
        const complete = !SCENARIOS[name].stream
          ? res.body.includes('"usage"')
          : SCENARIOS[name].switchyardOnly
            ? res.body.includes('"usage"') && res.body.includes('data: [DONE]')
            : res.body.includes('event: message_stop');
        if (res.status !== 200 || !complete) {
          throw new Error(`${t.name} ${name}: ${res.status} ${res.body.slice(0, 300)}`);
        }
        stats.served[t.name] = (stats.served[t.name] ?? 0) + 1;
      }
    }

    if (options.warmup > 0) {
      log(`warm-up ${options.warmup} s per target and scenario`);
      for (const s of scenarios.filter((x) => !x.key.endsWith('c=1'))) {
        for (const t of targets) {
          if (!runsOn(s, t)) continue;
          const r = await drive(generator, {
            url: t.url,
            headers: t.headers,
            scenario: SCENARIOS[s.scenario],
            connections: s.connections,
            seconds: options.warmup,
          });
          stats.served[t.name] = (stats.served[t.name] ?? 0) + r.requests;
          stats.cutOff[t.name] = (stats.cutOff[t.name] ?? 0) + s.connections;
        }
      }
    }

    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      for (const s of scenarios) {
        for (const t of order) {
          if (!runsOn(s, t)) continue;
          const r = await measure(env, t, s.scenario, s.connections, s.seconds, generator, stats);
          r.round = round + 1;
          ((runs[s.key] ??= {})[t.name] ??= []).push(r);
          log(
            `round ${round + 1} ${s.key.padEnd(16)} ${t.name.padEnd(8)} ${thousands(r.rps).padStart(7)} req/s` +
              `  p50 ${fixed(r.p50Ms, 2)} ms  p99 ${fixed(r.p99Ms, 2)} ms  CPU ${fixed(r.cpuUsPerRequest, 0)} us/req` +
              ` (system ${fixed(r.cpuSystemUsPerRequest, 0)})` +
              `  errors ${r.errors}`,
          );
        }
      }
    }

    // RSS is read once each process has served at least RSS_AFTER_REQUESTS requests.
    for (const t of targets) {
      const missing = options.rssAfter - (stats.served[t.name] ?? 0);
      if (missing > 0) {
        log(
          `${t.name}: ${thousands(missing)} more requests to reach ${thousands(options.rssAfter)}`,
        );
        const r = await runAutocannon({
          url: t.url,
          headers: t.headers,
          scenario: SCENARIOS['non-stream'],
          connections: options.connections,
          amount: missing,
        });
        stats.served[t.name] += r.requests;
      }
    }
    await sleep(1000);
  } finally {
    clearInterval(sampler);
  }

  const rss = {};
  for (const t of targets) rss[t.name] = rssOf(t.proc.pid);

  // Accounting: every relayed request became one request-log row once the recorder flushed.
  const usage = {};
  for (const t of targets) {
    if (!isSwitchyard(t)) continue;
    let rows = null;
    for (let i = 0; i < 20; i++) {
      rows = (await usageRows(t)) - usageBefore[t.name];
      if (rows >= stats.served[t.name]) break;
      await sleep(500);
    }
    usage[t.name] = { served: stats.served[t.name], rows, cutOff: stats.cutOff[t.name] ?? 0 };
  }

  return buildReport(env, options, scenarios, runs, stats, rss, usage);
}

function buildReport(env, options, scenarios, runs, stats, rss, usage) {
  const results = {};
  for (const s of scenarios) {
    results[s.key] = {};
    const base = runs[s.key]?.baseline ? summarise(runs[s.key].baseline) : null;
    for (const [name, list] of Object.entries(runs[s.key] ?? {})) {
      const summary = summarise(list);
      summary.ratio = base !== null && base.rps > 0 ? summary.rps / base.rps : null;
      summary.addedP50Ms = base !== null ? summary.p50Ms - base.p50Ms : null;
      results[s.key][name] = summary;
    }
  }

  const coordination = {};
  for (const t of env.targets) {
    if (!isSwitchyard(t)) continue;
    let calls = 0;
    let requests = 0;
    let redis = 0;
    let scripts = 0;
    const byOp = {};
    for (const s of scenarios) {
      for (const r of runs[s.key]?.[t.name] ?? []) {
        calls += r.coordinatorCalls ?? 0;
        requests += r.requests;
        redis += r.redisCommands ?? 0;
        scripts += r.redisScriptCalls ?? 0;
        for (const [op, n] of Object.entries(r.coordinatorCallsByOp ?? {}))
          byOp[op] = (byOp[op] ?? 0) + n;
      }
    }
    const perOp = {};
    for (const [op, n] of Object.entries(byOp)) perOp[op] = requests > 0 ? n / requests : null;
    coordination[t.name] = {
      callsPerRequest: requests > 0 ? calls / requests : null,
      byOpPerRequest: perOp,
      // From Redis's own INFO commandstats (every client of the server, so an upper bound when
      // others use it): script calls are round trips; commands include those scripts ran.
      redisScriptCallsPerRequest: t.name === 'scaled' && requests > 0 ? scripts / requests : null,
      redisCommandsPerRequest: t.name === 'scaled' && requests > 0 ? redis / requests : null,
    };
  }

  const processes = {};
  for (const t of env.targets) {
    processes[t.name] = {
      label: t.label,
      served: stats.served[t.name] ?? 0,
      rssBytes: rss[t.name],
      peakRssBytes: stats.peakRss[t.name] ?? null,
    };
  }

  return {
    kind: 'throughput',
    generator: options.generator,
    options,
    results,
    coordination,
    processes,
    usage,
    skipped: env.skipped,
  };
}

function goalsOf(report) {
  const goals = [];
  const { results, coordination, processes } = report;
  for (const name of ['embedded', 'scaled']) {
    if (processes[name] === undefined) continue;
    // The OpenAI scenarios have no baseline (a bare proxy does not convert): measured, not a goal.
    for (const key of Object.keys(results).filter(
      (k) => !k.endsWith('c=1') && !k.startsWith('openai'),
    )) {
      const r = results[key][name];
      if (r === undefined) continue;
      goals.push({
        goal: `throughput ${key} ${name} >= 0.60 x baseline`,
        value: `${fixed(r.ratio, 2)} x`,
        pass: r.ratio !== null && r.ratio >= 0.6 && r.errors === 0,
      });
    }
    const unloaded = results['non-stream c=1']?.[name];
    if (unloaded !== undefined) {
      goals.push({
        goal: `unloaded added p50 ${name} <= 0.5 ms`,
        value: `${fixed(unloaded.addedP50Ms, 3)} ms`,
        pass: unloaded.addedP50Ms !== null && unloaded.addedP50Ms <= 0.5,
      });
    }
    const p = processes[name];
    goals.push({
      goal: `RSS ${name} <= 150 MB after 100,000 requests`,
      value: `${mb(p.rssBytes)} after ${thousands(p.served)}`,
      pass: p.rssBytes !== null && p.rssBytes <= 150 * 1048576 && p.served >= RSS_AFTER_REQUESTS,
    });
    const usage = report.usage[name];
    if (usage !== undefined) {
      goals.push({
        goal: `usage rows ${name} = requests served (+ cut off at the end of a run)`,
        value: `${thousands(usage.rows)} rows, ${thousands(usage.served)} served (+${usage.rows - usage.served})`,
        pass: usage.rows >= usage.served && usage.rows - usage.served <= usage.cutOff,
      });
    }
  }
  const scaled = coordination.scaled;
  if (scaled !== undefined) {
    goals.push({
      goal: 'coordinator round trips per request (scaled) <= 4',
      value: fixed(scaled.callsPerRequest, 2),
      pass: scaled.callsPerRequest !== null && scaled.callsPerRequest <= 4,
    });
  }
  return goals;
}

function printThroughput(report) {
  const rows = [];
  for (const [key, byTarget] of Object.entries(report.results)) {
    for (const [name, r] of Object.entries(byTarget)) {
      rows.push([
        key,
        name,
        thousands(r.rps),
        `${fixed(r.p50Ms, 2)} ms`,
        `${fixed(r.p99Ms, 2)} ms`,
        r.cpuUsPerRequest === null ? '-' : `${fixed(r.cpuUsPerRequest, 0)} us`,
        thousands(r.errors),
        name === 'baseline' ? '1.00 x' : `${fixed(r.ratio, 2)} x`,
        name === 'baseline' || !key.endsWith('c=1') ? '-' : `${fixed(r.addedP50Ms, 3)} ms`,
      ]);
    }
  }
  const lines = [];
  lines.push(
    `\nSwitchyard benchmark — ${new Date().toISOString()} — ${report.machine.cpus} x ${report.machine.cpuModel}, ` +
      `node ${process.version}, load: ${report.generator} (c=1: sequential client)`,
  );
  lines.push(
    table(
      [
        'scenario',
        'target',
        'req/s',
        'p50',
        'p99',
        'CPU/req',
        'errors',
        'vs baseline',
        'added p50',
      ],
      rows,
    ),
  );
  const procRows = Object.entries(report.processes).map(([name, p]) => {
    const c = report.coordination[name];
    return [
      name,
      thousands(p.served),
      mb(p.rssBytes),
      mb(p.peakRssBytes),
      c === undefined ? '-' : fixed(c.callsPerRequest, 2),
      c?.redisScriptCallsPerRequest === null || c === undefined
        ? '-'
        : fixed(c.redisScriptCallsPerRequest, 2),
      report.usage[name] === undefined ? '-' : `${thousands(report.usage[name].rows)}`,
    ];
  });
  lines.push('');
  lines.push(
    table(
      [
        'process',
        'requests',
        'RSS after',
        'peak RSS',
        'coord calls/req',
        'redis evals/req',
        'usage rows',
      ],
      procRows,
    ),
  );
  for (const [name, c] of Object.entries(report.coordination)) {
    const ops = Object.entries(c.byOpPerRequest)
      .sort((a, b) => b[1] - a[1])
      .map(([op, n]) => `${op} ${n.toFixed(2)}`)
      .join(', ');
    lines.push(`  ${name} coordinator calls per request by op: ${ops || 'none'}`);
  }
  for (const s of report.skipped) lines.push(`  skipped ${s.name}: ${s.reason}`);
  const goals = goalsOf(report);
  report.goals = goals;
  lines.push('');
  lines.push(goalsTable(goals));
  process.stdout.write(lines.join('\n') + '\n');
}

module.exports = { runThroughput, printThroughput, goalsOf };
