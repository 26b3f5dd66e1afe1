import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { SecretBox } from 'src/infra/crypto/secret-box';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { NotificationDeliveriesRepository } from 'src/modules/webhooks/notification-deliveries.repository';
import { NotificationDispatcher } from 'src/modules/webhooks/notification-dispatcher';
import { NotificationSender } from 'src/modules/webhooks/notification-sender';
import { NotificationTargetsRepository } from 'src/modules/webhooks/notification-targets.repository';
import { NotificationsService } from 'src/modules/webhooks/notifications.service';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const SECRET = 'integration-signing-secret';

function config(overrides: Partial<EnvironmentSchema> = {}): ConfigService {
  return new ConfigService(
    Object.assign(new EnvironmentSchema(), {
      NOTIFY_BACKOFF_BASE_MS: 10,
      NOTIFY_BACKOFF_MAX_MS: 20,
      NOTIFY_TIMEOUT_MS: 2000,
      ...overrides,
    }),
  );
}

/** A local receiver answering `status()` and counting deliveries by x-switchyard-delivery. */
async function receiver(status: () => number): Promise<{
  url: string;
  received: string[];
  close(): Promise<void>;
}> {
  const received: string[] = [];
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const code = status();
      if (code < 300) received.push(String(req.headers['x-switchyard-delivery']));
      res.writeHead(code).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function notificationsContract(open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let db: Db;
  let close: () => Promise<void>;
  let targets: NotificationTargetsRepository;
  let deliveries: NotificationDeliveriesRepository;
  let outbox: OutboxRepository;
  let sender: NotificationSender;
  let service: NotificationsService;
  const box = new SecretBox('integration-encryption-key-0123456789');

  beforeEach(async () => {
    ({ db, close } = await open());
    targets = new NotificationTargetsRepository(db);
    deliveries = new NotificationDeliveriesRepository(db);
    outbox = new OutboxRepository(db);
    sender = new NotificationSender(config(), box);
    service = new NotificationsService(targets, deliveries, sender);
  });
  afterEach(async () => {
    await sender.onModuleDestroy();
    await close();
  });

  function dispatcher(coordinator: LocalCoordinator, env: Partial<EnvironmentSchema> = {}) {
    return new NotificationDispatcher(
      config(env),
      db,
      coordinator,
      outbox,
      targets,
      deliveries,
      new NotificationSender(config(env), box),
    );
  }

  async function emit(n: number): Promise<void> {
    const notifications = new NotificationOutbox(outbox);
    for (let i = 0; i < n; i++) {
      await notifications.emit({
        type: 'account.auth_failed',
        severity: 'critical',
        title: `t${i}`,
        message: 'm',
        subject: { kind: 'account', id: `acc-${i}` },
        data: {},
      });
    }
  }

  describe('targets', () => {
    it('should seal secrets, never return them, and keep them across a partial update', async () => {
      const created = await service.createTarget({
        name: 'hook',
        kind: 'webhook',
        config: { url: 'https://hooks.example.com/x', secret: SECRET },
        events: ['account.auth_failed'],
      });
      expect(created).toMatchObject({
        config: { url: 'https://hooks.example.com/x' },
        secretsSet: ['secret'],
        hasSecret: true,
        events: ['account.auth_failed'],
      });
      const row = await targets.findById(created.id);
      expect(row?.secrets).not.toContain(SECRET);
      expect(JSON.stringify(created)).not.toContain(SECRET);

      const updated = await service.updateTarget(created.id, {
        config: { url: 'https://hooks.example.com/y' },
        events: null,
      });
      expect(updated).toMatchObject({
        config: { url: 'https://hooks.example.com/y' },
        events: null,
      });
      expect(sender.openSecrets((await targets.findById(created.id))!)).toEqual({ secret: SECRET });
    });

    it('should refuse a plain http:// URL outside loopback, as for account URLs', async () => {
      await expect(
        service.createTarget({
          name: 'plain',
          kind: 'webhook',
          config: { url: 'http://hooks.example.com/x', secret: SECRET },
        }),
      ).rejects.toMatchObject({ code: 'TARGET_NOT_ALLOWED' });
    });

    it('should delete a target with its delivery log', async () => {
      const hook = await receiver(() => 204);
      try {
        const created = await service.createTarget({
          name: 'hook',
          kind: 'webhook',
          config: { url: hook.url, secret: SECRET },
        });
        const test = await service.testTarget(created.id);
        expect(test).toMatchObject({ ok: true, status: 204, error: null });
        expect((await service.listDeliveries({ page: 1, pageSize: 10 })).total).toBe(1);
        await service.deleteTarget(created.id);
        expect((await service.listDeliveries({ page: 1, pageSize: 10 })).total).toBe(0);
      } finally {
        await hook.close();
      }
    });
  });

  describe('deliveries', () => {
    it('should let one claimer take an attempt and record it only once', async () => {
      const { id } = await service.createTarget({
        name: 'hook',
        kind: 'webhook',
        config: { url: 'https://hooks.example.com/x', secret: SECRET },
      });
      const base = {
        event_id: 'e1',
        target_id: id,
        event_type: 'account.auth_failed',
        message: '{}',
        status: 'pending',
        attempts: 0,
        next_attempt_at: 100,
        last_status: null,
        last_error: null,
        last_duration_ms: null,
        delivered_at: null,
        created_at: 100,
        updated_at: 100,
      };
      expect(await deliveries.insertMany([{ ...base, id: 'd1' }])).toBe(1);
      // The unique (event, target) pair: a repeated fan-out adds nothing.
      expect(await deliveries.insertMany([{ ...base, id: 'd2' }])).toBe(0);
      const [due] = await deliveries.due(1000, 10);
      expect(due).toMatchObject({ id: 'd1', attempts: 0, next_attempt_at: 100 });
      expect(await deliveries.claim(due, 5000, 1000)).toBe(true);
      expect(await deliveries.claim(due, 5000, 1000)).toBe(false);
      expect(await deliveries.due(1000, 10)).toEqual([]);
      const result = {
        status: 'delivered' as const,
        nextAttemptAt: null,
        lastStatus: 200,
        lastError: null,
        durationMs: 3,
        deliveredAt: 1001,
        now: 1001,
      };
      expect(await deliveries.recordAttempt('d1', 0, result)).toBe(true);
      expect(await deliveries.recordAttempt('d1', 0, result)).toBe(false);
      expect(await deliveries.retry('d1', 2000)).toBe(false);
      expect(await deliveries.findById('d1')).toMatchObject({ status: 'delivered', attempts: 1 });
    });

    it('should list newest first, filtered by status and event type', async () => {
      const { id } = await service.createTarget({
        name: 'hook',
        kind: 'webhook',
        config: { url: 'https://hooks.example.com/x', secret: SECRET },
      });
      const rows = ['a', 'b', 'c'].map((name, i) => ({
        id: `d-${name}`,
        event_id: `e-${name}`,
        target_id: id,
        event_type: i === 2 ? 'key.budget_exhausted' : 'account.auth_failed',
        message: JSON.stringify({ title: name }),
        status: i === 0 ? 'failed' : 'pending',
        attempts: 0,
        next_attempt_at: null,
        last_status: null,
        last_error: null,
        last_duration_ms: null,
        delivered_at: null,
        created_at: 1000 + i,
        updated_at: 1000 + i,
      }));
      await deliveries.insertMany(rows);
      const all = await service.listDeliveries({ page: 1, pageSize: 2 });
      expect(all.total).toBe(3);
      expect(all.items.map((d) => d.title)).toEqual(['c', 'b']);
      const failed = await service.listDeliveries({ page: 1, pageSize: 10, status: 'failed' });
      expect(failed.items.map((d) => d.id)).toEqual(['d-a']);
      const budget = await service.listDeliveries({
        page: 1,
        pageSize: 10,
        eventType: 'key.budget_exhausted',
        targetId: id,
      });
      expect(budget.items.map((d) => d.id)).toEqual(['d-c']);
      await expect(service.retryDelivery('d-b')).rejects.toMatchObject({
        code: 'DELIVERY_NOT_RETRYABLE',
      });
      expect(await service.retryDelivery('d-a')).toMatchObject({ status: 'pending' });
    });
  });

  describe(NotificationDispatcher.name, () => {
    it('should deliver each event once when two instances tick at the same time', async () => {
      const hook = await receiver(() => 204);
      const store = new LocalCoordinatorStore();
      try {
        await service.createTarget({
          name: 'hook',
          kind: 'webhook',
          config: { url: hook.url, secret: SECRET },
        });
        await emit(30);
        const a = dispatcher(new LocalCoordinator({ instanceId: 'a', store }));
        const b = dispatcher(new LocalCoordinator({ instanceId: 'b', store }));
        for (let round = 0; round < 10 && hook.received.length < 30; round++) {
          await Promise.all([a.tick(), b.tick(), a.sendDue(), b.sendDue()]);
        }
        expect(hook.received).toHaveLength(30);
        expect(new Set(hook.received).size).toBe(30);
        expect(await outbox.countPending('notification')).toBe(0);
        const log = await service.listDeliveries({ page: 1, pageSize: 50, status: 'delivered' });
        expect(log.total).toBe(30);
      } finally {
        await hook.close();
      }
    });

    it('should retry with backoff until the receiver answers, then give up on a final refusal', async () => {
      let status = 503;
      const hook = await receiver(() => status);
      const store = new LocalCoordinatorStore();
      try {
        await service.createTarget({
          name: 'hook',
          kind: 'webhook',
          config: { url: hook.url, secret: SECRET },
        });
        await emit(1);
        const a = dispatcher(new LocalCoordinator({ instanceId: 'a', store }));
        await a.tick();
        const [first] = (await service.listDeliveries({ page: 1, pageSize: 1 })).items;
        expect(first).toMatchObject({ status: 'pending', attempts: 1, lastStatus: 503 });
        expect(first.lastError).toBe('HTTP 503');
        status = 200;
        for (let i = 0; i < 50 && hook.received.length === 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          await a.tick();
        }
        const [done] = (await service.listDeliveries({ page: 1, pageSize: 1 })).items;
        expect(done).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 });

        status = 404;
        await emit(1);
        await a.tick();
        const [refused] = (await service.listDeliveries({ page: 1, pageSize: 1 })).items;
        expect(refused).toMatchObject({ status: 'failed', attempts: 1, lastStatus: 404 });
      } finally {
        await hook.close();
      }
    });
  });
}

describe('Notifications on SQLite', () => {
  notificationsContract(async () => {
    const db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    return { db, close: () => db.destroy() };
  });
});

describeWithPostgres('Notifications on PostgreSQL', (baseUrl) => {
  notificationsContract(async () => {
    const temp = await createTempPostgresDatabase(baseUrl);
    const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
    await migrateToLatest(db);
    return {
      db,
      close: async () => {
        await db.destroy();
        await temp.drop();
      },
    };
  });
});
