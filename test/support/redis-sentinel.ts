import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  command,
  freePort,
  info,
  startRedisProcess,
  waitUntil,
  type RedisProcess,
} from './redis-process';

/**
 * A throwaway Redis Sentinel deployment on loopback ports: a primary, one replica and three
 * sentinels (quorum 2) watching `mymaster`, as local processes over a temp dir.
 *
 * Timings are short so a failover takes a couple of seconds: a node is down after 1 s without an
 * answer; the waits for events are generous (a loaded CI machine).
 */
export interface ThrowawaySentinel {
  masterName: string;
  /** The sentinels, as REDIS_SENTINELS wants them: `127.0.0.1:p1,127.0.0.1:p2,...`. */
  sentinelsEnv: string;
  sentinels: { host: string; port: number }[];
  /** Port of the data node the sentinels currently report as primary. */
  primaryPort(): Promise<number>;
  /** Ports of both data nodes. */
  dataPorts: number[];
  /**
   * Moves the primary role to the replica and resolves with the new primary's port once every
   * sentinel reports it and it answers as master. `command` asks a sentinel (SENTINEL FAILOVER;
   * the sentinels demote the old primary to a replica some seconds later); `kill` SIGKILLs the
   * primary and lets the sentinels notice (down-after-milliseconds) and elect.
   */
  failover(how?: 'command' | 'kill'): Promise<number>;
  /**
   * Resolves once the data node that is not the primary follows it, in sync, and every sentinel
   * sees it (after a `command` failover: before the next failover or a WAIT for one replica).
   */
  waitForReplica(): Promise<void>;
  /** Kills every process and removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export const SENTINEL_MASTER_NAME = 'mymaster';
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 5000;
/** Waits for events: far above what they take on an idle machine (a second or two). */
const EVENT_WAIT_MS = 30_000;

export async function throwawaySentinel(): Promise<ThrowawaySentinel> {
  const dir = mkdtempSync(join(tmpdir(), 'sy-sentinel-'));
  const processes: RedisProcess[] = [];
  const byPort = new Map<number, RedisProcess>();
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(processes.map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  };

  const logs = (): string =>
    processes.map((p) => `--- port ${p.port}\n${p.output().slice(-3000)}`).join('\n');

  try {
    const [primaryPort, replicaPort, ...sentinelPorts] = await Promise.all(
      [0, 1, 2, 3, 4].map(() => freePort()),
    );
    const start = async (
      name: string,
      port: number,
      lines: string[],
      sentinel = false,
    ): Promise<void> => {
      const p = await startRedisProcess(dir, name, port, lines, { sentinel });
      processes.push(p);
      byPort.set(port, p);
    };

    await start('primary', primaryPort, []);
    await start('replica', replicaPort, [`replicaof 127.0.0.1 ${primaryPort}`]);
    await waitUntil(
      'the replica to be in sync',
      async () => {
        const replica = await info(replicaPort, 'replication');
        const primary = await info(primaryPort, 'replication');
        return (
          replica.master_link_status === 'up' &&
          replica.master_sync_in_progress === '0' &&
          primary.connected_slaves === '1'
        );
      },
      EVENT_WAIT_MS,
    );
    await Promise.all(
      sentinelPorts.map((port, i) =>
        start(
          `sentinel-${i}`,
          port,
          [
            `sentinel monitor ${SENTINEL_MASTER_NAME} 127.0.0.1 ${primaryPort} 2`,
            `sentinel down-after-milliseconds ${SENTINEL_MASTER_NAME} ${DOWN_AFTER_MS}`,
            `sentinel failover-timeout ${SENTINEL_MASTER_NAME} ${FAILOVER_TIMEOUT_MS}`,
            `sentinel parallel-syncs ${SENTINEL_MASTER_NAME} 1`,
          ],
          true,
        ),
      ),
    );

    const sentinelReport = async (port: number): Promise<Record<string, string>> => {
      const flat = (await command(port, ['SENTINEL', 'MASTER', SENTINEL_MASTER_NAME])) as string[];
      const fields: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]] = flat[i + 1];
      return fields;
    };
    const reportedPrimary = async (port: number): Promise<number> => {
      const reply = (await command(port, [
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        SENTINEL_MASTER_NAME,
      ])) as [string, string] | null;
      return reply === null ? 0 : Number(reply[1]);
    };
    /** Every sentinel names `port` as the primary, sees the others and one healthy replica. */
    const agreeOn = async (port: number): Promise<boolean> => {
      for (const sentinel of sentinelPorts) {
        const report = await sentinelReport(sentinel);
        if (Number(report.port) !== port) return false;
        if (report.flags !== 'master') return false;
        if (Number(report['num-other-sentinels']) !== sentinelPorts.length - 1) return false;
        if (Number(report['num-slaves']) < 1) return false;
      }
      const replication = await info(port, 'replication');
      return replication.role === 'master' && Number(replication.connected_slaves) >= 1;
    };

    await waitUntil(
      'the sentinels to agree on the primary',
      () => agreeOn(primaryPort),
      EVENT_WAIT_MS,
    );

    const dataPorts = [primaryPort, replicaPort];
    const current = (): Promise<number> => reportedPrimary(sentinelPorts[0]);

    const failover = async (how: 'command' | 'kill' = 'command'): Promise<number> => {
      const old = await current();
      const next = dataPorts.find((port) => port !== old);
      if (next === undefined) throw new Error('no replica to fail over to');
      if (how === 'command') {
        await command(sentinelPorts[0], ['SENTINEL', 'FAILOVER', SENTINEL_MASTER_NAME]);
      } else {
        await byPort.get(old)?.kill();
      }
      try {
        await waitUntil(
          `every sentinel to report port ${next} as primary`,
          async () => {
            for (const sentinel of sentinelPorts) {
              if ((await reportedPrimary(sentinel)) !== next) return false;
            }
            return (await info(next, 'replication')).role === 'master';
          },
          EVENT_WAIT_MS,
        );
      } catch (error) {
        throw new Error(`${String(error)}\n${logs()}`);
      }
      return next;
    };

    const waitForReplica = async (): Promise<void> => {
      const primary = await current();
      const replica = dataPorts.find((port) => port !== primary) ?? 0;
      try {
        await waitUntil(
          `port ${replica} to be in sync as a replica of ${primary}`,
          async () => {
            const replication = await info(replica, 'replication');
            return (
              replication.role === 'slave' &&
              Number(replication.master_port) === primary &&
              replication.master_link_status === 'up' &&
              replication.master_sync_in_progress === '0' &&
              (await agreeOn(primary))
            );
          },
          EVENT_WAIT_MS,
        );
      } catch (error) {
        throw new Error(`${String(error)}\n${logs()}`);
      }
    };

    return {
      masterName: SENTINEL_MASTER_NAME,
      sentinelsEnv: sentinelPorts.map((port) => `127.0.0.1:${port}`).join(','),
      sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      dataPorts,
      primaryPort: current,
      failover,
      waitForReplica,
      stop,
    };
  } catch (error) {
    const detail = logs();
    await stop();
    throw new Error(`${String(error)}\n${detail}`);
  }
}
