import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { loadEnvironment } from 'src/config/config.loader';
import { isLoopbackHost, UpstreamHostPolicy, upstreamHostPolicyFrom } from './upstream-host-policy';
import { transportFaultOf, UpstreamHttp } from './upstream-http.service';

describe(UpstreamHostPolicy.name, () => {
  describe('refusal', () => {
    it('should allow any https host and loopback http when nothing is configured', () => {
      const policy = new UpstreamHostPolicy({ allowlist: [], allowInsecure: false });
      expect(policy.refusal('https://anything.example/api', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://127.0.0.1:8080', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://[::1]:8080', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://localhost:3128', 'proxy')).toBeNull();
      expect(policy.refusal('socks5://u:p@10.0.0.1:1080', 'proxy')).toBeNull();
    });

    it('should refuse plain http to other hosts unless insecure upstreams are allowed', () => {
      const strict = new UpstreamHostPolicy({ allowlist: [], allowInsecure: false });
      expect(strict.refusal('http://relay.example', 'baseUrl')).toMatch(
        /baseUrl uses plain http:\/\/ to relay\.example/,
      );
      expect(strict.refusal('http://user:hunter2@10.0.0.1:3128', 'proxy')).toMatch(/^proxy uses/);
      expect(strict.refusal('http://user:hunter2@10.0.0.1:3128', 'proxy')).not.toContain('hunter2');
      // 127.x look-alikes are not loopback.
      expect(strict.refusal('http://127.0.0.1.evil.example', 'baseUrl')).not.toBeNull();
      const lax = new UpstreamHostPolicy({ allowlist: [], allowInsecure: true });
      expect(lax.refusal('http://relay.example', 'baseUrl')).toBeNull();
      expect(lax.permissive).toBe(true);
    });

    it('should match allowlist entries exactly or, with *., any subdomain', () => {
      const policy = new UpstreamHostPolicy({
        allowlist: UpstreamHostPolicy.parseAllowlist(' api.anthropic.com, *.Relay.Example ,'),
        allowInsecure: false,
      });
      expect(policy.refusal('https://api.anthropic.com', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://eu.relay.example/api', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://a.b.relay.example', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://relay.example', 'baseUrl')).toMatch(/not in UPSTREAM/);
      expect(policy.refusal('https://evilrelay.example', 'baseUrl')).toMatch(/not in UPSTREAM/);
      expect(policy.refusal('https://api.anthropic.com.evil.test', 'baseUrl')).not.toBeNull();
      expect(policy.refusal('https://api.anthropic.com@evil.test', 'baseUrl')).not.toBeNull();
      // Loopback is not implicitly allowed once a list is set.
      expect(policy.refusal('http://127.0.0.1:9', 'baseUrl')).toMatch(/not in UPSTREAM/);
    });

    it('should always allow the origin the operator configured', () => {
      const policy = new UpstreamHostPolicy({
        allowlist: ['relay.example'],
        allowInsecure: false,
        trustedOrigins: ['http://mirror.internal:8080'],
      });
      expect(policy.refusal('http://mirror.internal:8080/v1', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://mirror.internal:9090', 'baseUrl')).not.toBeNull();
    });
  });

  describe(upstreamHostPolicyFrom.name, () => {
    it('should read the allowlist from the configuration and trust the default base URLs', () => {
      const env = loadEnvironment({
        UPSTREAM_HOST_ALLOWLIST: ' *.relay.example , 127.0.0.1 ',
        ANTHROPIC_BASE_URL: 'http://mirror.internal:8080',
      });
      const policy = upstreamHostPolicyFrom(new ConfigService(env));
      expect(policy.refusal('https://eu.relay.example', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://127.0.0.1:9', 'baseUrl')).toBeNull();
      expect(policy.refusal('http://mirror.internal:8080', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://api.anthropic.com', 'baseUrl')).toMatch(/not in UPSTREAM/);
      expect(policy.refusal('https://api.openai.com/v1', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://chatgpt.com/backend-api/codex', 'baseUrl')).toBeNull();
      expect(policy.refusal('https://chatgpt.com.evil.example', 'baseUrl')).toMatch(/not in/);
      expect(() => loadEnvironment({ UPSTREAM_HOST_ALLOWLIST: 'https://a.example' })).toThrow(
        /UPSTREAM_HOST_ALLOWLIST must be hostnames/,
      );
    });
  });

  describe('refusalCached', () => {
    it('should give the verdict of refusal for the same origin, whatever the path', () => {
      const policy = new UpstreamHostPolicy({ allowlist: ['ok.example'], allowInsecure: false });
      for (const url of [
        'https://ok.example/v1/messages?beta=true',
        'https://evil.example/v1/messages',
        'https://ok.example@evil.example/v1/messages',
        'https://evil.example?@ok.example/v1',
        'https://evil.example#@ok.example/v1',
      ]) {
        expect([url, policy.refusalCached(url, 'baseUrl')]).toEqual([
          url,
          policy.refusal(url, 'baseUrl'),
        ]);
      }
    });
  });

  describe(isLoopbackHost.name, () => {
    it('should know loopback names and addresses', () => {
      expect(
        ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'api.localhost'].map(isLoopbackHost),
      ).toEqual([true, true, true, true, true]);
      expect(['10.0.0.1', '::2', 'localhost.example', '0.0.0.0'].map(isLoopbackHost)).toEqual([
        false,
        false,
        false,
        false,
      ]);
    });
  });
});

describe(`${UpstreamHttp.name} host check`, () => {
  let server: Server;
  let port: number;
  let received = 0;

  beforeAll(async () => {
    server = createServer((_req, res) => {
      received += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function http(env: Partial<EnvironmentSchema>): UpstreamHttp {
    return new UpstreamHttp(new ConfigService(Object.assign(new EnvironmentSchema(), env)));
  }

  it('should refuse to send to a host off the allowlist, before any byte leaves', async () => {
    const upstream = http({ UPSTREAM_HOST_ALLOWLIST: 'api.anthropic.com' });
    received = 0;
    const sent = upstream.send({
      url: `http://127.0.0.1:${port}/v1/messages`,
      method: 'POST',
      headers: { 'x-api-key': 'sk-ant-must-not-leave' },
      body: '{}',
    });
    await expect(sent).rejects.toMatchObject({ code: 'UPSTREAM_HOST_REFUSED' });
    // The relay reads it as an unreachable account and fails over.
    expect(transportFaultOf(await sent.catch((error: unknown) => error))).toBe('unreachable');
    await expect(
      upstream.send({
        url: 'https://api.anthropic.com/v1/messages',
        method: 'POST',
        headers: {},
        proxyUrl: `http://127.0.0.1:${port}`,
      }),
    ).rejects.toThrow(/proxy host 127\.0\.0\.1 is not in UPSTREAM_HOST_ALLOWLIST/);
    expect(received).toBe(0);
    await upstream.onApplicationShutdown();
  });

  it('should send to loopback over http by default', async () => {
    const upstream = http({});
    received = 0;
    const response = await upstream.send({
      url: `http://127.0.0.1:${port}/v1/messages`,
      method: 'POST',
      headers: {},
      body: '{}',
    });
    expect(await response.body.text()).toBe('ok');
    expect(received).toBe(1);
    await upstream.onApplicationShutdown();
  });
});
