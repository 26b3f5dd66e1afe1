'use strict';
// CPU per request of the relay's tracing calls alone, in one process, without the rest of the
// relay or any network: the same calls RelayService and the stages make for one request with one
// upstream attempt (begin, end, picked, send with traceparent injection, answered, streaming,
// finish), with tracing off (ctx.trace null) and on (a tracer provider with a batch processor
// whose exporter drops the spans). Reads dist/ (npm run build:server first).
// Export (JSON serialisation, the POSTs) is not included: npm run bench with tracing on measures
// the whole (docs/performance.md).
//   node bench/trace-cost.js [requests]      (default 200000)
const path = require('node:path');
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');

const dist = path.join(__dirname, '..', 'dist');
const { RelayTrace } = require(path.join(dist, 'modules/relay/tracing/relay-trace'));

const requests = Number(process.argv[2] ?? 200000);
const dropping = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => undefined };
const provider = new BasicTracerProvider({
  spanProcessors: [new BatchSpanProcessor(dropping, { maxQueueSize: 65536 })],
});
const tracer = provider.getTracer('switchyard');

function context(i) {
  return {
    trace: null,
    req: {
      method: 'POST',
      url: '/v1/messages',
      headers:
        i % 2 === 0
          ? {}
          : { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    },
    res: { statusCode: 200 },
    route: { name: 'anthropic.messages', operation: 'generate', paths: ['v1/messages'] },
    requestId: `req-${i}`,
    policy: { id: 'key-1' },
    parsed: { model: 'claude-sonnet-4-6' },
    model: 'claude-sonnet-4-6',
    accountId: 'acct-1',
    platform: 'claude',
    stream: true,
    status: 200,
    outcome: 'ok',
    attempts: 1,
    ttfbMs: 3,
    errorCode: null,
    usage: {
      inputTokens: 10,
      outputTokens: 20,
      cacheCreation5mTokens: 0,
      cacheCreation1hTokens: 0,
      cacheReadTokens: 0,
    },
  };
}

/** The calls one request makes, exactly as the pipeline spells them. */
function oneRequest(ctx) {
  ctx.trace?.begin('authenticate');
  ctx.trace?.end();
  ctx.trace?.begin('admit');
  ctx.trace?.end();
  ctx.trace?.begin('pick');
  ctx.trace?.picked('acct-1', null);
  const request = {
    url: 'https://api.anthropic.com/v1/messages',
    method: 'POST',
    headers: { 'x-api-key': 'k' },
  };
  ctx.trace?.send(request, 'anthropic', 'acct-1', ctx.model);
  ctx.trace?.answered(200, null);
  ctx.trace?.streaming();
  ctx.trace?.finish(ctx);
}

async function measure(label, on) {
  for (let i = 0; i < 20000; i++) {
    const ctx = context(i);
    if (on) ctx.trace = new RelayTrace(tracer, ctx, '/v1/messages');
    oneRequest(ctx);
  }
  const start = process.cpuUsage();
  for (let i = 0; i < requests; i++) {
    const ctx = context(i);
    if (on) ctx.trace = new RelayTrace(tracer, ctx, '/v1/messages');
    oneRequest(ctx);
  }
  const used = process.cpuUsage(start);
  const us = (used.user + used.system) / requests;
  process.stdout.write(
    `${label.padEnd(12)} ${us.toFixed(2)} us CPU per request (${requests} requests)\n`,
  );
  return us;
}

(async () => {
  const off = await measure('tracing off', false);
  const on = await measure('tracing on', true);
  process.stdout.write(`difference   ${(on - off).toFixed(2)} us per request\n`);
  await provider.shutdown();
})();
