import BetterSqlite3 from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { request as httpRequest, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { FakeUpstream } from '../fake-upstream/fake-upstream';
import { startServerProcess, waitFor, type ServerProcess } from '../support/app-process';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { databaseUrlOrSkip } from '../support/services';

const ROOT = join(__dirname, '..', '..');
const MODEL = 'claude-sonnet-4-6';
const CLIENTS = 32;
/** Completed responses before the kill; the load keeps running while the process dies. */
const KILL_AFTER = 1500;

async function cli(env: Record<string, string>, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'switchyard.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`switchyard ${args.join(' ')} exited ${code}: ${stderr}`);
  return stdout;
}

interface Load {
  /** Request ids (x-request-id) of responses the client read to their last byte. */
  completed: string[];
  /** Requests sent, whatever became of them. */
  sent: number;
  stop(): Promise<void>;
}

/**
 * CLIENTS loops of requests, every other one streamed. A response counts as completed when its
 * body was read to the end and holds the reply's last part (message_stop for a stream).
 */
function startLoad(url: string, key: string, onCompleted: (n: number) => void): Load {
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  const completed: string[] = [];
  let sent = 0;
  let running = true;
  const one = (stream: boolean): Promise<void> =>
    new Promise((resolve) => {
      sent += 1;
      const body = JSON.stringify({
        model: MODEL,
        max_tokens: 64,
        stream,
        messages: [{ role: 'user', content: 'hello' }],
      });
      const req = httpRequest(
        `${url}/v1/messages`,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'x-api-key': key,
            'anthropic-version': '2023-06-01',
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const whole = stream ? text.includes('event: message_stop') : text.endsWith('}');
            if (res.statusCode === 200 && res.complete && whole) {
              completed.push(String(res.headers['x-request-id']));
              onCompleted(completed.length);
            }
            resolve();
          });
          res.on('error', () => resolve());
          res.on('aborted', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end(body);
    });
  const loops = Array.from({ length: CLIENTS }, async (_, i) => {
    let stream = i % 2 === 0;
    while (running) {
      await one(stream);
      stream = !stream;
    }
  });
  return {
    completed,
    get sent() {
      return sent;
    },
    stop: async () => {
      running = false;
      await Promise.all(loops);
      agent.destroy();
    },
  };
}

interface Stored {
  ids: string[];
  /** Requests counted in the relay-wide hour aggregates. */
  aggregated: number;
}

async function storedSqlite(dataDir: string): Promise<Stored> {
  const db = new BetterSqlite3(join(dataDir, 'switchyard.db'), { readonly: true });
  try {
    const ids = (db.prepare('select id from request_log').all() as { id: string }[]).map(
      (r) => r.id,
    );
    const agg = db
      .prepare(
        "select coalesce(sum(requests), 0) as n from usage_aggregates where bucket = 'hour' and dim = 'all'",
      )
      .get() as { n: number };
    return { ids, aggregated: Number(agg.n) };
  } finally {
    db.close();
  }
}

async function storedPostgres(url: string): Promise<Stored> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const ids = (await client.query<{ id: string }>('select id from request_log')).rows.map(
      (r) => r.id,
    );
    const agg = await client.query<{ n: string }>(
      "select coalesce(sum(requests), 0) as n from usage_aggregates where bucket = 'hour' and dim = 'all'",
    );
    return { ids, aggregated: Number(agg.rows[0].n) };
  } finally {
    await client.end();
  }
}

async function crashAndRestart(
  env: Record<string, string>,
  stored: () => Promise<Stored>,
): Promise<void> {
  const dataDir = env.DATA_DIR;
  const upstream = await FakeUpstream.start({ record: false });
  let server: ServerProcess | undefined;
  try {
    await cli(env, [
      'accounts',
      'add',
      '--name',
      'console',
      '--type',
      'claude-console',
      '--api-key',
      'sk-ant-api03-crash-test',
      '--base-url',
      upstream.url,
      '--json',
    ]);
    const created = JSON.parse(await cli(env, ['keys', 'create', '--name', 'load', '--json'])) as
      { secret: string } | { secret: string }[];
    const key = Array.isArray(created) ? created[0].secret : created.secret;

    const first = await startServerProcess(env);
    server = first;
    let killed = false;
    let resolveKilled!: () => void;
    const killedAfterLoad = new Promise<void>((resolve) => (resolveKilled = resolve));
    const load = startLoad(first.url, key, (n) => {
      if (n < KILL_AFTER || killed) return;
      killed = true;
      first.child.kill('SIGKILL');
      resolveKilled();
    });
    await killedAfterLoad;
    await first.exited;
    await load.stop();
    const completed = [...load.completed];
    expect(completed.length).toBeGreaterThanOrEqual(KILL_AFTER);

    // The same DATA_DIR: the journal of the killed process is replayed before the server listens.
    server = await startServerProcess(env);
    const after = await stored();
    const rows = new Set(after.ids);
    const missing = completed.filter((id) => !rows.has(id));
    process.stderr.write(
      `[usage-crash] sent ${load.sent}, completed ${completed.length}, rows ${after.ids.length}, ` +
        `aggregated ${after.aggregated}, missing ${missing.length}\n`,
    );
    expect(new Set(completed).size).toBe(completed.length);
    expect(missing).toEqual([]);
    // Rows beyond the completed responses are requests whose response was cut by the kill.
    expect(after.ids.length).toBeLessThanOrEqual(load.sent);
    expect(after.ids.length - completed.length).toBeLessThanOrEqual(CLIENTS);
    // Replaying a row that was already stored must not count it twice.
    expect(after.aggregated).toBe(after.ids.length);
    // Once replayed and stored, the claimed journal is gone.
    expect(readdirSync(join(dataDir, 'usage-journal'))).toEqual([]);

    // A clean stop (SIGTERM) stores what it served and leaves no journal behind.
    const second = server;
    const more = startLoad(second.url, key, () => undefined);
    await waitFor(
      async () => more.completed.length,
      (n) => n >= 200,
      60_000,
      20,
    );
    await more.stop();
    expect(more.completed.length).toBe(more.sent);
    expect(await second.stop()).toBe(0);
    server = undefined;
    expect(readdirSync(join(dataDir, 'usage-journal'))).toEqual([]);
    expect((await stored()).ids.length).toBe(after.ids.length + more.completed.length);
  } finally {
    await server?.stop();
    await upstream.close();
  }
}

describe('usage after kill -9 under load (end to end)', () => {
  it('should have a request-log row for every completed response on SQLite', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-crash-'));
    await crashAndRestart({ DATA_DIR: dataDir }, () => storedSqlite(dataDir));
  }, 180_000);

  const baseUrl = databaseUrlOrSkip('usage-crash on PostgreSQL');
  (baseUrl === null ? it.skip : it)(
    'should have a request-log row for every completed response on PostgreSQL',
    async () => {
      let db: TempDatabase | undefined;
      try {
        db = await createTempPostgresDatabase(baseUrl as string);
        const dataDir = mkdtempSync(join(tmpdir(), 'sy-e2e-crash-pg-'));
        const url = db.url;
        await crashAndRestart({ DATA_DIR: dataDir, DATABASE_URL: url }, () => storedPostgres(url));
      } finally {
        await db?.drop();
      }
    },
    180_000,
  );
});
