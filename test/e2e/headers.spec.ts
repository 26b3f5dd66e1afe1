import Anthropic from '@anthropic-ai/sdk';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

const MODEL = 'claude-sonnet-4-6';

/** A Messages body just over 1 MiB: the size from which curl adds `Expect: 100-continue`. */
function largeBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      model: MODEL,
      max_tokens: 10,
      messages: [{ role: 'user', content: 'x'.repeat(1024 * 1024 + 4096) }],
    }),
  );
}

/** Sends headers with `Expect: 100-continue` and the body only once the server says continue. */
async function postExpectingContinue(
  url: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<{ continued: boolean; status: number; text: string }> {
  let continued = false;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(body.length), expect: '100-continue' },
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', resolve);
    req.on('error', reject);
  });
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { continued, status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') };
}

describe('Forwarded request headers (end to end)', () => {
  let h: RelayHarness;
  let secret: string;

  beforeAll(async () => {
    h = await startRelayHarness();
    await h.createAccount({ name: 'acct-headers', credentials: { apiKey: 'cred-headers' } });
    secret = (await h.createKey({ name: 'headers' })).secret;
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => h.upstream.reset());

  it('should answer a body over 1 MiB sent with Expect: 100-continue normally', async () => {
    const body = largeBody();
    const res = await postExpectingContinue(
      `${h.url}/v1/messages`,
      { 'x-api-key': secret, 'content-type': 'application/json' },
      body,
    );

    expect(res.continued).toBe(true);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ type: 'message', role: 'assistant' });
    const seen = h.upstream.requests.at(-1)!;
    expect(seen.rawBody.equals(body)).toBe(true);
    expect(seen.headers.expect).toBeUndefined();
  });

  it('should answer curl posting a body over 1 MiB (curl sends Expect: 100-continue)', async () => {
    const file = join(tmpdir(), `sy-e2e-large-body-${process.pid}.json`);
    const body = largeBody();
    writeFileSync(file, body);
    // -H Expect makes the header explicit whatever curl's own threshold is in this version.
    const { stdout, stderr } = await promisify(execFile)(
      'curl',
      [
        '-sS',
        '-v',
        '-o',
        '-',
        '-w',
        '\n%{http_code}',
        '-H',
        `x-api-key: ${secret}`,
        '-H',
        'content-type: application/json',
        '-H',
        'Expect: 100-continue',
        '--data-binary',
        `@${file}`,
        `${h.url}/v1/messages`,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );

    expect(stderr).toMatch(/< HTTP\/1\.1 100 Continue/);
    const status = stdout.slice(stdout.lastIndexOf('\n') + 1);
    expect(status).toBe('200');
    expect(JSON.parse(stdout.slice(0, stdout.lastIndexOf('\n')))).toMatchObject({
      type: 'message',
    });
    expect(h.upstream.requests.at(-1)!.rawBody.length).toBe(body.length);
  });

  it("should pass the SDK's and Claude Code's headers and none of the client's infrastructure", async () => {
    const sdk = new Anthropic({
      apiKey: secret,
      baseURL: h.url,
      maxRetries: 0,
      defaultHeaders: {
        'anthropic-beta': 'interleaved-thinking-2025-05-14',
        'x-app': 'cli',
        'cf-connecting-ip': '203.0.113.9',
        'cf-ipcountry': 'CH',
        'true-client-ip': '203.0.113.9',
        'x-forwarded-for': '203.0.113.9, 10.0.0.1',
        'x-real-ip': '203.0.113.9',
        forwarded: 'for=203.0.113.9',
        'x-foo': 'bar',
        cookie: 'session=secret',
      },
    });
    await sdk.messages
      .stream({
        model: MODEL,
        max_tokens: 10,
        messages: [{ role: 'user', content: 'headers' }],
      })
      .finalMessage();

    const seen = h.upstream.requests.at(-1)!.headers;
    expect(seen['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(seen['anthropic-version']).toEqual(expect.any(String));
    expect(seen['x-app']).toBe('cli');
    expect(seen['x-stainless-lang']).toBe('js');
    expect(seen['x-stainless-retry-count']).toBe('0');
    expect(seen['x-stainless-helper-method']).toBe('stream');
    expect(seen['user-agent']).toMatch(/^Anthropic\/JS /);
    expect(seen['x-api-key']).toBe('cred-headers');
    for (const name of [
      'cf-connecting-ip',
      'cf-ipcountry',
      'true-client-ip',
      'x-forwarded-for',
      'x-real-ip',
      'forwarded',
      'x-foo',
      'cookie',
    ]) {
      expect(seen[name]).toBeUndefined();
    }
    expect(JSON.stringify(seen)).not.toContain(secret);
  });
});
