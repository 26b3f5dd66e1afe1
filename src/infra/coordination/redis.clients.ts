import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** Exactly one of url, sentinels or clusterNodes (empty ones are ignored). */
export interface RedisConnectionOptions {
  /** Standalone server: `redis://[user:pass@]host:port[/db]` or `rediss://` for TLS. */
  url?: string;
  /** Sentinel: the sentinels to ask for the current master of sentinelName. */
  sentinels?: RedisNodeAddress[];
  sentinelName?: string;
  /** Password of the sentinels themselves, when they have one. */
  sentinelPassword?: string;
  /** Cluster: any subset of nodes; the rest are discovered. */
  clusterNodes?: RedisNodeAddress[];
  /** Data node password (Sentinel, Cluster; overrides a password in url). */
  password?: string;
  /** Upper bound of one command, including time queued while disconnected (default 1000). */
  commandTimeoutMs?: number;
  /** TCP connect timeout (default 2000). */
  connectTimeoutMs?: number;
  /** Connection errors while Redis is down or reconnecting; a no-op by default. */
  onError?: (error: Error, connection: RedisConnectionRole) => void;
}

export type RedisConnectionRole = 'command' | 'subscriber';

export interface RedisClients {
  /** Commands and scripts. */
  client: Redis | Cluster;
  /** Pub/sub only: a subscribed connection cannot run other commands. */
  subscriber: Redis | Cluster;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 1000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 1000;

/** Reconnect forever, quickly: Redis coming back must be noticed within about a second. */
function reconnectDelay(attempt: number): number {
  return Math.min(attempt * 100, MAX_RECONNECT_DELAY_MS);
}

/**
 * A demoted primary answers writes with READONLY while this connection still points at it:
 * reconnect (asking the sentinels for the primary again) and resend the command (2).
 */
export function reconnectOnReadOnly(error: Error): 2 | false {
  return error.message.startsWith('READONLY') ? 2 : false;
}

/**
 * Builds the command and subscriber connections for RedisCoordinator.
 *
 * Failure behaviour: the offline queue stays on, so commands issued during startup wait for the
 * first connection instead of failing. While Redis is down a command fails after
 * commandTimeoutMs, and maxRetriesPerRequest 1 flushes the queue after two failed reconnects, so
 * nothing queued is replayed long after its caller gave up. Reconnection never stops.
 */
export function createRedisClients(options: RedisConnectionOptions): RedisClients {
  // Config may pass every field with the unused ones empty; only non-empty ones pick the mode.
  const hasUrl = Boolean(options.url);
  const hasSentinels = (options.sentinels?.length ?? 0) > 0;
  const hasCluster = (options.clusterNodes?.length ?? 0) > 0;
  if (Number(hasUrl) + Number(hasSentinels) + Number(hasCluster) !== 1) {
    throw new Error('Redis: configure exactly one of url, sentinels or clusterNodes');
  }
  if (hasSentinels && !options.sentinelName) {
    throw new Error('Redis: sentinelName is required with sentinels');
  }

  const common: RedisOptions = {
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    // ioredis arms this timer on every disconnect, even of a dead socket; keep shutdown short.
    disconnectTimeout: 500,
    retryStrategy: reconnectDelay,
    ...(options.password !== undefined && { password: options.password }),
  };

  const create = (role: RedisConnectionRole): Redis | Cluster => {
    let connection: Redis | Cluster;
    if (hasUrl) {
      connection = new Redis(options.url ?? '', common);
    } else if (hasSentinels) {
      connection = new Redis({
        ...common,
        sentinels: options.sentinels,
        name: options.sentinelName,
        sentinelRetryStrategy: reconnectDelay,
        // A failover the sentinels ran while the old primary stays up (SENTINEL FAILOVER, a
        // partition) leaves this connection on a node that still accepts writes for seconds,
        // until the sentinels demote it, and those writes are then lost. The detector listens
        // for +switch-master on the sentinels and reconnects to the new primary at once.
        failoverDetector: true,
        reconnectOnError: reconnectOnReadOnly,
        ...(options.sentinelPassword !== undefined && {
          sentinelPassword: options.sentinelPassword,
        }),
      });
    } else {
      connection = new Cluster(options.clusterNodes ?? [], {
        redisOptions: common,
        clusterRetryStrategy: reconnectDelay,
        slotsRefreshTimeout: common.connectTimeout,
      });
    }
    // Without a listener ioredis reports every failed reconnect as an unhandled 'error' event.
    connection.on('error', (error: Error) => options.onError?.(error, role));
    return connection;
  };

  return { client: create('command'), subscriber: create('subscriber') };
}
