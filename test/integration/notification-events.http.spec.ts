import type { NestExpressApplication } from '@nestjs/platform-express';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from 'src/bootstrap';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { DATABASE } from 'src/infra/database/database.module';
import type { Db } from 'src/infra/database/database.types';
import type { OutboxEvent } from 'src/infra/outbox/outbox.types';
import { UsersService } from 'src/modules/users/users.service';

const PASSWORD = 'correct-horse-battery';
const WRONG = 'hunter2-wrong-guess';

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The app as it runs by default (SQLite file, in-process coordination): bursts of a cause leave
 * one notification event in the outbox.
 */
describe('notification events (embedded app, SQLite)', () => {
  let app: NestExpressApplication;
  let url: string;
  let token: string;
  let db: Db;

  beforeAll(async () => {
    const env = loadEnvironment({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'sy-notification-events-')),
      LOG_LEVEL: 'silent',
    });
    app = await createApp(new ConfigService(env));
    await app.listen(0, '127.0.0.1');
    const { port } = app.getHttpServer().address() as { port: number };
    url = `http://127.0.0.1:${port}`;
    db = app.get<Db>(DATABASE);
    await app.get(UsersService).bootstrapAdmin('admin', PASSWORD);
    token = ((await login('admin', PASSWORD)).body as { token: string }).token;
  });
  afterAll(async () => {
    await app?.close();
  });

  async function login(username: string, password: string) {
    const res = await fetch(`${url}/admin/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.9' },
      body: JSON.stringify({ username, password }),
    });
    return { status: res.status, body: await res.json() };
  }

  /** The notification events of a type, once at least one is stored (the writes run behind). */
  async function eventsOf(type: string): Promise<OutboxEvent[]> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      // Read processed events too: the app's dispatcher fans them out meanwhile.
      const rows = await db
        .selectFrom('outbox_events')
        .selectAll()
        .where('topic', '=', 'notification')
        .where('type', '=', type)
        .execute();
      const events: OutboxEvent[] = rows.map((row) => ({
        id: row.id,
        topic: 'notification',
        type: row.type,
        partitionKey: row.partition_key,
        dedupeKey: row.dedupe_key,
        payload: JSON.parse(row.payload) as unknown,
        createdAt: Number(row.created_at),
        processedAt: row.processed_at === null ? null : Number(row.processed_at),
      }));
      if (events.length > 0 || Date.now() > deadline) return events;
      await sleep(20);
    }
  }

  it('should store one auth.login_locked for bursts of wrong passwords, without the password', async () => {
    // Bursts as wide as the concurrent password checks allowed (LOGIN_CONCURRENT_CHECKS = 4),
    // until the username is locked, then 20 more at once while it is.
    let statuses: number[] = [];
    for (let round = 0; round < 5 && !statuses.includes(429); round += 1) {
      statuses = await Promise.all(
        Array.from({ length: 4 }, () => login('victim', WRONG).then((r) => r.status)),
      );
    }
    expect(statuses).toContain(429);
    await Promise.all(Array.from({ length: 20 }, () => login('victim', WRONG)));

    const events = await eventsOf('auth.login_locked');
    expect(events).toHaveLength(1);
    expect(events[0].payload).toMatchObject({
      title: 'Login "victim" locked after repeated wrong passwords',
      subject: { kind: 'user', id: 'victim' },
      data: { lockedBy: 'username', username: 'victim' },
    });
    expect(JSON.stringify(events[0])).not.toContain(WRONG);
  });

  it('should store one platform.no_routable_account for 20 concurrent requests with no account', async () => {
    const created = await fetch(`${url}/admin/api/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'no-accounts' }),
    });
    expect(created.status).toBe(201);
    const { secret } = (await created.json()) as { secret: string };

    const statuses = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await fetch(`${url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': secret },
          body: JSON.stringify({
            model: 'claude-sonnet-4-5',
            max_tokens: 16,
            messages: [{ role: 'user', content: 'hi' }],
          }),
        });
        await res.arrayBuffer();
        return res.status;
      }),
    );

    expect(statuses.every((status) => status === 503)).toBe(true);
    const events = await eventsOf('platform.no_routable_account');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      dedupeKey: expect.stringMatching(/^platform\.no_routable_account:claude:\d+$/) as string,
      payload: {
        severity: 'critical',
        subject: { kind: 'platform', id: 'claude' },
        data: { platform: 'claude', model: 'claude-sonnet-4-5' },
      },
    });
    expect(JSON.stringify(events[0])).not.toContain(secret);
  });
});
