'use strict';
// Reads Switchyard's Prometheus endpoint: coordinator calls by operation, event-loop delay, usage
// queue figures.
const { request } = require('./proc');

/** Parses the Prometheus text format into [{name, labels, value}]. */
function parseMetrics(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line.length === 0 || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels = {};
    if (match[2] !== undefined) {
      for (const pair of match[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[pair[1]] = pair[2];
      }
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(url) {
  const res = await request(`${url}/metrics`, { timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseMetrics(res.body);
}

/** Coordinator calls so far by operation, and their sum. */
function coordinatorCalls(samples) {
  const byOp = {};
  let total = 0;
  for (const s of samples) {
    if (s.name !== 'switchyard_coordinator_calls_total') continue;
    byOp[s.labels.op] = s.value;
    total += s.value;
  }
  return { total, byOp };
}

function callDelta(before, after) {
  const byOp = {};
  for (const [op, value] of Object.entries(after.byOp)) {
    const d = value - (before.byOp[op] ?? 0);
    if (d > 0) byOp[op] = d;
  }
  return { total: after.total - before.total, byOp };
}

function value(samples, name, labels = {}) {
  const found = samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found === undefined ? null : found.value;
}

/**
 * prom-client samples the event loop with a 10 ms timer (monitorEventLoopDelay) and reports the
 * interval between two samples, so an idle loop reads 10 ms. The delay is what exceeds that.
 * Each scrape resets the histogram: the figures cover the time since the previous scrape.
 */
const LOOP_SAMPLING_MS = 10;

function loopDelay(samples) {
  const ms = (name) => {
    const v = value(samples, name);
    return v === null ? null : Math.max(0, v * 1000 - LOOP_SAMPLING_MS);
  };
  return {
    p99Ms: ms('switchyard_nodejs_eventloop_lag_p99_seconds'),
    maxMs: ms('switchyard_nodejs_eventloop_lag_max_seconds'),
  };
}

module.exports = { parseMetrics, scrape, coordinatorCalls, callDelta, value, loopDelay };
