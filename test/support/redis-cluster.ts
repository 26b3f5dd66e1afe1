import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  clusterInfo,
  freePort,
  startRedisProcess,
  waitUntil,
  type RedisProcess,
} from './redis-process';

/**
 * A throwaway Redis Cluster on loopback ports: three primaries (no replicas), each with its own
 * nodes.conf in a temp dir, the 16384 slots spread by `redis-cli --cluster create`.
 */
export interface ThrowawayCluster {
  nodes: { host: string; port: number }[];
  /** As REDIS_CLUSTER_NODES wants them: `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`. */
  nodesEnv: string;
  /** Kills every node and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

const NODE_COUNT = 3;
const EVENT_WAIT_MS = 30_000;

async function run(binary: string, args: string[], timeoutMs: number): Promise<string> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${binary} ${args.join(' ')} exited with ${code}:\n${out}`);
  return out;
}

export async function throwawayCluster(): Promise<ThrowawayCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cluster-'));
  const processes: RedisProcess[] = [];
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    // Each node needs a client port and a cluster bus port; the bus port is set explicitly
    // (cluster-port) because port + 10000 may be taken or past 65535.
    const ports = await Promise.all(Array.from({ length: NODE_COUNT * 2 }, () => freePort()));
    const clientPorts = ports.slice(0, NODE_COUNT);
    await Promise.all(
      clientPorts.map(async (port, i) => {
        processes.push(
          await startRedisProcess(dir, `node-${i}`, port, [
            'cluster-enabled yes',
            `cluster-config-file nodes-${port}.conf`,
            `cluster-port ${ports[NODE_COUNT + i]}`,
            'cluster-node-timeout 2000',
            // A test cluster without replicas: a slot of a dead node must not stop the others.
            'cluster-require-full-coverage no',
          ]),
        );
      }),
    );
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...clientPorts.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      EVENT_WAIT_MS,
    );
    await waitUntil(
      'cluster_state:ok on every node',
      async () => {
        for (const port of clientPorts) {
          const state = await clusterInfo(port);
          if (state.cluster_state !== 'ok' || state.cluster_known_nodes !== String(NODE_COUNT)) {
            return false;
          }
        }
        return true;
      },
      EVENT_WAIT_MS,
    );
    return {
      nodes: clientPorts.map((port) => ({ host: '127.0.0.1', port })),
      nodesEnv: clientPorts.map((port) => `127.0.0.1:${port}`).join(','),
      stop,
    };
  } catch (error) {
    const detail = processes.map((p) => `--- port ${p.port}\n${p.output().slice(-3000)}`);
    await stop();
    throw new Error(`${String(error)}\n${detail.join('\n')}`);
  }
}
