import Anthropic from '@anthropic-ai/sdk';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { COORDINATOR, type Coordinator } from 'src/infra/coordination/coordinator.port';
import { AdmissionService } from 'src/modules/api-keys/admission.service';
import { RelayService } from 'src/modules/relay/relay.service';
import { Scheduler } from 'src/modules/scheduler/scheduler.service';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { waitFor } from '../support/app-process';
import { startRelayHarness, type RelayHarness } from '../support/relay-harness';
import { describeWithPostgres, redisUrlOrSkip } from '../support/services';

/**
 * Fault injection on the relay's request lifecycle: clients that leave at any moment (during
 * admission, before the upstream's first byte, mid-stream) and clients that stop reading. After
 * each storm every key and account lease must be free, the account routable, and every request
 * that reached the upstream must have its request-log row. Run on the embedded default and on
 * PostgreSQL + Redis, with the coordinator's admit delayed so a disconnect can land inside it.
 */

const MODEL = 'claude-sonnet-4-6';
const LEASE_TTL_MS = 4000;
const STALL_TIMEOUT_MS = 1500;
const CLIENTS = 500;
const BATCH = 50;
const STALLED_STREAMS = 100;

type Moment = 'admission' | 'before-first-byte' | 'mid-stream';
const MOMENTS: readonly Moment[] = ['admission', 'before-first-byte', 'mid-stream'];

interface Storm {
  h: RelayHarness;
  keyId: string;
  secret: string;
  accountId: string;
}

const random = (min: number, max: number): number => min + Math.random() * (max - min);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Makes every coordinator admit wait 5-25 ms first, as a slow Redis round trip would. */
function delayAdmits(h: RelayHarness): void {
  const coordinator = h.server.app.get<Coordinator>(COORDINATOR);
  const admit = coordinator.admit.bind(coordinator);
  coordinator.admit = async (request) => {
    await sleep(random(5, 25));
    return admit(request);
  };
}

function streamBody(n: number): string {
  return JSON.stringify({
    model: MODEL,
    max_tokens: 256,
    stream: true,
    messages: [{ role: 'user', content: `fault ${n}` }],
  });
}

/** One client that sends a whole streaming request, then leaves at the given moment. */
function leavingClient(url: string, secret: string, n: number, moment: Moment): Promise<void> {
  const body = streamBody(n);
  return new Promise<void>((resolve) => {
    const req: ClientRequest = httpRequest(`${url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': secret,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        'anthropic-version': '2023-06-01',
      },
    });
    const leave = (): void => {
      req.destroy();
      resolve();
    };
    req.on('error', () => resolve());
    req.on('close', () => resolve());
    req.on('response', (res) => {
      if (moment === 'mid-stream') res.once('data', leave);
      res.on('data', () => undefined);
      res.on('end', () => resolve());
    });
    req.end(body, () => {
      if (moment === 'admission') setTimeout(leave, random(0, 2));
      else if (moment === 'before-first-byte') setTimeout(leave, random(5, 60));
    });
  });
}

interface RequestRow {
  id: string;
  outcome: string;
  attempts: number;
  ttfbMs: number | null;
  inputTokens: number;
  errorCode: string | null;
  latencyMs: number;
}

async function requestRows(h: RelayHarness, keyId: string): Promise<RequestRow[]> {
  await h.flushUsage();
  const rows: RequestRow[] = [];
  for (let page = 1; ; page++) {
    const res = await h.admin<{ items: RequestRow[]; total: number }>(
      'GET',
      `/admin/api/usage/requests?keyId=${keyId}&pageSize=500&page=${page}&from=2000-01-01`,
    );
    expect(res.status).toBe(200);
    rows.push(...res.body.items);
    if (res.body.items.length === 0 || rows.length >= res.body.total) return rows;
  }
}

/** The rows written since `before` rows existed (the list is newest first). */
async function newRows(h: RelayHarness, keyId: string, before: number): Promise<RequestRow[]> {
  const rows = await requestRows(h, keyId);
  return rows.slice(0, rows.length - before);
}

/** Every lease and in-process count of the key and the account back at zero. */
async function expectNothingHeld({ h, keyId, accountId }: Storm): Promise<void> {
  const coordinator = h.server.app.get<Coordinator>(COORDINATOR);
  const scheduler = h.server.app.get(Scheduler);
  const admission = h.server.app.get(AdmissionService);
  const relay = h.server.app.get(RelayService);
  // Released as each request ends, not by expiry: the bound is one lease TTL.
  const held = await waitFor(
    async () => ({
      keyLeases: await coordinator.countLeases(coordinationKeys.keyLease(keyId)),
      accountLeases: await coordinator.countLeases(coordinationKeys.accountLease(accountId)),
      inFlight: scheduler.inFlightOf(accountId),
      renewing: admission.renewingCount,
      bodyBytes: relay.inbound.inFlightBodyBytes,
      keySlots: relay.inbound.activeOf(keyId),
    }),
    (x) => Object.values(x).every((v) => v === 0),
    LEASE_TTL_MS,
    50,
  );
  expect(held).toEqual({
    keyLeases: 0,
    accountLeases: 0,
    inFlight: 0,
    renewing: 0,
    bodyBytes: 0,
    keySlots: 0,
  });
}

async function expectRoutable({ h, secret }: Storm): Promise<void> {
  const client = new Anthropic({ apiKey: secret, baseURL: h.url, maxRetries: 0 });
  const reply = await client.messages.create({
    model: MODEL,
    max_tokens: 16,
    messages: [{ role: 'user', content: 'still there?' }],
  });
  expect(reply.type).toBe('message');
}

async function setUp(h: RelayHarness): Promise<Storm> {
  delayAdmits(h);
  const account = await h.createAccount({
    name: 'faults',
    credentials: { apiKey: 'cred-faults' },
    concurrencyLimit: 1000,
  });
  // A window limit and a concurrency limit, so admission makes a coordinator round trip and
  // takes a key lease; both far above what the storm needs.
  const key = await h.createKey({
    name: 'faults',
    limits: { concurrency: 1000, windowMinutes: 60, windowRequests: 100_000 },
  });
  return { h, keyId: key.id, secret: key.secret, accountId: account.id };
}

function faultSuite(name: string, start: () => Promise<RelayHarness>, stop: () => Promise<void>) {
  describe(name, () => {
    let storm: Storm;

    beforeAll(async () => {
      storm = await setUp(await start());
    });
    afterAll(stop);

    it('should leave no lease held, the account routable and a row per upstream request after 500 clients leave at random moments', async () => {
      const { h } = storm;
      h.upstream.reset();
      h.upstream.setDefault({ delayFirstByteMs: 20, events: 40, eventDelayMs: 2 });
      const before = (await requestRows(h, storm.keyId)).length;
      const counts: Record<Moment, number> = {
        admission: 0,
        'before-first-byte': 0,
        'mid-stream': 0,
      };
      for (let i = 0; i < CLIENTS; i += BATCH) {
        await Promise.all(
          Array.from({ length: BATCH }, (_, j) => {
            const moment = MOMENTS[Math.floor(Math.random() * MOMENTS.length)];
            counts[moment]++;
            return leavingClient(h.url, storm.secret, i + j, moment);
          }),
        );
      }
      // Requests still inside the relay finish on their own; the upstream sees them abort.
      await expectNothingHeld(storm);
      const upstreamSeen = h.upstream.requestCount;
      const rows = await newRows(h, storm.keyId, before);
      const reached = rows.filter((row) => row.attempts > 0);
      process.stderr.write(
        `[${name}] moments ${JSON.stringify(counts)}; upstream saw ${upstreamSeen}, ` +
          `rows ${rows.length} (${reached.length} with an upstream attempt), ` +
          `outcomes ${JSON.stringify(countBy(rows, (r) => r.outcome))}\n`,
      );
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      expect(upstreamSeen).toBeGreaterThan(0);
      // Every request the upstream saw is billed: its row exists (an attempt counted as it
      // left may have been aborted before the upstream read it, never the other way round).
      expect(reached.length).toBeGreaterThanOrEqual(upstreamSeen);
      expect(rows.length).toBeLessThanOrEqual(CLIENTS);
      // Streams cut mid-way still record the usage they carried (message_start's input tokens).
      const midStream = rows.filter((r) => r.outcome === 'aborted' && r.ttfbMs !== null);
      for (const row of midStream) expect(row.inputTokens).toBeGreaterThan(0);
      await expectRoutable(storm);
      await expectNothingHeld(storm);
    }, 120_000);

    it('should cut 100 streams whose clients stop reading after the stall timeout and release their leases', async () => {
      const { h } = storm;
      h.upstream.reset();
      // 5 MB per stream: more than a client socket that never reads (128 KB) and the relay's
      // send buffer (at most 4 MB here) hold, so the relay's writes back up and stay backed up.
      const delta = 'x'.repeat(128 * 1024);
      h.upstream.setDefault({
        reply: { content: [{ type: 'text', text: Array.from({ length: 40 }, () => delta) }] },
      });
      const before = (await requestRows(h, storm.keyId)).length;
      const sockets = await Promise.all(
        Array.from(
          { length: STALLED_STREAMS },
          (_, n) =>
            new Promise<{ destroy(): void }>((resolve, reject) => {
              const body = streamBody(n);
              const req = httpRequest(`${h.url}/v1/messages`, {
                method: 'POST',
                headers: {
                  'x-api-key': storm.secret,
                  'content-type': 'application/json',
                  'content-length': Buffer.byteLength(body),
                },
              });
              req.on('error', () => undefined);
              req.on('response', (res) => {
                // Read the headers, then nothing more: the socket's buffers fill and stay full.
                res.pause();
                res.socket.pause();
                resolve(req);
              });
              req.once('error', reject);
              req.end(body);
            }),
        ),
      );
      try {
        // Polls a summary (rows by outcome and error code, the upstream's open exchanges), so a
        // timeout says what the rows were rather than printing 100 of them.
        const summary = async () => {
          const r = await newRows(h, storm.keyId, before);
          const byOutcome = countBy(r, (row) => `${row.outcome}/${row.errorCode ?? '-'}`);
          return { rows: r.length, byOutcome, upstreamOpen: h.upstream.inFlight };
        };
        await waitFor(
          summary,
          (x) => (x.byOutcome['aborted/CLIENT_WRITE_STALLED'] ?? 0) >= STALLED_STREAMS,
          150_000,
          250,
        );
        const rows = await newRows(h, storm.keyId, before);
        const stalled = rows.filter((row) => row.errorCode === 'CLIENT_WRITE_STALLED');
        expect(stalled).toHaveLength(STALLED_STREAMS);
        for (const row of stalled) {
          expect(row.outcome).toBe('aborted');
          expect(row.latencyMs).toBeGreaterThanOrEqual(STALL_TIMEOUT_MS);
        }
        // No upstream exchange is left open either (the relay destroyed its side).
        await waitFor(
          async () => h.upstream.inFlight,
          (n) => n === 0,
          30_000,
          100,
        );
        await expectNothingHeld(storm);
      } finally {
        for (const socket of sockets) socket.destroy();
      }
      await expectRoutable(storm);
    }, 240_000);
  });
}

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
  return out;
}

const RELAY_ENV = {
  LEASE_TTL_MS: String(LEASE_TTL_MS),
  RELAY_WRITE_STALL_TIMEOUT_MS: String(STALL_TIMEOUT_MS),
};

describe('relay fault injection', () => {
  let embedded: RelayHarness | undefined;
  faultSuite(
    'on the embedded default',
    async () => (embedded = await startRelayHarness(RELAY_ENV)),
    async () => embedded?.close(),
  );
});

describeWithPostgres('relay fault injection on PostgreSQL + Redis', (databaseUrl) => {
  const redisUrl = redisUrlOrSkip('relay fault injection') ?? 'redis://127.0.0.1:6379';
  let temp: TempDatabase | undefined;
  let harness: RelayHarness | undefined;
  faultSuite(
    'with Redis coordination',
    async () => {
      temp = await createTempPostgresDatabase(databaseUrl);
      harness = await startRelayHarness({
        ...RELAY_ENV,
        DATABASE_URL: temp.url,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: `syfault${Date.now().toString(36)}:`,
      });
      return harness;
    },
    async () => {
      await harness?.close();
      await temp?.drop();
    },
  );
});
