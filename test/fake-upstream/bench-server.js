'use strict';
// Minimal fake Anthropic upstream for the benchmark, run in its own process so its CPU use does
// not skew the relay's numbers. Usage: node test/fake-upstream/bench-server.js [port]
// Slow streams: per request via header or query `x-fake-events` / `x-fake-event-delay-ms`, or
// for the whole process via FAKE_EVENTS / FAKE_EVENT_DELAY_MS (a relay may drop both).
// Prints `listening <port>` once ready.
const http = require('node:http');
const { URLSearchParams } = require('node:url');

const port = Number(process.argv[2] ?? process.env.FAKE_UPSTREAM_PORT ?? 0);
const host = process.env.FAKE_UPSTREAM_HOST ?? '127.0.0.1';
const envEvents = Number(process.env.FAKE_EVENTS ?? 0);
const envDelayMs = Number(process.env.FAKE_EVENT_DELAY_MS ?? 0);
const TEXT = ['Hello', ' from', ' the', ' fake', ' upstream.'];
const OUTPUT_TOKENS = 8;
const MODELS = JSON.stringify({
  data: [
    {
      type: 'model',
      id: 'claude-sonnet-4-6',
      display_name: 'Claude Sonnet 4.6',
      created_at: '2025-12-01T00:00:00Z',
    },
  ],
  has_more: false,
  first_id: 'claude-sonnet-4-6',
  last_id: 'claude-sonnet-4-6',
});

let seq = 0;

function sse(event, data) {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

function usage(inputTokens, outputTokens) {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function streamEvents(id, model, inputTokens, deltas) {
  const message = {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: usage(inputTokens, 1),
  };
  const events = [
    sse('message_start', { type: 'message_start', message }),
    sse('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    sse('ping', { type: 'ping' }),
  ];
  for (const text of deltas) {
    events.push(
      sse('content_block_delta', {
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'text_delta', text },
      }),
    );
  }
  events.push(
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
    sse('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { output_tokens: Math.max(OUTPUT_TOKENS, deltas.length) },
    }),
    sse('message_stop', { type: 'message_stop' }),
  );
  return events;
}

function setting(req, query, name, fallback) {
  const raw = req.headers[name] ?? query.get(name);
  const value = Number(raw ?? fallback);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

function sendJson(res, status, headers, body) {
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function writeSlowly(res, events, delayMs) {
  let i = 0;
  let timer;
  res.on('close', () => clearTimeout(timer));
  const next = () => {
    if (res.destroyed) return;
    if (i === events.length - 1) return void res.end(events[i]);
    res.write(events[i++]);
    timer = setTimeout(next, delayMs);
  };
  next();
}

function handle(req, res, body) {
  const queryAt = req.url.indexOf('?');
  const path = queryAt === -1 ? req.url : req.url.slice(0, queryAt);
  const query = new URLSearchParams(queryAt === -1 ? '' : req.url.slice(queryAt + 1));
  const id = ++seq;
  const headers = {
    'request-id': `req_bench_${id}`,
    'anthropic-organization-id': '00000000-0000-4000-8000-000000000000',
  };
  if (req.method === 'GET' && path === '/v1/models') return sendJson(res, 200, headers, MODELS);
  if (req.method !== 'POST' || (path !== '/v1/messages' && path !== '/v1/messages/count_tokens')) {
    const error = { type: 'error', error: { type: 'not_found_error', message: 'Not found' } };
    return sendJson(res, 404, headers, JSON.stringify(error));
  }
  const inputTokens = Math.max(1, Math.ceil(body.length / 4));
  if (path === '/v1/messages/count_tokens') {
    return sendJson(res, 200, headers, JSON.stringify({ input_tokens: inputTokens }));
  }
  let request = {};
  try {
    request = JSON.parse(body.toString('utf8'));
  } catch {
    const error = { type: 'error', error: { type: 'invalid_request_error', message: 'Bad JSON' } };
    return sendJson(res, 400, headers, JSON.stringify(error));
  }
  const model = typeof request.model === 'string' ? request.model : 'claude-sonnet-4-6';
  const messageId = `msg_bench_${id}`;
  const events = setting(req, query, 'x-fake-events', envEvents);
  const deltas = events > 0 ? Array.from({ length: events }, (_, i) => `w${i + 1} `) : TEXT;
  if (request.stream !== true) {
    const message = {
      id: messageId,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: deltas.join('') }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: usage(inputTokens, Math.max(OUTPUT_TOKENS, deltas.length)),
    };
    return sendJson(res, 200, headers, JSON.stringify(message));
  }
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
  });
  const all = streamEvents(messageId, model, inputTokens, deltas);
  const delayMs = setting(req, query, 'x-fake-event-delay-ms', envDelayMs);
  if (delayMs > 0) writeSlowly(res, all, delayMs);
  else res.end(all.join(''));
}

const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 30000 }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => handle(req, res, Buffer.concat(chunks)));
});
server.listen(port, host, () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
