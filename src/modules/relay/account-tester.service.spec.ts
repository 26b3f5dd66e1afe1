import { Writable } from 'node:stream';
import { createAppLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { HttpTrafficLogger } from 'src/infra/http/http-traffic-logger';
import type { UpstreamHttp } from 'src/infra/http/upstream-http.service';
import { routableAccount } from '../../../test/factories/account.factory';
import { RelayAccountTester } from './account-tester.service';
import {
  transportErrors,
  upstreamResponse,
  type ScriptedResponse,
} from './pipeline/testing/fake-upstream-http';
import { AnthropicProvider } from './providers/anthropic/anthropic.provider';
import type { ProviderRegistry } from './providers/provider.registry';

const API_KEY = 'sk-ant-api03-account-test-secret';
const PROXY_PASSWORD = 'proxy-password-secret';

function tester(
  spec: string,
  send: () => Promise<ReturnType<typeof upstreamResponse>>,
): { tester: RelayAccountTester; output: () => string; lines: () => any[] } {
  const out: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, cb) {
      out.push(chunk.toString());
      cb();
    },
  });
  const config = new ConfigService(loadEnvironment({ DEBUG_HTTP_TRAFFIC: spec }));
  const provider = new AnthropicProvider();
  const output = (): string => out.join('');
  return {
    tester: new RelayAccountTester(
      { send } as unknown as UpstreamHttp,
      { forAccount: () => provider } as unknown as ProviderRegistry,
      new HttpTrafficLogger(config, createAppLogger(sink)),
    ),
    output,
    lines: () =>
      output()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l))
        .filter((l) => l.traffic !== undefined),
  };
}

const account = routableAccount({
  id: 'acc-t',
  type: 'claude-console',
  credentials: { type: 'claude-console', apiKey: API_KEY },
  proxyUrl: `http://user:${PROXY_PASSWORD}@127.0.0.1:3128`,
});

function answer(script: ScriptedResponse): () => Promise<ReturnType<typeof upstreamResponse>> {
  return () => Promise.resolve(upstreamResponse(script));
}

describe(RelayAccountTester.name, () => {
  it('should log a traced account test (not sent through the attempt loop) without its key', async () => {
    // An upstream that echoes the key in its error: scrubbed from the body too.
    const t = tester(
      'account:acc-t',
      answer({
        status: 401,
        body: `{"error":{"type":"authentication_error","message":"invalid x-api-key ${API_KEY}"}}`,
      }),
    );

    const result = await t.tester.test(account);

    expect(result).toMatchObject({ ok: false, status: 401 });
    expect(result.message).toContain('authentication_error');
    const lines = t.lines();
    expect(lines.map((l) => l.traffic.phase)).toEqual(['request', 'response', 'response_body']);
    expect(lines[0].traffic).toMatchObject({ keyId: null, accountId: 'acc-t', method: 'POST' });
    expect(lines[0].traffic.headers['x-api-key']).toBe('[redacted]');
    expect(lines[2].traffic).toMatchObject({ status: 401, end: 'end' });
    expect(lines[2].traffic.body).toContain('invalid x-api-key [redacted]');
    expect(t.output()).not.toContain(API_KEY);
    expect(t.output()).not.toContain(PROXY_PASSWORD);
  });

  it('should log a test that got no response as failed', async () => {
    const t = tester('all', () => Promise.reject(transportErrors.connectRefused()));

    const result = await t.tester.test(account);

    expect(result).toMatchObject({ ok: false, status: null });
    expect(t.lines().map((l) => l.traffic.phase)).toEqual(['request', 'error']);
    expect(t.output()).not.toContain(API_KEY);
  });

  it('should log nothing for an account that is not traced', async () => {
    const t = tester('account:other', answer({ status: 200, body: '{"id":"msg_1"}' }));

    expect((await t.tester.test(account)).ok).toBe(true);
    expect(t.output()).toBe('');
  });
});
