#!/usr/bin/env node
// A consumer of Switchyard's billing event stream (docs/billing-stream.md).
//
//   AMQP_URL=amqp://guest:guest@127.0.0.1:5672 node docs/examples/billing-consumer.js
//
// It binds a durable queue to the exchange, takes events one batch of PREFETCH at a time,
// processes each (here: one JSON line on stdout), and acknowledges it only afterwards, so an
// event is never lost to a crash of the consumer. Delivery is at least once: the same event can
// arrive twice (a redelivery after this consumer died before its ack, or a copy Switchyard
// published again after a lost confirm), so it deduplicates on the message id, which is the
// request id. This example keeps the ids it has seen in memory; a real consumer records them
// where it records the effect (a unique key on the request id in its billing table), in the
// same transaction.
'use strict';

const amqp = require('amqplib');

const url = process.env.AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
const exchange = process.env.AMQP_EXCHANGE || 'switchyard.usage';
const queue = process.env.BILLING_QUEUE || 'billing';
// Topic pattern: every platform (`usage.#`), or one (`usage.claude`).
const pattern = process.env.BILLING_PATTERN || 'usage.#';
const PREFETCH = 100;
const SEEN_MAX = 100000;

/** Request ids already processed, oldest first (a Set keeps insertion order). */
const seen = new Set();

function alreadyProcessed(id) {
  if (seen.has(id)) return true;
  seen.add(id);
  if (seen.size > SEEN_MAX) seen.delete(seen.values().next().value);
  return false;
}

/** What a real consumer does with an event: here, one line per request on stdout. */
function processEvent(event) {
  process.stdout.write(
    JSON.stringify({
      id: event.id,
      at: event.at,
      apiKeyId: event.apiKey.id,
      platform: event.platform,
      model: event.model,
      tokens: event.tokens,
      usd: event.cost.usd,
    }) + '\n',
  );
}

async function consume() {
  const connection = await amqp.connect(url);
  const closed = new Promise((resolve) => connection.once('close', resolve));
  connection.on('error', (err) => console.error('connection error:', err.message));
  const channel = await connection.createChannel();
  // The same declaration Switchyard makes; declaring it here too lets the consumer start first.
  await channel.assertExchange(exchange, 'topic', { durable: true });
  await channel.assertQueue(queue, { durable: true });
  await channel.bindQueue(queue, exchange, pattern);
  await channel.prefetch(PREFETCH);
  await channel.consume(queue, (message) => {
    if (message === null) return; // the queue was deleted
    const id = message.properties.messageId;
    if (alreadyProcessed(id)) {
      console.error(`duplicate ${id} skipped`);
      channel.ack(message);
      return;
    }
    try {
      processEvent(JSON.parse(message.content.toString('utf8')));
      channel.ack(message);
    } catch (err) {
      // Not processable (a bug here, not in the event): forget it and let it come back later.
      seen.delete(id);
      console.error(`event ${id} failed: ${err.message}`);
      channel.nack(message, false, true);
    }
  });
  console.error(`consuming ${exchange} ${pattern} through queue ${queue}`);
  const stop = async () => {
    await connection.close().catch(() => undefined);
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await closed;
  process.removeListener('SIGINT', stop);
  process.removeListener('SIGTERM', stop);
}

async function main() {
  // Reconnect with backoff whenever the broker goes away: the durable queue keeps the events.
  let delay = 1000;
  for (;;) {
    const started = Date.now();
    try {
      await consume();
    } catch (err) {
      console.error(`cannot consume: ${err.message}`);
    }
    // A connection that lasted a while starts the backoff over.
    delay = Date.now() - started > 60000 ? 1000 : Math.min(delay * 2, 30000);
    console.error(`reconnecting in ${delay} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

void main();
