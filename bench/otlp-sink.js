'use strict';
// A local OTLP/HTTP receiver for measuring tracing's cost: answers every POST /v1/traces with
// 200 and counts requests and bytes (printed on SIGTERM / SIGINT). Spans are read and dropped.
//   node bench/otlp-sink.js [port]     (default 4318)
const http = require('node:http');

const port = Number(process.argv[2] ?? 4318);
let posts = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (chunk) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    if (req.method === 'POST' && req.url === '/v1/traces') posts += 1;
    res.writeHead(req.url === '/v1/traces' ? 200 : 404, { 'content-type': 'application/json' });
    res.end('{}');
  });
});
server.listen(port, '127.0.0.1', () => {
  process.stderr.write(`otlp sink on http://127.0.0.1:${server.address().port}\n`);
});
const stop = () => {
  process.stderr.write(`otlp sink: ${posts} exports, ${bytes} bytes\n`);
  server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
