#!/usr/bin/env node
'use strict';
// Summarises a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --profile`):
// top functions by self time, and self time by package / source area.
// Usage: node bench/profile-summary.js <file.cpuprofile> [top=30]
const fs = require('node:fs');

const file = process.argv[2];
const top = Number(process.argv[3] ?? 30);
if (file === undefined) {
  process.stderr.write('usage: node bench/profile-summary.js <file.cpuprofile> [top]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));

// Self time per node: each sample hits one node; timeDeltas[i] is the time before sample i.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

function area(url) {
  if (url === '') return '(native / V8)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  const dist = /\/dist\/(.*)$/.exec(url);
  if (dist !== null) return `switchyard ${dist[1].split('/').slice(0, 3).join('/')}`;
  return url;
}

const byFunction = new Map();
const byArea = new Map();
for (const node of profile.nodes) {
  const us = selfUs.get(node.id) ?? 0;
  if (us === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const name = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  const a = area(url);
  byArea.set(a, (byArea.get(a) ?? 0) + us);
}

function print(title, map, n) {
  process.stdout.write(`\n${title}\n`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(
      `${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${name}\n`,
    );
  }
}

// Inclusive time: every function on a sampled stack (once per sample, however deep it recurses).
const parent = new Map();
const nodeById = new Map();
for (const node of profile.nodes) {
  nodeById.set(node.id, node);
  for (const child of node.children ?? []) parent.set(child, node.id);
}
const inclusive = new Map();
let busy = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const delta = profile.timeDeltas[i] ?? 0;
  const leaf = nodeById.get(profile.samples[i]);
  if (['(idle)', '(program)', '(root)'].includes(leaf.callFrame.functionName)) continue;
  busy += delta;
  const seen = new Set();
  for (let id = leaf.id; id !== undefined; id = parent.get(id)) {
    const { functionName, url, lineNumber } = nodeById.get(id).callFrame;
    if (functionName === '(root)') continue;
    const key = `${functionName || '(anonymous)'}  ${url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + delta);
  }
}

process.stdout.write(
  `${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (not idle)\n`,
);
print('self time by area', byArea, 25);
print(`top ${top} functions by self time`, byFunction, top);
print(`top ${top} functions by inclusive time (% of all samples)`, inclusive, top);
