import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

function outboxContract(open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let db: Db;
  let close: () => Promise<void>;
  let outbox: OutboxRepository;

  beforeEach(async () => {
    ({ db, close } = await open());
    outbox = new OutboxRepository(db);
  });
  afterEach(async () => close());

  describe('append', () => {
    it('should store an event with its cause and roll it back with it', async () => {
      await expect(
        db.transaction().execute(async (trx) => {
          await outbox.append([{ topic: 'usage', type: 'usage.recorded', payload: { n: 1 } }], trx);
          throw new Error('cause failed');
        }),
      ).rejects.toThrow('cause failed');
      await db.transaction().execute(async (trx) => {
        await outbox.append([{ topic: 'usage', type: 'usage.recorded', payload: { n: 2 } }], trx);
      });
      const pending = await outbox.pending('usage', 10);
      expect(pending.map((e) => e.payload)).toEqual([{ n: 2 }]);
    });

    it('should store one event per dedupe key and per id', async () => {
      const notifications = new NotificationOutbox(outbox);
      const event = {
        type: 'key.budget_exhausted' as const,
        dedupeKey: 'key.budget_exhausted:k1:2025-01',
        severity: 'critical' as const,
        title: 'Key "k1" reached its budget',
        message: '100 %',
        subject: { kind: 'api_key' as const, id: 'k1' },
        data: { percent: 100 },
      };
      expect(await notifications.emit(event)).toBe(true);
      expect(await notifications.emit(event)).toBe(false);
      expect(await outbox.append([{ id: 'r1', topic: 'usage', type: 'u', payload: {} }])).toBe(1);
      expect(await outbox.append([{ id: 'r1', topic: 'usage', type: 'u', payload: {} }])).toBe(0);
      expect(await outbox.countPending('notification')).toBe(1);
      expect(await outbox.countPending('usage')).toBe(1);
    });
  });

  describe('pending', () => {
    it('should list a topic in creation order until marked processed', async () => {
      for (let i = 0; i < 5; i++) {
        await outbox.append([{ topic: 'usage', type: 'u', partitionKey: 'k', payload: { i } }]);
      }
      const first = await outbox.pending('usage', 3);
      expect(first.map((e) => e.payload)).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
      await outbox.markProcessed(first.map((e) => e.id));
      const rest = await outbox.pending('usage', 10);
      expect(rest.map((e) => e.payload)).toEqual([{ i: 3 }, { i: 4 }]);
      expect(await outbox.countPending('usage')).toBe(2);
      expect(await outbox.pending('notification', 10)).toEqual([]);
    });
  });

  describe('pruneProcessed', () => {
    it('should delete only processed events older than the horizon', async () => {
      await outbox.append([
        { id: 'old-done', topic: 'usage', type: 'u', payload: {}, createdAt: 1_000 },
        { id: 'old-open', topic: 'usage', type: 'u', payload: {}, createdAt: 1_000 },
        { id: 'new-done', topic: 'usage', type: 'u', payload: {}, createdAt: 5_000 },
      ]);
      await outbox.markProcessed(['old-done', 'new-done']);
      expect(await outbox.pruneProcessed(2_000, 100)).toBe(1);
      const left = await db.selectFrom('outbox_events').select('id').orderBy('id').execute();
      expect(left.map((r) => r.id)).toEqual(['new-done', 'old-open']);
    });

    it('should leave the other topics alone when given a topic', async () => {
      await outbox.append([
        { id: 'usage-done', topic: 'usage', type: 'u', payload: {}, createdAt: 1_000 },
        { id: 'note-done', topic: 'notification', type: 'n', payload: {}, createdAt: 1_000 },
      ]);
      await outbox.markProcessed(['usage-done', 'note-done']);
      expect(await outbox.pruneProcessed(2_000, 100, 'usage')).toBe(1);
      const left = await db.selectFrom('outbox_events').select('id').execute();
      expect(left.map((r) => r.id)).toEqual(['note-done']);
    });
  });
}

describe('OutboxRepository on SQLite', () => {
  outboxContract(async () => {
    const db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    return { db, close: () => db.destroy() };
  });
});

describeWithPostgres('OutboxRepository on PostgreSQL', (baseUrl) => {
  outboxContract(async () => {
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
