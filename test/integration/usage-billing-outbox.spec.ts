import { sql } from 'kysely';
import {
  createDatabase,
  migrateToLatest,
  sqliteHandleOf,
} from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import { toBillingEvent } from 'src/modules/usage/billing-event';
import { emptyUsage } from 'src/modules/usage/pricing/token-usage';
import { toRequestLogRow } from 'src/modules/usage/usage-batch';
import { UsageRepository } from 'src/modules/usage/usage.repository';
import type { UsageEvent } from 'src/modules/usage/usage.types';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

function usageEvent(i: number, keyId = `key-${i % 2}`): UsageEvent {
  return {
    requestId: timeOrderedId(),
    at: Date.UTC(2025, 0, 31, 12, 0, i),
    apiKeyId: keyId,
    apiKeyName: `name of ${keyId}`,
    userId: i % 2 === 0 ? 'user-1' : null,
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4-6',
    status: 200,
    outcome: 'ok',
    stream: i % 2 === 0,
    usage: { ...emptyUsage(), inputTokens: 10 + i, outputTokens: 5, cacheReadTokens: 100 },
    costMicros: 1000 + i,
    priceKnown: true,
    latencyMs: 40,
    ttfbMs: 12,
    attempts: 1,
    errorCode: null,
  };
}

async function usageOutbox(db: Db) {
  return db
    .selectFrom('outbox_events')
    .selectAll()
    .where('topic', '=', 'usage')
    .orderBy('id')
    .execute();
}

interface Engine {
  db: Db;
  close(): Promise<void>;
  /** Makes every insert into outbox_events fail, until `mendOutbox`. */
  breakOutbox(): Promise<void>;
  mendOutbox(): Promise<void>;
}

function billingOutboxContract(open: () => Promise<Engine>): void {
  let db: Db;
  let engine: Engine;

  beforeEach(async () => {
    engine = await open();
    db = engine.db;
  });
  afterEach(async () => engine.close());
  describe('writeBatch', () => {
    it('should write no outbox row at all without the billing stream (AMQP_URL unset)', async () => {
      const repository = new UsageRepository(db);
      expect(await repository.writeBatch([usageEvent(0), usageEvent(1)])).toBe(2);
      expect(await db.selectFrom('outbox_events').selectAll().execute()).toEqual([]);
      const off = new UsageRepository(db, { billingStream: false });
      expect(await off.writeBatch([usageEvent(2)])).toBe(1);
      expect(await db.selectFrom('outbox_events').selectAll().execute()).toEqual([]);
    });

    it('should append one billing event per stored row, keyed by request id, in the same batch', async () => {
      const repository = new UsageRepository(db, { billingStream: true });
      const events = [usageEvent(0), usageEvent(1), usageEvent(2)];
      const before = Date.now();
      expect(await repository.writeBatch(events)).toBe(3);
      const rows = await usageOutbox(db);
      expect(rows.map((r) => r.id)).toEqual(events.map((e) => e.requestId));
      for (const [i, row] of rows.entries()) {
        expect(row).toMatchObject({
          topic: 'usage',
          type: 'usage.recorded',
          partition_key: events[i].apiKeyId,
          dedupe_key: null,
          processed_at: null,
        });
        expect(Number(row.created_at)).toBeGreaterThanOrEqual(before);
        expect(JSON.parse(row.payload)).toEqual(
          toBillingEvent(toRequestLogRow(events[i]), events[i]),
        );
      }
      expect(JSON.parse(rows[0].payload).apiKey).toEqual({ id: 'key-0', name: 'name of key-0' });
      // The publisher reads them in request order.
      const pending = await new OutboxRepository(db).pending('usage', 10);
      expect(pending.map((e) => e.id)).toEqual(events.map((e) => e.requestId));
    });

    it('should add no event for a row already stored when a batch is delivered again', async () => {
      const repository = new UsageRepository(db, { billingStream: true });
      const outbox = new OutboxRepository(db);
      const events = [usageEvent(0), usageEvent(1), usageEvent(2)];
      await repository.writeBatch(events);
      // Published meanwhile: a replay must not put them back.
      await outbox.markProcessed(events.map((e) => e.requestId));
      const late = usageEvent(3);
      // A journal replay or a retried batch carries the same events again, plus a new one, and
      // a batch can carry one event twice.
      expect(await repository.writeBatch([...events, late, late])).toBe(1);
      expect(await usageOutbox(db)).toHaveLength(4);
      expect((await outbox.pending('usage', 10)).map((e) => e.id)).toEqual([late.requestId]);
      expect(await repository.writeBatch(events)).toBe(0);
      expect(await usageOutbox(db)).toHaveLength(4);
    });

    it('should store neither the rows nor their events when the events cannot be written', async () => {
      const first = usageEvent(0);
      await new UsageRepository(db, { billingStream: true }).writeBatch([first]);
      const events = [usageEvent(1), usageEvent(2)];
      await engine.breakOutbox();
      // A repository made after the outbox broke prepares its statements against the broken
      // table, so the failure happens inside the batch's transaction, after its request-log rows.
      const repository = new UsageRepository(db, { billingStream: true });
      await expect(repository.writeBatch(events)).rejects.toThrow('outbox refused');
      await engine.mendOutbox();
      const log = await db.selectFrom('request_log').select('id').execute();
      expect(log.map((r) => r.id)).toEqual([first.requestId]);
      // The recorder retries the batch: rows and events then arrive together.
      expect(await new UsageRepository(db, { billingStream: true }).writeBatch(events)).toBe(2);
      expect(await usageOutbox(db)).toHaveLength(3);
    });

    it('should store a large batch and its events together', async () => {
      const repository = new UsageRepository(db, { billingStream: true });
      const events = Array.from({ length: 1200 }, (_, i) => usageEvent(i, `key-${i % 7}`));
      expect(await repository.writeBatch(events)).toBe(1200);
      const outbox = new OutboxRepository(db);
      expect(await outbox.countPending('usage')).toBe(1200);
      const log = await db.selectFrom('request_log').select('id').orderBy('id').execute();
      expect((await usageOutbox(db)).map((r) => r.id)).toEqual(log.map((r) => r.id));
    });
  });
}

describe('UsageRepository billing events on SQLite', () => {
  let prepareSpy: jest.SpyInstance | undefined;
  billingOutboxContract(async () => {
    const db = createDatabase({ engine: 'sqlite', sqliteFile: ':memory:' });
    await migrateToLatest(db);
    return {
      db,
      close: () => db.destroy(),
      // The outbox insert is the batch's last statement: make better-sqlite3's prepared outbox
      // statement throw (a trigger raising ABORT did not fail it reliably under this suite).
      breakOutbox: async () => {
        const handle = sqliteHandleOf(db);
        if (handle === undefined) throw new Error('not a SQLite database');
        const prepare = handle.prepare.bind(handle);
        prepareSpy = jest.spyOn(handle, 'prepare').mockImplementation((source: string) => {
          const statement = prepare(source);
          if (!source.startsWith('INSERT INTO outbox_events')) return statement;
          return new Proxy(statement, {
            get(target, property) {
              if (property === 'run') {
                return () => {
                  throw new Error('outbox refused');
                };
              }
              const value: unknown = Reflect.get(target, property);
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        });
        await Promise.resolve();
      },
      mendOutbox: async () => {
        prepareSpy?.mockRestore();
        await Promise.resolve();
      },
    };
  });
});

describeWithPostgres('UsageRepository billing events on PostgreSQL', (baseUrl) => {
  billingOutboxContract(async () => {
    const temp = await createTempPostgresDatabase(baseUrl);
    const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 4 });
    await migrateToLatest(db);
    return {
      db,
      close: async () => {
        await db.destroy();
        await temp.drop();
      },
      breakOutbox: async () => {
        await sql`CREATE FUNCTION refuse_outbox() RETURNS trigger LANGUAGE plpgsql AS
          $$ BEGIN RAISE EXCEPTION 'outbox refused'; END $$`.execute(db);
        await sql`CREATE TRIGGER refuse_outbox BEFORE INSERT ON outbox_events
          FOR EACH ROW EXECUTE FUNCTION refuse_outbox()`.execute(db);
      },
      mendOutbox: async () => {
        await sql`DROP TRIGGER refuse_outbox ON outbox_events`.execute(db);
        await sql`DROP FUNCTION refuse_outbox()`.execute(db);
      },
    };
  });
});
