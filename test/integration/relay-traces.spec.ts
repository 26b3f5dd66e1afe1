import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { waitFor } from '../support/app-process';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';

/**
 * Traces of relayed requests through the whole application in this process (the embedded
 * default in front of the fake upstream), exported to memory: the span tree of one request, its
 * attributes, a failover's two upstream spans, the client's trace context continued and the
 * attempt's own passed upstream.
 */

const MODEL = 'claude-sonnet-4-6';
const CLIENT_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN_ID = 'b7ad6b7169203331';
const USAGE = {
  inputTokens: 120,
  outputTokens: 42,
  cacheCreation5mTokens: 300,
  cacheCreation1hTokens: 200,
  cacheReadTokens: 1000,
};

describe('Relay traces (OpenTelemetry, in-memory exporter)', () => {
  const exporter = new InMemorySpanExporter();
  let h: RelayHarness;
  let secret: string;
  let keyId: string;
  const accounts: Record<string, string> = {};

  beforeAll(async () => {
    h = await startRelayHarness(
      { OTEL_TRACES_ENABLED: 'true', OTEL_SERVICE_NAME: 'switchyard-test' },
      { tracing: { spanProcessors: [new SimpleSpanProcessor(exporter)] } },
    );
    // `first` is the best priority: the pool picks it first, `second` after it failed.
    for (const [name, priority] of [
      ['first', 1],
      ['second', 2],
    ] as const) {
      const account = await h.createAccount({
        name: `acct-${name}`,
        priority,
        credentials: { apiKey: `cred-${name}` },
      });
      accounts[name] = account.id;
    }
    const key = await h.createKey();
    secret = key.secret;
    keyId = key.id;
  });

  afterAll(async () => {
    await h?.close();
  });

  beforeEach(() => {
    exporter.reset();
    h.upstream.reset();
  });

  async function relay(
    body: Record<string, unknown>,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; text: string }> {
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-api-key': secret,
        ...headers,
      },
      body: JSON.stringify({
        model: MODEL,
        max_tokens: 32,
        messages: [{ role: 'user', content: 'hi' }],
        ...body,
      }),
    });
    return { status: res.status, text: await res.text() };
  }

  /** Every span of the one request, once its server span has ended (after the response). */
  async function requestSpans(): Promise<{ root: ReadableSpan; spans: ReadableSpan[] }> {
    const spans = await waitFor(
      async () => exporter.getFinishedSpans(),
      (list) => list.some((s) => s.kind === SpanKind.SERVER),
      10_000,
      20,
    );
    const root = spans.find((s) => s.kind === SpanKind.SERVER)!;
    return {
      root,
      spans: spans.filter((s) => s.spanContext().traceId === root.spanContext().traceId),
    };
  }

  const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan): string => span.spanContext().spanId;
  const named = (spans: ReadableSpan[], name: string): ReadableSpan[] =>
    spans.filter((s) => s.name === name).sort((a, b) => hr(a.startTime) - hr(b.startTime));
  const hr = ([s, ns]: [number, number]): number => s * 1e9 + ns;

  it('should record one streamed request as a span tree with GenAI attributes, continuing the client trace and passing traceparent upstream', async () => {
    h.upstream.setDefault({ reply: { usage: USAGE } });
    const res = await relay(
      { stream: true },
      {
        traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01`,
        tracestate: 'vendor=opaque',
      },
    );
    expect(res.status).toBe(200);
    expect(res.text).toContain('message_stop');

    const { root, spans } = await requestSpans();
    // The client's trace continues: same trace id, the client's span as the parent.
    expect(root.spanContext().traceId).toBe(CLIENT_TRACE_ID);
    expect(parentOf(root)).toBe(CLIENT_SPAN_ID);
    expect(root.name).toBe('POST /v1/messages');
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/v1/messages',
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': MODEL,
      'gen_ai.response.model': MODEL,
      'gen_ai.usage.input_tokens': 120 + 300 + 200 + 1000,
      'gen_ai.usage.output_tokens': 42,
      'gen_ai.usage.cache_read.input_tokens': 1000,
      'gen_ai.usage.cache_creation.input_tokens': 500,
      'switchyard.api_key.id': keyId,
      'switchyard.account.id': accounts.first,
      'switchyard.outcome': 'ok',
      'switchyard.attempts': 1,
      'switchyard.stream': true,
    });
    expect(root.status.code).not.toBe(SpanStatusCode.ERROR);

    // authenticate, admit, pick and upstream are the request's children; stream is upstream's.
    expect(spans.map((s) => s.name).sort()).toEqual(
      ['POST /v1/messages', 'admit', 'authenticate', 'pick', 'stream', 'upstream'].sort(),
    );
    for (const name of ['authenticate', 'admit', 'pick', 'upstream']) {
      expect([name, parentOf(named(spans, name)[0])]).toEqual([name, idOf(root)]);
    }
    const [upstream] = named(spans, 'upstream');
    const [stream] = named(spans, 'stream');
    expect(parentOf(stream)).toBe(idOf(upstream));
    expect(upstream.kind).toBe(SpanKind.CLIENT);
    expect(named(spans, 'pick')[0].attributes['switchyard.account.id']).toBe(accounts.first);
    expect(upstream.attributes).toMatchObject({
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(h.upstream.url).port),
      'http.response.status_code': 200,
      'switchyard.attempt': 1,
      'switchyard.account.id': accounts.first,
      'gen_ai.provider.name': 'anthropic',
      'gen_ai.system': 'anthropic',
      'gen_ai.request.model': MODEL,
      'gen_ai.response.model': MODEL,
      'gen_ai.usage.input_tokens': 1620,
      'gen_ai.usage.output_tokens': 42,
    });
    expect(stream.attributes['switchyard.outcome']).toBe('ok');

    // The upstream received the attempt's span as its parent (and the client's tracestate).
    const sent = h.upstream.requests.at(-1)!;
    expect(sent.headers.traceparent).toBe(`00-${CLIENT_TRACE_ID}-${idOf(upstream)}-01`);
    expect(sent.headers.tracestate).toBe('vendor=opaque');

    // Ids only: neither the key's secret nor the account's credential, nor the prompt.
    const dump = JSON.stringify(spans.map((s) => s.attributes));
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain('cred-first');
    expect(dump).not.toContain('"hi"');
  });

  it('should start a new trace for a request without traceparent', async () => {
    h.upstream.setDefault({ reply: { usage: USAGE } });
    expect((await relay({})).status).toBe(200);
    const { root, spans } = await requestSpans();
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.spanContext().traceId).not.toBe(CLIENT_TRACE_ID);
    expect(root.attributes['switchyard.stream']).toBe(false);
    expect(root.attributes['gen_ai.usage.output_tokens']).toBe(42);
    const [upstream] = named(spans, 'upstream');
    expect(h.upstream.requests.at(-1)!.headers.traceparent).toBe(
      `00-${root.spanContext().traceId}-${idOf(upstream)}-01`,
    );
  });

  it('should record a failover as two upstream spans, the first failed with its reason', async () => {
    h.upstream.setDefault({ reply: { usage: USAGE } });
    h.upstream.forCredential('cred-first', [{ status: 529 }]);
    expect((await relay({})).status).toBe(200);

    const { root, spans } = await requestSpans();
    const upstreams = named(spans, 'upstream');
    expect(upstreams).toHaveLength(2);
    expect(named(spans, 'pick')).toHaveLength(2);
    const [failed, served] = upstreams;
    expect(failed.attributes).toMatchObject({
      'switchyard.attempt': 1,
      'switchyard.account.id': accounts.first,
      'http.response.status_code': 529,
      'switchyard.failover.reason': 'overloaded',
      'error.type': '529',
    });
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(served.attributes).toMatchObject({
      'switchyard.attempt': 2,
      'switchyard.account.id': accounts.second,
      'http.response.status_code': 200,
      'gen_ai.usage.output_tokens': 42,
    });
    expect(served.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(served.attributes['switchyard.failover.reason']).toBeUndefined();
    for (const span of upstreams) expect(parentOf(span)).toBe(idOf(root));
    expect(root.attributes).toMatchObject({
      'switchyard.attempts': 2,
      'switchyard.account.id': accounts.second,
      'http.response.status_code': 200,
    });
    // Each attempt named its own span upstream.
    const sent = h.upstream.requests.slice(-2).map((r) => r.headers.traceparent);
    expect(sent).toEqual(upstreams.map((s) => `00-${root.spanContext().traceId}-${idOf(s)}-01`));
  });

  it('should mark a refused key on the authenticate span and answer the request span with its status', async () => {
    const res = await fetch(`${h.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-sy-not-a-key' },
      body: JSON.stringify({ model: MODEL, max_tokens: 8, messages: [] }),
    });
    expect(res.status).toBe(401);
    const { root, spans } = await requestSpans();
    expect(spans.map((s) => s.name).sort()).toEqual(['POST /v1/messages', 'authenticate']);
    expect(named(spans, 'authenticate')[0].attributes['error.type']).toBe('INVALID_KEY');
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 401,
      'switchyard.outcome': 'error',
      'error.type': 'INVALID_KEY',
    });
    expect(h.upstream.requests).toHaveLength(0);
  });
});
