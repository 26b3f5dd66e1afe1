import {
  createServer as createHttpServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import {
  connect,
  createServer as createNetServer,
  isIPv4,
  type AddressInfo,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import type { Duplex } from 'node:stream';

export interface ProxyAuth {
  username: string;
  password: string;
}

export interface LocalProxyOptions {
  /** When set, clients must authenticate (HTTP: 407 without it; SOCKS5: RFC 1929). */
  auth?: ProxyAuth;
}

/** A proxy started by a test; counters are live so tests can assert traffic went through. */
export interface LocalProxy {
  /** `http://[user:pass@]127.0.0.1:port` or `socks5://[user:pass@]127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted from clients. */
  readonly connections: number;
  /** Authorized proxy requests: CONNECT tunnels/SOCKS CONNECTs and forwarded plain requests. */
  readonly requests: number;
  /** Requests refused for missing or wrong credentials. */
  readonly rejected: number;
  /** `host:port` of every authorized request, in order. */
  readonly targets: readonly string[];
  close(): Promise<void>;
}

const PROXY_HOST = '127.0.0.1';
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authorization',
  'proxy-authenticate',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Shared bookkeeping: counters plus every socket, so close() can end tests fast. */
class ProxyState implements LocalProxy {
  connections = 0;
  requests = 0;
  rejected = 0;
  readonly targets: string[] = [];
  url = '';
  port = 0;
  private readonly sockets = new Set<Socket | Duplex>();

  constructor(private readonly server: NetServer) {}

  track(socket: Socket | Duplex): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    // An error on one tunnel must not crash the test process; close ends it.
    socket.on('error', () => socket.destroy());
  }

  async listen(scheme: 'http' | 'socks5', auth: ProxyAuth | undefined): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, PROXY_HOST, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    const userInfo = auth
      ? `${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@`
      : '';
    this.url = `${scheme}://${userInfo}${PROXY_HOST}:${this.port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * An HTTP forward proxy: `CONNECT host:port` tunnels and absolute-URI plain HTTP requests,
 * with optional `Proxy-Authorization: Basic` checking.
 */
export async function startHttpProxy(options: LocalProxyOptions = {}): Promise<LocalProxy> {
  const { auth } = options;
  const server = createHttpServer();
  const state = new ProxyState(server);

  server.on('connection', (socket: Socket) => {
    state.connections++;
    state.track(socket);
  });

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    if (!isAuthorized(req.headers, auth)) {
      state.rejected++;
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\n' +
          'Proxy-Authenticate: Basic realm="test-proxy"\r\n' +
          'Content-Length: 0\r\nConnection: close\r\n\r\n',
      );
      return;
    }
    const target = parseAuthority(req.url ?? '');
    if (!target) {
      client.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      return;
    }
    state.requests++;
    state.targets.push(`${target.host}:${target.port}`);
    const upstream = connect({ host: target.host, port: target.port });
    state.track(upstream);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.once('error', () => {
      if (!connected) client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!isAuthorized(req.headers, auth)) {
      state.rejected++;
      res.writeHead(407, {
        'proxy-authenticate': 'Basic realm="test-proxy"',
        'content-length': '0',
      });
      res.end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    if (target.protocol !== 'http:') {
      res.writeHead(400, { 'content-length': '0' }).end();
      return;
    }
    state.requests++;
    state.targets.push(`${stripBrackets(target.hostname)}:${target.port || '80'}`);
    const upstreamReq = httpRequest(
      {
        host: stripBrackets(target.hostname),
        port: target.port || 80,
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers: withoutHopByHop(req.headers),
        agent: false,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, withoutHopByHop(upstreamRes.headers));
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on('socket', (socket) => state.track(socket));
    upstreamReq.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' }).end();
      else res.destroy();
    });
    // A client that goes away must abort the upstream request too (abort propagation tests).
    res.on('close', () => {
      if (!res.writableFinished) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
  });

  return state.listen('http', auth);
}

/** A SOCKS5 server (RFC 1928 CONNECT, optional RFC 1929 username/password). */
export async function startSocks5Proxy(options: LocalProxyOptions = {}): Promise<LocalProxy> {
  const { auth } = options;
  const server = createNetServer();
  const state = new ProxyState(server);
  server.on('connection', (socket: Socket) => {
    state.connections++;
    state.track(socket);
    handleSocks(socket, auth, state).catch(() => socket.destroy());
  });
  return state.listen('socks5', auth);
}

const SOCKS_VERSION = 0x05;
const METHOD_NONE = 0x00;
const METHOD_USER_PASS = 0x02;
const METHOD_UNACCEPTABLE = 0xff;
const REPLY_SUCCEEDED = 0x00;
const REPLY_GENERAL_FAILURE = 0x01;
const REPLY_NETWORK_UNREACHABLE = 0x03;
const REPLY_HOST_UNREACHABLE = 0x04;
const REPLY_CONNECTION_REFUSED = 0x05;
const REPLY_COMMAND_NOT_SUPPORTED = 0x07;
const REPLY_ADDRESS_TYPE_NOT_SUPPORTED = 0x08;

async function handleSocks(
  socket: Socket,
  auth: ProxyAuth | undefined,
  state: ProxyState,
): Promise<void> {
  const reader = new SocketReader(socket);
  const [version, methodCount] = await reader.read(2);
  if (version !== SOCKS_VERSION) {
    socket.destroy();
    return;
  }
  const methods = await reader.read(methodCount);
  const method = auth ? METHOD_USER_PASS : METHOD_NONE;
  if (!methods.includes(method)) {
    state.rejected++;
    socket.end(Buffer.from([SOCKS_VERSION, METHOD_UNACCEPTABLE]));
    return;
  }
  socket.write(Buffer.from([SOCKS_VERSION, method]));

  if (auth) {
    const [authVersion, usernameLength] = await reader.read(2);
    const username = (await reader.read(usernameLength)).toString('utf8');
    const [passwordLength] = await reader.read(1);
    const password = (await reader.read(passwordLength)).toString('utf8');
    if (authVersion !== 0x01 || username !== auth.username || password !== auth.password) {
      state.rejected++;
      socket.end(Buffer.from([0x01, 0x01]));
      return;
    }
    socket.write(Buffer.from([0x01, 0x00]));
  }

  const [requestVersion, command, , addressType] = await reader.read(4);
  let host: string;
  switch (addressType) {
    case 0x01:
      host = Array.from(await reader.read(4)).join('.');
      break;
    case 0x03: {
      const [length] = await reader.read(1);
      host = (await reader.read(length)).toString('utf8');
      break;
    }
    case 0x04: {
      const raw = await reader.read(16);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
      host = groups.join(':');
      break;
    }
    default:
      socket.end(socksReply(REPLY_ADDRESS_TYPE_NOT_SUPPORTED));
      return;
  }
  const port = (await reader.read(2)).readUInt16BE(0);
  if (requestVersion !== SOCKS_VERSION || command !== 0x01) {
    socket.end(socksReply(REPLY_COMMAND_NOT_SUPPORTED));
    return;
  }

  state.requests++;
  state.targets.push(`${host}:${port}`);
  const upstream = connect({ host, port });
  state.track(upstream);
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    socket.write(socksReply(REPLY_SUCCEEDED, upstream.localAddress, upstream.localPort));
    const rest = reader.detach();
    if (rest.length > 0) upstream.write(rest);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.once('error', (error: NodeJS.ErrnoException) => {
    if (!connected) socket.end(socksReply(replyCodeFor(error.code ?? '')));
  });
  upstream.once('close', () => socket.destroy());
  socket.once('close', () => upstream.destroy());
}

/** A reply with the bound address; 0.0.0.0:0 when unknown or not IPv4. */
function socksReply(code: number, address?: string, port?: number): Buffer {
  const reply = Buffer.from([SOCKS_VERSION, code, 0x00, 0x01, 0, 0, 0, 0, 0, 0]);
  if (address !== undefined && isIPv4(address)) {
    address.split('.').forEach((octet, i) => reply.writeUInt8(Number(octet), 4 + i));
    reply.writeUInt16BE(port ?? 0, 8);
  }
  return reply;
}

function replyCodeFor(code: string): number {
  switch (code) {
    case 'ECONNREFUSED':
      return REPLY_CONNECTION_REFUSED;
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return REPLY_HOST_UNREACHABLE;
    case 'ENETUNREACH':
      return REPLY_NETWORK_UNREACHABLE;
    default:
      return REPLY_GENERAL_FAILURE;
  }
}

/** Reads exact byte counts from a socket during a handshake, then hands it over for piping. */
class SocketReader {
  private buffer: Buffer = Buffer.alloc(0);
  private pending:
    { size: number; resolve: (data: Buffer) => void; reject: (e: Error) => void } | undefined;
  private ended = false;

  constructor(private readonly socket: Socket) {
    socket.on('data', this.onData);
    socket.on('close', this.onClose);
  }

  read(size: number): Promise<Buffer> {
    if (this.buffer.length >= size) return Promise.resolve(this.take(size));
    if (this.ended) return Promise.reject(new Error('socket closed during SOCKS handshake'));
    return new Promise((resolve, reject) => {
      this.pending = { size, resolve, reject };
    });
  }

  /** Stops reading and returns unread bytes; paused so nothing is lost before piping. */
  detach(): Buffer {
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.socket.pause();
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    return rest;
  }

  private take(size: number): Buffer {
    const data = this.buffer.subarray(0, size);
    this.buffer = this.buffer.subarray(size);
    return data;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const pending = this.pending;
    if (pending && this.buffer.length >= pending.size) {
      this.pending = undefined;
      pending.resolve(this.take(pending.size));
    }
  };

  private readonly onClose = (): void => {
    this.ended = true;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(new Error('socket closed during SOCKS handshake'));
  };
}

function isAuthorized(headers: IncomingHttpHeaders, auth: ProxyAuth | undefined): boolean {
  if (!auth) return true;
  const header = headers['proxy-authorization'];
  if (header === undefined || !/^basic /i.test(header)) return false;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  return decoded === `${auth.username}:${auth.password}`;
}

function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  if (!match) return undefined;
  const port = Number(match[2]);
  return port > 0 && port < 65536 ? { host: match[1], port } : undefined;
}

function stripBrackets(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) result[name] = value;
  }
  return result;
}
