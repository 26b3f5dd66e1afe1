'use strict';
// Child processes of the benchmark: each server runs in its own process on a free loopback port,
// with a raised open-files limit, its output in a log file, and is always stopped (SIGTERM, then
// SIGKILL after a grace period), even when the harness fails or is interrupted.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const http = require('node:http');

const children = new Set();
const NOFILE = 65535;

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function shellQuote(value) {
  return `'${String(value).replace(/'/g, `'\\''`)}'`;
}

/**
 * Starts `node <args>` through bash so the open-files limit can be raised first (`exec` keeps the
 * pid: the pid we hold is the node process itself). stdout and stderr go to logFile.
 */
function startNode(name, args, { env = {}, logFile, nodeArgs = [] } = {}) {
  const out = fs.openSync(logFile, 'a');
  const command =
    `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n $(ulimit -Hn) 2>/dev/null; ` +
    `exec ${[process.execPath, ...nodeArgs, ...args].map(shellQuote).join(' ')}`;
  const child = spawn('bash', ['-c', command], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', out, out],
    detached: false,
  });
  fs.closeSync(out);
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc = {
    name,
    child,
    pid: child.pid,
    logFile,
    exited,
    running: () => child.exitCode === null && child.signalCode === null,
    stop: (graceMs = 15_000) => stopChild(proc, graceMs),
  };
  children.add(proc);
  void exited.then(() => children.delete(proc));
  return proc;
}

async function stopChild(proc, graceMs) {
  if (proc.running()) {
    proc.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (proc.running()) proc.child.kill('SIGKILL');
    }, graceMs);
    await proc.exited;
    clearTimeout(timer);
  }
  children.delete(proc);
  return proc.exited;
}

/** Stops every child still running (in parallel), bounded by the grace period. */
async function stopAll(graceMs = 15_000) {
  await Promise.all([...children].map((proc) => stopChild(proc, graceMs)));
}

/** Last-resort cleanup when the harness itself dies: SIGKILL whatever is left, synchronously. */
function killAllNow() {
  for (const proc of children) {
    try {
      if (proc.running()) proc.child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** One HTTP request on a fresh connection: {status, body}; rejects on timeout or error. */
function request(url, { method = 'GET', headers = {}, body, timeoutMs = 5000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Polls url until it answers 200, the process exits, or timeoutMs passes. */
async function waitReady(proc, url, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!proc.running()) throw new Error(`${proc.name} exited during start; see ${proc.logFile}`);
    try {
      const res = await request(url, { timeoutMs: 2000 });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      throw new Error(`${proc.name} not ready after ${timeoutMs} ms; see ${proc.logFile}`);
    }
    await sleep(100);
  }
}

/** Resident set size of a process in bytes (VmRSS), null when it is gone. */
function rssOf(pid) {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

/** CPU time of a process in seconds, {user, system}, null when it is gone. */
function cpuTimesOf(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime and stime are fields 14 and 15 of stat; fields[0] here is field 3.
    return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
  } catch {
    return null;
  }
}

module.exports = {
  sleep,
  freePort,
  startNode,
  stopAll,
  killAllNow,
  request,
  waitReady,
  rssOf,
  cpuTimesOf,
};
