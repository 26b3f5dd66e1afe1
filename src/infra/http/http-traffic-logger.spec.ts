import { PassThrough, Writable } from 'node:stream';
import { createAppLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import {
  HttpTrafficLogger,
  parseTrafficSelection,
  TRAFFIC_BODY_LIMIT,
} from './http-traffic-logger';
import type { UpstreamResponse } from './upstream-http.service';

function loggerFor(spec: string): { traffic: HttpTrafficLogger; lines: () => any[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const config = new ConfigService(loadEnvironment({ DEBUG_HTTP_TRAFFIC: spec }));
  const traffic = new HttpTrafficLogger(config, createAppLogger(sink));
  return {
    traffic,
    lines: () =>
      out
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l)),
  };
}

const REQUEST = {
  method: 'POST' as const,
  url: 'https://api.example/v1/messages?beta=true',
  headers: { 'x-api-key': 'sk-account-secret-1', 'content-type': 'application/json' },
  body: Buffer.from('{"model":"m","messages":[]}'),
};

function streamedResponse(body: PassThrough): UpstreamResponse {
  return {
    statusCode: 200,
    headers: { 'content-type': 'text/event-stream' },
    body,
  } as unknown as UpstreamResponse;
}

describe(HttpTrafficLogger.name, () => {
  describe('parseTrafficSelection', () => {
    it('should read off, all and key/account lists when given each form', () => {
      expect(parseTrafficSelection('off')).toEqual({ mode: 'off' });
      expect(parseTrafficSelection('')).toEqual({ mode: 'off' });
      expect(parseTrafficSelection('all')).toEqual({ mode: 'all' });
      expect(parseTrafficSelection('key:k1,account:a1,key:k2')).toEqual({
        mode: 'some',
        keys: new Set(['k1', 'k2']),
        accounts: new Set(['a1']),
      });
    });

    it('should refuse a malformed value at start when the variable is mistyped', () => {
      expect(() => loadEnvironment({ DEBUG_HTTP_TRAFFIC: 'keys:abc' })).toThrow(
        'DEBUG_HTTP_TRAFFIC must be off, all',
      );
    });
  });

  describe('wants', () => {
    it('should select only the named key or account when a list is given', () => {
      const { traffic } = loggerFor('key:k1,account:a1');
      expect(traffic.enabled).toBe(true);
      expect(traffic.wants('k1', 'other')).toBe(true);
      expect(traffic.wants('k2', 'a1')).toBe(true);
      expect(traffic.wants('k2', 'a2')).toBe(false);
      expect(traffic.wants(null, null)).toBe(false);
    });

    it('should be disabled and select nothing when off', () => {
      const { traffic, lines } = loggerFor('off');
      expect(traffic.enabled).toBe(false);
      expect(traffic.begin({ keyId: 'k', accountId: 'a' }, REQUEST, [])).toBeNull();
      expect(lines()).toEqual([]);
    });
  });

  describe('begin', () => {
    it('should log the request with credentials redacted when the key is traced', () => {
      const { traffic, lines } = loggerFor('key:k1');
      traffic.begin({ keyId: 'k1', accountId: 'a1', requestId: 'r1' }, REQUEST, [
        'sk-account-secret-1',
      ]);
      const [entry] = lines();
      expect(entry.msg).toBe('upstream request');
      expect(entry.traffic).toEqual({
        requestId: 'r1',
        keyId: 'k1',
        accountId: 'a1',
        method: 'POST',
        url: 'https://api.example/v1/messages?beta=true',
        phase: 'request',
        headers: { 'x-api-key': '[redacted]', 'content-type': 'application/json' },
        body: '{"model":"m","messages":[]}',
        bodyBytes: 27,
        bodyTruncated: false,
      });
    });
  });

  describe('response', () => {
    it('should pass every chunk on at once and log the first 64 KiB and the total at the end', async () => {
      const { traffic, lines } = loggerFor('all');
      const trace = traffic.begin({ keyId: 'k', accountId: 'a' }, REQUEST, [])!;
      const upstream = new PassThrough();
      const tapped = trace.response(streamedResponse(upstream)).body as unknown as PassThrough;
      const received: Buffer[] = [];
      tapped.on('data', (chunk: Buffer) => received.push(chunk));
      const first = Buffer.from('data: {"type":"ping"}\n\n');
      upstream.write(first);
      // The first chunk reaches the reader before the stream ends: nothing is held back.
      await new Promise((r) => setImmediate(r));
      expect(Buffer.concat(received).toString()).toBe(first.toString());
      expect(lines().map((l) => l.traffic.phase)).toEqual(['request', 'response']);
      const big = Buffer.alloc(TRAFFIC_BODY_LIMIT, 'x');
      upstream.end(big);
      await new Promise((r) => tapped.once('end', r));
      expect(Buffer.concat(received).length).toBe(first.length + big.length);
      const body = lines().find((l) => l.traffic.phase === 'response_body').traffic;
      expect(body).toMatchObject({
        bodyBytes: first.length + big.length,
        bodyTruncated: true,
        end: 'end',
        status: 200,
      });
      expect(body.body.length).toBe(TRAFFIC_BODY_LIMIT);
    });

    it('should log what came and destroy the upstream body when the reader goes away', async () => {
      const { traffic, lines } = loggerFor('all');
      const trace = traffic.begin({ keyId: 'k', accountId: 'a' }, REQUEST, [])!;
      const upstream = new PassThrough();
      const tapped = trace.response(streamedResponse(upstream)).body as unknown as PassThrough;
      tapped.resume();
      upstream.write('partial');
      await new Promise((r) => setImmediate(r));
      tapped.destroy();
      await new Promise((r) => upstream.once('close', r));
      expect(upstream.destroyed).toBe(true);
      const body = lines().find((l) => l.traffic.phase === 'response_body').traffic;
      expect(body).toMatchObject({ body: 'partial', bodyBytes: 7, end: 'closed' });
    });
  });

  describe('exchange', () => {
    it('should log a whole token exchange with its tokens redacted when the account is traced', () => {
      const { traffic, lines } = loggerFor('account:a1');
      traffic.exchange(
        { keyId: null, accountId: 'a1' },
        {
          method: 'POST',
          url: 'https://auth.example/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=refresh_token&refresh_token=rt-OLD-SECRET&client_id=c',
        },
        {
          status: 200,
          headers: { 'content-type': 'application/json', 'set-cookie': 'sid=1' },
          body: '{"access_token":"at-NEW-SECRET","refresh_token":"rt-NEW-SECRET","expires_in":3600}',
        },
        [],
      );
      const text = JSON.stringify(lines());
      expect(text).not.toMatch(/SECRET/);
      expect(lines().map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
      expect(lines()[2].traffic.body).toBe(
        '{"access_token":"[redacted]","refresh_token":"[redacted]","expires_in":3600}',
      );
    });
  });
});
