import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { Redis } from 'ioredis';

/**
 * One redis-server (data node or sentinel) run as a child of the test process from a config file
 * in a temp dir, for the Sentinel and Cluster fixtures. Children are killed on stop() and, should
 * the test process exit without it, by an exit hook: a failed suite leaves no server behind.
 */
export interface RedisProcess {
  port: number;
  child: ChildProcess;
  /** Redis log lines so far (logfile ""), for failure messages. */
  output(): string;
  /** SIGKILL and wait for the exit (a no-op when it has exited). */
  kill(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server <dir>/<name>.conf [--sentinel]` with `lines` as its config (port, bind,
 * no persistence and dir are added) and resolves once it answers PING.
 */
export async function startRedisProcess(
  dir: string,
  name: string,
  port: number,
  lines: string[],
  options: { sentinel?: boolean } = {},
): Promise<RedisProcess> {
  installExitHook();
  const config = join(dir, `${name}.conf`);
  writeFileSync(
    config,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      'logfile ""',
      'daemonize no',
      ...(options.sentinel === true ? [] : ['save ""', 'appendonly no']),
      ...lines,
      '',
    ].join('\n'),
  );
  const args = options.sentinel === true ? [config, '--sentinel'] : [config];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const handle: RedisProcess = {
    port,
    child,
    output: () => out,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  try {
    await waitUntil(
      `${name} on port ${port} to answer PING`,
      async () => (await command(port, ['PING'])) === 'PONG',
      10_000,
    );
  } catch (error) {
    await handle.kill();
    throw new Error(`${String(error)}\n${out}`);
  }
  return handle;
}

/** One command on a short-lived connection (no retries, bounded). */
export async function command(port: number, args: string[]): Promise<unknown> {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
    commandTimeout: 2000,
    enableOfflineQueue: false,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const [name, ...rest] = args;
    return await redis.call(name, ...rest);
  } finally {
    redis.disconnect();
  }
}

/** `field:value` lines (INFO, CLUSTER INFO) as a map. */
function fieldsOf(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

/** `INFO <section>` as a field map. */
export async function info(port: number, section: string): Promise<Record<string, string>> {
  return fieldsOf(String(await command(port, ['INFO', section])));
}

/** `CLUSTER INFO` as a field map. */
export async function clusterInfo(port: number): Promise<Record<string, string>> {
  return fieldsOf(String(await command(port, ['CLUSTER', 'INFO'])));
}

/** Polls probe until it holds (errors count as not yet); fails naming what it waited for. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
