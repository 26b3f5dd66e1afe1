import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';

/**
 * The built server with OTEL_TRACES_ENABLED and its OTLP endpoint at a local HTTP receiver: a
 * relayed request's spans arrive there as OTLP/HTTP JSON (`POST /v1/traces`), with the service's
 * name, the export header configured, and the spans' tree intact. Spans are batched; the test
 * waits for them (bounded) and the graceful shutdown flushes whatever is left.
 */

const ADMIN_PASSWORD = 'traces-admin-password';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: Record<string, unknown> }[];
}

interface Export {
  headers: IncomingMessage['headers'];
  service: string | undefined;
  spans: OtlpSpan[];
}

/** A minimal OTLP/HTTP receiver: records each JSON export, answers 200. */
async function startReceiver(): Promise<{ server: Server; url: string; exports: Export[] }> {
  const exports: Export[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST' && req.url === '/v1/traces') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        for (const rs of body.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name');
          exports.push({
            headers: req.headers,
            service: service?.value?.stringValue,
            spans: (rs.scopeSpans ?? []).flatMap((ss: any) => ss.spans ?? []),
          });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, exports };
}

describe('Traces exported over OTLP/HTTP (built app)', () => {
  let upstream: FakeUpstream;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let app: ServerProcess | undefined;

  beforeAll(async () => {
    upstream = await FakeUpstream.start();
    receiver = await startReceiver();
  });

  afterAll(async () => {
    await app?.stop();
    await upstream?.close();
    await new Promise<void>((resolve) => receiver?.server.close(() => resolve()));
  });

  it('should deliver the spans of a relayed request to the configured endpoint', async () => {
    app = await startServerProcess({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-e2e-traces-')),
      ADMIN_PASSWORD,
      PRINT_BANNER: 'false',
      ANTHROPIC_BASE_URL: upstream.url,
      OTEL_TRACES_ENABLED: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-token=trace-test-token',
      OTEL_SERVICE_NAME: 'switchyard-e2e',
    });
    const login = await fetch(`${app.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    const { token } = (await login.json()) as { token: string };
    const admin = async (path: string, body: unknown): Promise<any> => {
      const res = await fetch(`${app!.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect([path, res.status]).toEqual([path, 201]);
      return res.json();
    };
    await admin('/admin/api/accounts', {
      name: 'console',
      type: 'claude-console',
      baseUrl: upstream.url,
      credentials: { apiKey: 'cred-traces' },
    });
    const { secret } = await admin('/admin/api/keys', { name: 'traces' });

    const res = await fetch(`${app.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': secret },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(res.status).toBe(200);
    await res.text();

    // The batch processor exports within its schedule (5 s by default): bounded wait.
    const spans = await waitFor(
      async () => receiver.exports.flatMap((e) => e.spans),
      (list) => list.some((s) => s.name === 'POST /v1/messages'),
      20_000,
      100,
    );
    const root = spans.find((s) => s.name === 'POST /v1/messages')!;
    const inTrace = spans.filter((s) => s.traceId === root.traceId);
    expect(inTrace.map((s) => s.name).sort()).toEqual(
      ['POST /v1/messages', 'admit', 'authenticate', 'pick', 'stream', 'upstream'].sort(),
    );
    const upstreamSpan = inTrace.find((s) => s.name === 'upstream')!;
    expect(upstreamSpan.parentSpanId).toBe(root.spanId);
    expect(upstream.requests.at(-1)!.headers.traceparent).toBe(
      `00-${root.traceId}-${upstreamSpan.spanId}-01`,
    );
    const attribute = (span: OtlpSpan, key: string): unknown => {
      const value = span.attributes.find((a) => a.key === key)?.value;
      return value === undefined ? undefined : Object.values(value)[0];
    };
    expect(attribute(root, 'gen_ai.request.model')).toBe('claude-sonnet-4-6');
    expect(attribute(upstreamSpan, 'gen_ai.provider.name')).toBe('anthropic');
    const exported = receiver.exports.find((e) => e.spans.includes(root))!;
    expect(exported.service).toBe('switchyard-e2e');
    expect(exported.headers['x-collector-token']).toBe('trace-test-token');
    expect(exported.headers['content-type']).toContain('application/json');

    // A graceful stop still exports what a later request left in the batch.
    const before = receiver.exports.length;
    const second = await fetch(`${app.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': secret },
      body: JSON.stringify({
        model: 'claude-sonnet-4-6',
        max_tokens: 16,
        messages: [{ role: 'user', content: 'again' }],
      }),
    });
    expect(second.status).toBe(200);
    await second.text();
    expect(await app.stop()).toBe(0);
    app = undefined;
    const after = receiver.exports.slice(before).flatMap((e) => e.spans);
    expect(after.filter((s) => s.name === 'POST /v1/messages')).toHaveLength(1);
  });
});
