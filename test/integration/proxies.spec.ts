import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { SocksClient } from 'socks';
import { fetch, ProxyAgent } from 'undici';

import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startHttpProxy, startSocks5Proxy, type LocalProxy } from '../support/proxies';

const AUTH = { username: 'proxy-user', password: 'p@ss:word' };
const BODY = JSON.stringify({ model: 'claude-sonnet-4-6', max_tokens: 8, messages: [] });

/** Sends one POST /v1/messages over an already connected socket and returns status and body. */
function postOverSocket(socket: Socket, port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/v1/messages',
        headers: { 'content-type': 'application/json', 'x-api-key': 'via-socks' },
        createConnection: () => socket,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(BODY);
  });
}

describe('test proxies', () => {
  let upstream: FakeUpstream;
  const started: LocalProxy[] = [];
  const agents: ProxyAgent[] = [];

  const track = <T extends LocalProxy>(proxy: T): T => {
    started.push(proxy);
    return proxy;
  };

  const agent = (uri: string, proxyTunnel = true): ProxyAgent => {
    const created = new ProxyAgent({ uri, proxyTunnel });
    agents.push(created);
    return created;
  };

  const post = (dispatcher: ProxyAgent) =>
    fetch(`${upstream.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'via-proxy' },
      body: BODY,
      dispatcher,
    });

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
  });

  afterEach(() => upstream.reset());

  afterAll(async () => {
    await Promise.all(agents.map((created) => created.close()));
    await Promise.all(started.map((proxy) => proxy.close()));
    await upstream.close();
  });

  describe(startHttpProxy.name, () => {
    it('should tunnel requests with CONNECT when the client uses a ProxyAgent', async () => {
      const proxy = track(await startHttpProxy());
      const response = await post(agent(proxy.url));

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ type: 'message' });
      expect(proxy.connections).toBe(1);
      expect(proxy.requests).toBe(1);
      expect(proxy.targets).toEqual([`127.0.0.1:${upstream.port}`]);
      expect(upstream.requests[0].credential).toBe('via-proxy');
    });

    it('should forward absolute-URI requests when tunnelling is off', async () => {
      const proxy = track(await startHttpProxy());
      const response = await post(agent(proxy.url, false));

      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ type: 'message' });
      expect(proxy.requests).toBe(1);
      expect(upstream.requests[0].headers['proxy-authorization']).toBeUndefined();
    });

    it('should accept Basic credentials when the proxy requires auth', async () => {
      const proxy = track(await startHttpProxy({ auth: AUTH }));

      expect(proxy.url).toBe(
        `http://proxy-user:${encodeURIComponent(AUTH.password)}@127.0.0.1:${proxy.port}`,
      );
      const tunnelled = await post(agent(proxy.url));
      const forwarded = await post(agent(proxy.url, false));

      expect([tunnelled.status, forwarded.status]).toEqual([200, 200]);
      await Promise.all([tunnelled.arrayBuffer(), forwarded.arrayBuffer()]);
      expect(proxy.requests).toBe(2);
      expect(proxy.rejected).toBe(0);
    });

    it('should reject with 407 when credentials are missing or wrong', async () => {
      const proxy = track(await startHttpProxy({ auth: AUTH }));
      const anonymous = `http://127.0.0.1:${proxy.port}`;
      const wrong = `http://proxy-user:nope@127.0.0.1:${proxy.port}`;

      // undici turns a 407 into an error for both tunnelled and absolute-URI requests.
      await expect(post(agent(anonymous))).rejects.toThrow();
      await expect(post(agent(wrong))).rejects.toThrow();
      await expect(post(agent(wrong, false))).rejects.toThrow(
        expect.objectContaining({
          cause: expect.objectContaining({ message: expect.stringContaining('407') }),
        }),
      );

      expect(proxy.rejected).toBe(3);
      expect(proxy.requests).toBe(0);
      expect(upstream.requests).toHaveLength(0);
    });

    it('should abort the upstream request when the client goes away mid-stream', async () => {
      const proxy = track(await startHttpProxy());
      upstream.enqueue({ events: 500, eventDelayMs: 20 });
      const controller = new AbortController();
      const response = await fetch(`${upstream.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [], stream: true }),
        dispatcher: agent(proxy.url, false),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();

      await expect(upstream.waitForAbort(15_000)).resolves.toMatchObject({ aborted: true });
    });
  });

  describe(startSocks5Proxy.name, () => {
    it('should relay HTTP over a CONNECT to an IPv4 address when no auth is set', async () => {
      const proxy = track(await startSocks5Proxy());
      const { socket } = await SocksClient.createConnection({
        proxy: { host: '127.0.0.1', port: proxy.port, type: 5 },
        command: 'connect',
        destination: { host: '127.0.0.1', port: upstream.port },
      });
      const result = await postOverSocket(socket, upstream.port);

      expect(proxy.url).toBe(`socks5://127.0.0.1:${proxy.port}`);
      expect(result.status).toBe(200);
      expect(JSON.parse(result.body)).toMatchObject({ type: 'message' });
      expect(proxy.connections).toBe(1);
      expect(proxy.targets).toEqual([`127.0.0.1:${upstream.port}`]);
      expect(upstream.requests[0].credential).toBe('via-socks');
    });

    it('should authenticate and resolve a domain name when auth is set', async () => {
      const proxy = track(await startSocks5Proxy({ auth: AUTH }));
      const { socket } = await SocksClient.createConnection({
        proxy: {
          host: '127.0.0.1',
          port: proxy.port,
          type: 5,
          userId: AUTH.username,
          password: AUTH.password,
        },
        command: 'connect',
        destination: { host: 'localhost', port: upstream.port },
      });
      const result = await postOverSocket(socket, upstream.port);

      expect(proxy.url).toBe(
        `socks5://proxy-user:${encodeURIComponent(AUTH.password)}@127.0.0.1:${proxy.port}`,
      );
      expect(result.status).toBe(200);
      expect(proxy.targets).toEqual([`localhost:${upstream.port}`]);
    });

    it('should refuse the connection when the password is wrong', async () => {
      const proxy = track(await startSocks5Proxy({ auth: AUTH }));

      await expect(
        SocksClient.createConnection({
          proxy: {
            host: '127.0.0.1',
            port: proxy.port,
            type: 5,
            userId: 'proxy-user',
            password: 'x',
          },
          command: 'connect',
          destination: { host: '127.0.0.1', port: upstream.port },
          timeout: 15_000,
        }),
      ).rejects.toThrow();
      expect(proxy.rejected).toBe(1);
      expect(proxy.requests).toBe(0);
    });

    it('should report a failed CONNECT when the target refuses', async () => {
      const proxy = track(await startSocks5Proxy());
      const closed = await FakeUpstream.start();
      const deadPort = closed.port;
      await closed.close();

      await expect(
        SocksClient.createConnection({
          proxy: { host: '127.0.0.1', port: proxy.port, type: 5 },
          command: 'connect',
          destination: { host: '127.0.0.1', port: deadPort },
          timeout: 15_000,
        }),
      ).rejects.toThrow();
    });
  });
});
