import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { describeWithRabbitMq } from '../support/services';

const ROOT = join(__dirname, '..', '..');
const MODEL = 'claude-sonnet-4-6';
const KEYS = 8;
const PER_KEY = 125;
const TOTAL = KEYS * PER_KEY;
/** The broker app stops after this many completed requests and starts again after STARTS_AT. */
const STOPS_AT = 300;
/** The load waits here until the broker app has stopped, so requests run while it is down. */
const PAUSE_AT = 600;
const STARTS_AT = 800;
const REPUBLISHED_HEADER = 'x-switchyard-republished';
/** AMQP_PUBLISH_BATCH_SIZE: the most messages unconfirmed when a connection dies. */
const BATCH = 50;

async function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<string> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}`);
  return stdout;
}

const cli = (env: Record<string, string>, args: string[]): Promise<string> =>
  run(process.execPath, [join(ROOT, 'bin', 'switchyard.js'), ...args], {
    LOG_LEVEL: 'warn',
    ...env,
  });

/** The broker's own control tool: a real stop and start of the RabbitMQ application. */
const rabbitmqctl = (...args: string[]): Promise<string> =>
  run('rabbitmqctl', args, { HOME: process.env.HOME ?? '/root' });

interface Key {
  id: string;
  name: string;
  secret: string;
}

interface Load {
  /** Per key, the request ids of its completed requests in the order they were sent. */
  completed: Map<string, string[]>;
  total(): number;
  failures: string[];
  reached(n: number): Promise<void>;
  /** Requests wait before they are sent while paused. */
  pause(): void;
  resume(): void;
  done: Promise<void>;
}

/**
 * KEYS loops, one per key, each sending its PER_KEY requests one after another (so each key's
 * requests have a definite order), every other one streamed: at most KEYS requests in flight.
 */
function startLoad(url: string, keys: Key[]): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: KEYS });
  const completed = new Map<string, string[]>(keys.map((k) => [k.id, []]));
  const failures: string[] = [];
  let total = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  let gate: Promise<void> | null = null;
  let open: (() => void) | null = null;
  const one = (key: Key, stream: boolean): Promise<string | null> =>
    new Promise((resolve) => {
      const req = httpRequest(
        `${url}/v1/messages`,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'x-api-key': key.secret,
            'anthropic-version': '2023-06-01',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const whole = stream ? text.includes('event: message_stop') : text.endsWith('}');
            resolve(res.statusCode === 200 && whole ? String(res.headers['x-request-id']) : null);
          });
          res.on('error', () => resolve(null));
        },
      );
      req.on('error', () => resolve(null));
      req.end(
        JSON.stringify({
          model: MODEL,
          max_tokens: 32,
          stream,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      );
    });
  const loops = keys.map(async (key, k) => {
    for (let i = 0; i < PER_KEY; i++) {
      while (gate !== null) await gate;
      const id = await one(key, (i + k) % 2 === 0);
      if (id === null) {
        failures.push(`${key.name} #${i}`);
        continue;
      }
      completed.get(key.id)!.push(id);
      total += 1;
      for (const w of waiters.filter((x) => total >= x.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    completed,
    failures,
    total: () => total,
    reached: (n) =>
      total >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })),
    pause: () => {
      if (gate === null) gate = new Promise((resolve) => (open = resolve));
    },
    resume: () => {
      gate = null;
      open?.();
    },
    done: Promise.all(loops).then(() => agent.destroy()),
  };
}

function outboxCounts(dataDir: string): { rows: number; pending: number; log: number } {
  const db = new BetterSqlite3(join(dataDir, 'switchyard.db'), { readonly: true });
  try {
    const count = (sql: string): number => Number((db.prepare(sql).get() as { n: number }).n);
    return {
      rows: count("select count(*) as n from outbox_events where topic = 'usage'"),
      pending: count(
        "select count(*) as n from outbox_events where topic = 'usage' and processed_at is null",
      ),
      log: count('select count(*) as n from request_log'),
    };
  } finally {
    db.close();
  }
}

/** Every message now in the queue, acknowledged after it was read. */
async function drainQueue(amqpUrl: string, queue: string): Promise<ConsumeMessage[]> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    const { messageCount } = await channel.checkQueue(queue);
    const messages: ConsumeMessage[] = [];
    await channel.prefetch(200);
    await new Promise<void>((resolve, reject) => {
      if (messageCount === 0) resolve();
      const timer = setTimeout(
        () => reject(new Error(`read ${messages.length} of ${messageCount} messages`)),
        30_000,
      );
      void channel.consume(queue, (message) => {
        if (message === null) return;
        messages.push(message);
        channel.ack(message);
        if (messages.length === messageCount) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await channel.close();
    return messages;
  } finally {
    await connection.close();
  }
}

/**
 * Runs docs/examples/billing-consumer.js on the queue until it has handled `expected` messages
 * (processed or skipped as duplicates), then stops it.
 */
async function runExampleConsumer(
  amqpUrl: string,
  exchange: string,
  queue: string,
  expected: number,
): Promise<{ lines: { id: string; usd: string }[]; duplicatesSkipped: number }> {
  const child = spawn(process.execPath, [join(ROOT, 'docs', 'examples', 'billing-consumer.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      AMQP_URL: amqpUrl,
      AMQP_EXCHANGE: exchange,
      BILLING_QUEUE: queue,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  try {
    const handled = (): number =>
      stdout.split('\n').filter(Boolean).length + (stderr.match(/^duplicate /gm) ?? []).length;
    await waitFor(
      async () => handled(),
      (n) => n >= expected,
      60_000,
      50,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; consumer stderr:\n${stderr.slice(-2000)}`);
    });
    return {
      lines: stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { id: string; usd: string }),
      duplicatesSkipped: (stderr.match(/^duplicate /gm) ?? []).length,
    };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

describeWithRabbitMq('billing event stream (end to end, RabbitMQ)', (amqpUrl) => {
  it('should publish 1,000 usage events once each, in order per key, across a broker restart', async () => {
    const run = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const exchange = `switchyard.usage.e2e-${run}`;
    const queue = `switchyard-billing-e2e-${run}`;
    // The documented consumer (docs/examples/billing-consumer.js) reads its own queue.
    const exampleQueue = `switchyard-billing-e2e-example-${run}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-billing-'));
    const env = { DATA_DIR: dataDir };
    const upstream = await FakeUpstream.start({ record: false });
    let server: ServerProcess | undefined;
    let brokerStopIssued = false;
    let admin: ChannelModel | undefined;
    try {
      // The consumer's side first: a durable queue bound to the (test-owned) exchange, so no
      // event is published before someone listens.
      admin = await connect(amqpUrl);
      const setup = await admin.createChannel();
      await setup.assertExchange(exchange, 'topic', { durable: true });
      await setup.assertQueue(queue, { durable: true });
      await setup.bindQueue(queue, exchange, 'usage.#');
      await setup.assertQueue(exampleQueue, { durable: true });
      await setup.bindQueue(exampleQueue, exchange, 'usage.#');
      await admin.close();
      admin = undefined;

      await cli(env, [
        'accounts',
        'add',
        '--name',
        'console',
        '--type',
        'claude-console',
        '--api-key',
        'sk-ant-api03-billing-test',
        '--base-url',
        upstream.url,
        '--json',
      ]);
      const created = JSON.parse(
        await cli(env, [
          'keys',
          'create',
          '--name',
          'billing-{n}',
          '--count',
          String(KEYS),
          '--json',
        ]),
      ) as any[];
      const keys: Key[] = created.map((c) => ({
        id: c.key?.id ?? c.id,
        name: c.key?.name ?? c.name,
        secret: c.secret,
      }));
      expect(keys).toHaveLength(KEYS);

      server = await startServerProcess({
        ...env,
        LOG_LEVEL: 'info',
        AMQP_URL: amqpUrl,
        AMQP_EXCHANGE: exchange,
        AMQP_PUBLISH_INTERVAL_MS: '50',
        AMQP_PUBLISH_BATCH_SIZE: String(BATCH),
        USAGE_FLUSH_INTERVAL_MS: '50',
      });
      const app = server;
      await waitFor(
        async () => app.output(),
        (out) => out.includes('billing stream connected to the broker'),
        20_000,
      );

      const load = startLoad(app.url, keys);
      await load.reached(STOPS_AT);
      // A real stop of the broker application while requests (and publishes) go on.
      brokerStopIssued = true;
      const stopped = rabbitmqctl('stop_app');
      await load.reached(PAUSE_AT).then(() => load.pause());
      await stopped;
      load.resume();
      // The relay serves, and stays ready, while the broker is down.
      const ready = await waitFor(
        async () => (await fetch(`${app.url}/health/ready`)).json() as Promise<any>,
        (body) => body?.details?.billingStream?.state === 'disconnected',
        20_000,
      );
      expect(ready.status).toBe('ok');
      await load.reached(STARTS_AT);
      const started = rabbitmqctl('start_app').then(() => {
        brokerStopIssued = false;
      });
      await load.done;
      await started;
      expect(load.failures).toEqual([]);
      expect(load.total()).toBe(TOTAL);

      // Caught up: every request has its row and its event, and every event went out.
      await waitFor(
        async () => outboxCounts(dataDir),
        (c) => c.log === TOTAL && c.rows === TOTAL && c.pending === 0,
        90_000,
      );
      const messages = await drainQueue(amqpUrl, queue);

      const ids = messages.map((m) => m.properties.messageId as string);
      const distinct = new Set(ids);
      const copies = new Map<string, ConsumeMessage[]>();
      for (const m of messages) {
        const id = m.properties.messageId as string;
        copies.set(id, [...(copies.get(id) ?? []), m]);
      }
      const duplicated = [...copies.values()].filter((c) => c.length > 1);
      process.stderr.write(
        `[billing-stream] ${messages.length} messages, ${distinct.size} distinct ids, ` +
          `${duplicated.length} published twice\n`,
      );
      const sent = [...load.completed.values()].flat();
      expect(new Set(sent).size).toBe(TOTAL);
      expect(distinct.size).toBe(TOTAL);
      expect([...distinct].sort()).toEqual([...sent].sort());
      // At least once: a second copy is only ever a republish after an unconfirmed publish,
      // and it says so.
      for (const copiesOfOne of duplicated) {
        for (const extra of copiesOfOne.slice(1)) {
          expect(extra.properties.headers?.[REPUBLISHED_HEADER]).toBe(true);
        }
      }
      // At most the one batch that was on the wire when the connection died (measured: 0 here
      // on most runs; a whole batch when the stop lands mid-batch, see docs/billing-stream.md).
      expect(duplicated.length).toBeLessThanOrEqual(BATCH);

      // In order per key: each key's events (first copies) in the order its requests were sent.
      const firstSeen: string[] = [];
      const seen = new Set<string>();
      for (const id of ids) if (!seen.has(id) && seen.add(id)) firstSeen.push(id);
      for (const key of keys) {
        const mine = new Set(load.completed.get(key.id));
        expect(firstSeen.filter((id) => mine.has(id))).toEqual(load.completed.get(key.id));
      }

      // The example consumer, which deduplicates on the message id, processes each event once.
      const processed = await runExampleConsumer(amqpUrl, exchange, exampleQueue, messages.length);
      expect(processed.lines.map((l) => l.id).sort()).toEqual([...sent].sort());
      expect(processed.duplicatesSkipped).toBe(messages.length - TOTAL);

      // The message and its payload.
      const byKey = new Map(keys.map((k) => [k.id, k]));
      for (const m of messages) {
        const event = JSON.parse(m.content.toString('utf8'));
        expect(m.properties).toMatchObject({
          contentType: 'application/json',
          deliveryMode: 2,
          type: 'usage.recorded',
          appId: 'switchyard',
          messageId: event.id,
        });
        expect(m.fields.exchange).toBe(exchange);
        expect(m.fields.routingKey).toBe(`usage.${event.platform}`);
        expect(m.properties.headers?.['x-api-key-id']).toBe(event.apiKey.id);
        const key = byKey.get(event.apiKey.id)!;
        expect(event).toMatchObject({
          type: 'usage.recorded',
          version: 1,
          apiKey: { id: key.id, name: key.name },
          platform: 'claude',
          model: MODEL,
          status: 200,
          outcome: 'ok',
          attempts: 1,
          cost: { priceKnown: true },
        });
        expect(event.stream).toEqual(expect.any(Boolean));
        expect(event.tokens.input).toBeGreaterThan(0);
        expect(event.tokens.output).toBeGreaterThan(0);
        expect(event.cost.micros).toBeGreaterThan(0);
        expect(Number(event.cost.usd)).toBeCloseTo(event.cost.micros / 1e6, 6);
        expect(new Date(event.at).getTime()).toBe(event.atMs);
        expect(JSON.stringify(event)).not.toContain(key.secret);
      }

      // The outage was logged, and so was the catching up.
      expect(app.output()).toContain('billing stream: publishing failed');
      expect(app.output()).toContain('billing stream: publishing again');
      const { username, password } = new URL(amqpUrl);
      if (password.length > 0) expect(app.output()).not.toContain(`${username}:${password}@`);
    } finally {
      // Whatever happened, the machine's broker is left running.
      if (brokerStopIssued) await rabbitmqctl('start_app').catch(() => undefined);
      await server?.stop();
      await upstream.close();
      await admin?.close().catch(() => undefined);
      const cleanup = await connect(amqpUrl).catch(() => undefined);
      if (cleanup !== undefined) {
        const channel = await cleanup.createChannel();
        await channel.deleteQueue(queue).catch(() => undefined);
        await channel.deleteQueue(exampleQueue).catch(() => undefined);
        await channel.deleteExchange(exchange).catch(() => undefined);
        await cleanup.close().catch(() => undefined);
      }
    }
  }, 240_000);
});
