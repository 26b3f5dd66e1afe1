'use strict';
// The baseline: a bare Node reverse proxy with no logic at all (node:http server plus one undici
// Pool to the upstream). Whatever Switchyard costs on top of this is the price of its features.
// Usage: node bench/baseline-proxy.js <port> <upstream-url>; prints `listening <port>` once ready.
const http = require('node:http');
const { Pool } = require('undici');

const port = Number(process.argv[2] ?? 0);
const upstream = process.argv[3];
if (upstream === undefined) {
  process.stderr.write('usage: baseline-proxy.js <port> <upstream-url>\n');
  process.exit(2);
}

const pool = new Pool(upstream, {
  connections: null, // as many as there are requests in flight, like Switchyard's Agent
  pipelining: 1,
  keepAliveTimeout: 30_000,
  headersTimeout: 0,
  bodyTimeout: 0,
});

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade']);

function pick(headers) {
  const out = {};
  for (const name of Object.keys(headers)) {
    if (!HOP_BY_HOP.has(name)) out[name] = headers[name];
  }
  return out;
}

const server = http.createServer({ requestTimeout: 0, keepAliveTimeout: 30_000 }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    pool.request(
      {
        path: req.url,
        method: req.method,
        headers: pick(req.headers),
        body: Buffer.concat(chunks),
      },
      (error, upstreamRes) => {
        if (error) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
          res.end('bad gateway');
          return;
        }
        res.writeHead(upstreamRes.statusCode, pick(upstreamRes.headers));
        upstreamRes.body.on('data', (chunk) => {
          if (!res.write(chunk)) {
            upstreamRes.body.pause();
            res.once('drain', () => upstreamRes.body.resume());
          }
        });
        upstreamRes.body.on('end', () => res.end());
        upstreamRes.body.on('error', () => res.destroy());
        res.on('close', () => {
          if (!res.writableFinished) upstreamRes.body.destroy();
        });
      },
    );
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    server.closeAllConnections();
    server.close(() => {
      pool.close().finally(() => process.exit(0));
    });
  });
}
