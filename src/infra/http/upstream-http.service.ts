import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { EventEmitter } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { SocksClient } from 'socks';
import {
  Agent,
  ProxyAgent,
  request,
  type buildConnector,
  type Dispatcher,
  type Pool,
} from 'undici';
import { ConfigService } from 'src/config/config.service';
import {
  upstreamHostPolicyFrom,
  UpstreamHostRefusedError,
  type UpstreamHostPolicy,
} from './upstream-host-policy';

/**
 * Cancels an upstream call, like an AbortController, for the relay's hot path. undici accepts an
 * EventEmitter as a request's signal; Node's AbortController is an EventTarget, which costs
 * several microseconds per request to create and listen to. The call then fails with
 * UND_ERR_ABORTED, which transportFaultOf reads as 'aborted'.
 */
export class UpstreamAbort extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

export interface UpstreamRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | string;
  signal?: AbortSignal | UpstreamAbort;
  proxyUrl?: string | null;
}

export type UpstreamResponse = Dispatcher.ResponseData;

/** Transport faults, named so the relay can map them to failover and to 502 / 503 / 504. */
export type TransportFault =
  'connect_timeout' | 'first_byte_timeout' | 'idle_timeout' | 'unreachable' | 'reset' | 'aborted';

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKS5',
  // UpstreamHostPolicy refused the host: for the relay that account cannot be reached.
  'UPSTREAM_HOST_REFUSED',
]);

/** Classifies an undici / socket error; null when it is not a transport fault. */
export function transportFaultOf(error: unknown): TransportFault | null {
  const code = (error as { code?: unknown } | null)?.code;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR') return 'aborted';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect_timeout';
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return 'first_byte_timeout';
  if (code === 'UND_ERR_BODY_TIMEOUT') return 'idle_timeout';
  if (typeof code === 'string' && (CONNECT_ERRORS.has(code) || code.startsWith('UND_ERR_PRX'))) {
    return 'unreachable';
  }
  if (
    code === 'ECONNRESET' ||
    code === 'UND_ERR_SOCKET' ||
    code === 'EPIPE' ||
    code === 'UND_ERR_CLOSED'
  ) {
    return 'reset';
  }
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause !== undefined && cause !== error ? transportFaultOf(cause) : null;
}

/**
 * Upstream HTTP through undici: one dispatcher (with its pools per origin) for direct traffic and
 * one per proxy, created once and reused, closed on shutdown. Connect, first-byte (headers) and
 * idle (between body chunks) timeouts come from config; there is no total-duration limit, so
 * long streams live as long as they keep sending.
 */
@Injectable()
export class UpstreamHttp implements OnApplicationShutdown {
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly options: Pool.Options;
  private readonly connectTimeoutMs: number;
  private readonly hostPolicy: UpstreamHostPolicy;

  constructor(config: ConfigService) {
    this.hostPolicy = upstreamHostPolicyFrom(config);
    this.connectTimeoutMs = config.env.UPSTREAM_CONNECT_TIMEOUT_MS;
    this.options = {
      connect: { timeout: config.env.UPSTREAM_CONNECT_TIMEOUT_MS },
      headersTimeout: config.env.UPSTREAM_FIRST_BYTE_TIMEOUT_MS,
      bodyTimeout: config.env.UPSTREAM_IDLE_TIMEOUT_MS,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 600_000,
      pipelining: 1,
    };
  }

  async send(req: UpstreamRequest): Promise<UpstreamResponse> {
    // Defence in depth: accounts are checked when saved and loaded; this is the last gate before
    // credentials leave. Memoised per origin, so the hot path pays a map lookup.
    const refused = this.hostPolicy.refusalCached(req.url, 'baseUrl');
    if (refused !== null) throw new UpstreamHostRefusedError(refused);
    return request(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal: req.signal,
      dispatcher: this.dispatcherFor(req.proxyUrl ?? null),
    });
  }

  dispatcherFor(proxyUrl: string | null): Dispatcher {
    const key = proxyUrl ?? 'direct';
    let dispatcher = this.dispatchers.get(key);
    if (dispatcher === undefined) {
      dispatcher = this.create(proxyUrl);
      this.dispatchers.set(key, dispatcher);
    }
    return dispatcher;
  }

  private create(proxyUrl: string | null): Dispatcher {
    if (proxyUrl === null) return new Agent(this.options);
    // Proxies are checked once per dispatcher: the policy is fixed for the life of the process.
    const refused = this.hostPolicy.refusal(proxyUrl, 'proxy');
    if (refused !== null) throw new UpstreamHostRefusedError(refused);
    const url = new URL(proxyUrl);
    const username = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    if (url.protocol === 'socks5:' || url.protocol === 'socks5h:' || url.protocol === 'socks:') {
      return new Agent({ ...this.options, connect: this.socksConnector(url, username, password) });
    }
    const bare = `${url.protocol}//${url.host}`;
    return new ProxyAgent({
      ...this.options,
      uri: bare,
      ...(username !== ''
        ? { token: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` }
        : {}),
    });
  }

  /**
   * SOCKS5 through the `socks` package, handed to a normal undici Agent as its connector, so
   * SOCKS accounts get the same per-origin pools and timeouts as every other account.
   */
  private socksConnector(proxy: URL, username: string, password: string): buildConnector.connector {
    const timeout = this.connectTimeoutMs;
    return (opts, callback) => {
      const port = Number(opts.port) || (opts.protocol === 'https:' ? 443 : 80);
      SocksClient.createConnection({
        proxy: {
          host: proxy.hostname,
          port: Number(proxy.port) || 1080,
          type: 5,
          ...(username !== '' ? { userId: username, password } : {}),
        },
        command: 'connect',
        destination: { host: opts.hostname, port },
        timeout,
      }).then(
        ({ socket }) => {
          if (opts.protocol !== 'https:') {
            callback(null, socket);
            return;
          }
          const secure = tlsConnect({
            socket,
            servername: opts.servername ?? opts.hostname,
            ALPNProtocols: ['http/1.1'],
          });
          secure.once('secureConnect', () => callback(null, secure));
          secure.once('error', (error: Error) => callback(error, null));
        },
        (error: Error) => {
          callback(Object.assign(error, { code: 'UND_ERR_SOCKS5' }), null);
        },
      );
    };
  }

  async onApplicationShutdown(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    await Promise.allSettled(all.map((d) => d.close()));
  }
}
