import { createHmac, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres, redisUrlOrSkip } from '../support/services';

/**
 * Notifications end to end, against two built app processes sharing one PostgreSQL database and
 * one Redis: an account turning auth_failed (the fake upstream answers 401) and a key spending
 * its whole budget each reach a local webhook receiver (signature checked) and a local SMTP sink
 * exactly once; a receiver that is down gets its delivery once it is back (retries with backoff);
 * no delivery is ever made twice although both instances run the dispatcher.
 */

const ADMIN_PASSWORD = 'e2e-admin-password';
const SIGNING_SECRET = 'e2e-webhook-signing-secret';
const MODEL = 'claude-sonnet-4-6';
const WAIT_MS = 30_000;

interface Received {
  delivery: string;
  event: string;
  body: { type: string; subject: { id: string }; data: Record<string, unknown> };
}

/** A webhook receiver that checks every signature and can go down and come back on its port. */
class Receiver {
  readonly received: Received[] = [];
  readonly badSignatures: string[] = [];
  private server: Server | null = null;
  port = 0;

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const timestamp = String(req.headers['x-switchyard-timestamp']);
        // The verification of docs/notifications.md.
        const expected =
          'sha256=' +
          createHmac('sha256', SIGNING_SECRET).update(`${timestamp}.${body}`).digest('hex');
        const delivery = String(req.headers['x-switchyard-delivery']);
        if (req.headers['x-switchyard-signature'] !== expected) {
          this.badSignatures.push(delivery);
          res.writeHead(401).end();
          return;
        }
        this.received.push({
          delivery,
          event: String(req.headers['x-switchyard-event']),
          body: JSON.parse(body) as Received['body'],
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks/switchyard`;
  }

  of(event: string): Received[] {
    return this.received.filter((r) => r.event === event);
  }
}

/** A local SMTP sink (loopback, no TLS, auth optional) keeping each mail's headers. */
class Sink {
  readonly mails: { delivery: string; event: string; subject: string }[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      let raw = '';
      stream.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      stream.on('end', () => {
        const header = (name: string): string =>
          new RegExp(`^${name}: *(.*)$`, 'im').exec(raw)?.[1]?.trim() ?? '';
        this.mails.push({
          delivery: header('x-switchyard-delivery'),
          event: header('x-switchyard-event'),
          subject: header('subject'),
        });
        callback();
      });
    },
  });
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  of(event: string): { delivery: string; event: string; subject: string }[] {
    return this.mails.filter((m) => m.event === event);
  }
}

class Admin {
  private token = '';

  constructor(readonly url: string) {}

  async login(): Promise<void> {
    const res = await fetch(`${this.url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    this.token = ((await res.json()) as { token: string }).token;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

interface Delivery {
  id: string;
  eventId: string;
  targetId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastError: string | null;
}

function relay(url: string, secret: string): Promise<Response> {
  return fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-api-key': secret,
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    }),
  });
}

function counts(ids: string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const id of ids) map.set(id, (map.get(id) ?? 0) + 1);
  return map;
}

describeWithPostgres('Notifications (end to end, two instances, PostgreSQL and Redis)', (pgUrl) => {
  const redisUrl = redisUrlOrSkip('notifications e2e');
  let upstream: FakeUpstream;
  let receiver: Receiver;
  let sink: Sink;
  let database: TempDatabase;
  let instances: ServerProcess[] = [];
  let admin: Admin;
  let webhookTarget: string;
  let emailTarget: string;

  async function deliveries(eventType: string): Promise<Delivery[]> {
    const page = await admin.call<{ items: Delivery[] }>(
      'GET',
      `/admin/api/notifications/deliveries?eventType=${eventType}&pageSize=200`,
    );
    return page.items;
  }

  beforeAll(async () => {
    if (redisUrl === null) return;
    upstream = await FakeUpstream.start();
    receiver = new Receiver();
    await receiver.start();
    sink = new Sink();
    await sink.start();
    database = await createTempPostgresDatabase(pgUrl);
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: `sy-e2e-notify-${randomUUID().slice(0, 8)}:`,
      ADMIN_PASSWORD,
      // Both instances must open the targets' sealed secrets.
      ENCRYPTION_KEY: 'e2e-notifications-encryption-key-0123456789',
      JWT_SECRET: 'e2e-notifications-jwt-secret-0123456789abcdef',
      ANTHROPIC_BASE_URL: upstream.url,
      PRINT_BANNER: 'false',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'info',
      USAGE_FLUSH_INTERVAL_MS: '50',
      NOTIFY_POLL_INTERVAL_MS: '100',
      NOTIFY_BACKOFF_BASE_MS: '100',
      NOTIFY_BACKOFF_MAX_MS: '400',
      NOTIFY_MAX_ATTEMPTS: '100',
      NOTIFY_TIMEOUT_MS: '2000',
    };
    // The first applies the migrations; the second starts on the migrated database.
    instances.push(
      await startServerProcess({ ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-notify-a-')) }),
    );
    instances.push(
      await startServerProcess({ ...env, DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-notify-b-')) }),
    );
    admin = new Admin(instances[0].url);
    await admin.login();
    const events = ['account.auth_failed', 'key.budget_exhausted'];
    webhookTarget = (
      await admin.call<{ id: string }>('POST', '/admin/api/notifications/targets', {
        name: 'receiver',
        kind: 'webhook',
        events,
        config: { url: receiver.url, secret: SIGNING_SECRET },
      })
    ).id;
    emailTarget = (
      await admin.call<{ id: string }>('POST', '/admin/api/notifications/targets', {
        name: 'on-call mailbox',
        kind: 'email',
        events,
        config: {
          host: '127.0.0.1',
          port: sink.port,
          from: 'switchyard@example.com',
          to: ['oncall@example.com'],
        },
      })
    ).id;
  }, 60_000);

  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.stop()));
    instances = [];
    await receiver?.stop();
    await sink?.stop();
    await upstream?.close();
    await database?.drop();
  });

  it('should send the test message to both targets and log it', async () => {
    const webhook = await admin.call<{ ok: boolean; status: number }>(
      'POST',
      `/admin/api/notifications/targets/${webhookTarget}/test`,
    );
    expect(webhook).toMatchObject({ ok: true, status: 204 });
    const email = await admin.call<{ ok: boolean }>(
      'POST',
      `/admin/api/notifications/targets/${emailTarget}/test`,
    );
    expect(email).toMatchObject({ ok: true });
    expect(receiver.of('notification.test')).toHaveLength(1);
    expect(sink.of('notification.test')).toHaveLength(1);
    const target = await admin.call<Record<string, unknown>>(
      'GET',
      `/admin/api/notifications/targets/${webhookTarget}`,
    );
    expect(JSON.stringify(target)).not.toContain(SIGNING_SECRET);
    expect(target).toMatchObject({ secretsSet: ['secret'], hasSecret: true });
  });

  it('should notify an account turning auth_failed exactly once per target across a burst of 401s on both instances', async () => {
    const account = await admin.call<{ id: string }>('POST', '/admin/api/accounts', {
      type: 'claude-console',
      name: 'team-console',
      baseUrl: upstream.url,
      credentials: { apiKey: 'sk-ant-e2e-notify' },
    });
    const key = await admin.call<{ secret: string }>('POST', '/admin/api/keys', { name: 'burst' });
    upstream.setDefault({ status: 401, errorType: 'authentication_error' });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => relay(instances[i % 2].url, key.secret)),
    );
    expect(answers.every((res) => res.status >= 400)).toBe(true);
    upstream.setDefault(undefined);

    await waitFor(
      async () => ({
        hooks: receiver.of('account.auth_failed'),
        mails: sink.of('account.auth_failed'),
      }),
      (r) => r.hooks.length >= 1 && r.mails.length >= 1,
      WAIT_MS,
    );
    const [hook] = receiver.of('account.auth_failed');
    expect(hook.body).toMatchObject({ type: 'account.auth_failed', subject: { id: account.id } });
    const log = await deliveries('account.auth_failed');
    expect(log.map((d) => d.targetId).sort()).toEqual([webhookTarget, emailTarget].sort());
    expect(new Set(log.map((d) => d.eventId)).size).toBe(1);
    await admin.call('DELETE', `/admin/api/accounts/${account.id}`);
  });

  it('should notify a key spending its whole budget exactly once per target', async () => {
    await admin.call('POST', '/admin/api/accounts', {
      type: 'claude-console',
      name: 'budget-console',
      baseUrl: upstream.url,
      credentials: { apiKey: 'sk-ant-e2e-budget' },
    });
    const key = await admin.call<{ id: string; secret: string }>('POST', '/admin/api/keys', {
      name: 'small-budget',
      limits: { dailyCostMicros: 50_000 },
    });
    // Each answer bills a million prompt tokens: far past the $0.05 budget in one request.
    upstream.setDefault({ reply: { usage: { inputTokens: 1_000_000, outputTokens: 10 } } });
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => relay(instances[i % 2].url, key.secret)),
    );
    expect(answers.some((res) => res.status === 200)).toBe(true);
    await Promise.all(answers.map((res) => res.arrayBuffer()));
    upstream.setDefault(undefined);

    const hooks = await waitFor(
      async () => receiver.of('key.budget_exhausted'),
      (r) => r.length >= 1,
      WAIT_MS,
    );
    expect(hooks[0].body).toMatchObject({
      type: 'key.budget_exhausted',
      subject: { id: key.id },
      data: { cap: 'daily', limitMicros: 50_000 },
    });
    await waitFor(
      async () => sink.of('key.budget_exhausted'),
      (m) => m.length >= 1,
      WAIT_MS,
    );
    const log = await deliveries('key.budget_exhausted');
    expect(log).toHaveLength(2);
    expect(log.every((d) => d.status === 'delivered' && d.attempts === 1)).toBe(true);
  });

  it('should deliver to a receiver that was down once it is back', async () => {
    await receiver.stop();
    const key = await admin.call<{ id: string; secret: string }>('POST', '/admin/api/keys', {
      name: 'while-down',
      limits: { dailyCostMicros: 50_000 },
    });
    upstream.setDefault({ reply: { usage: { inputTokens: 1_000_000, outputTokens: 10 } } });
    const res = await relay(instances[1].url, key.secret);
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    upstream.setDefault(undefined);

    // Failed attempts are logged and retried while the receiver is down.
    const failing = await waitFor(
      async () =>
        (await deliveries('key.budget_exhausted')).find(
          (d) => d.targetId === webhookTarget && d.attempts >= 2 && d.status === 'pending',
        ),
      (d) => d !== undefined,
      WAIT_MS,
    );
    expect(failing?.lastError).toMatch(/ECONNREFUSED/);
    expect(failing?.lastError).not.toContain('127.0.0.1:');

    await receiver.start();
    const back = await waitFor(
      async () => receiver.of('key.budget_exhausted').filter((r) => r.body.subject.id === key.id),
      (r) => r.length >= 1,
      WAIT_MS,
    );
    expect(back).toHaveLength(1);
    const delivered = await waitFor(
      async () => (await deliveries('key.budget_exhausted')).find((d) => d.id === failing?.id),
      (d) => d?.status === 'delivered',
      WAIT_MS,
    );
    expect(delivered?.attempts).toBeGreaterThanOrEqual(3);
  });

  it('should never deliver twice although both instances run the dispatcher', async () => {
    // Everything raised so far is handed on: no delivery left pending.
    await waitFor(
      async () =>
        admin.call<{ total: number }>('GET', '/admin/api/notifications/deliveries?status=pending'),
      (page) => page.total === 0,
      WAIT_MS,
    );
    expect(receiver.badSignatures).toEqual([]);
    const hookCounts = counts(receiver.received.map((r) => r.delivery));
    const mailCounts = counts(sink.mails.map((m) => m.delivery));
    expect([...hookCounts.values()].every((n) => n === 1)).toBe(true);
    expect([...mailCounts.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.of('account.auth_failed')).toHaveLength(1);
    expect(sink.of('account.auth_failed')).toHaveLength(1);
    expect(receiver.of('key.budget_exhausted')).toHaveLength(2);
    expect(sink.of('key.budget_exhausted')).toHaveLength(2);
    // Both instances were up and competing for the dispatch lock all along.
    for (const instance of instances) expect(instance.child.exitCode).toBeNull();
  });
});
