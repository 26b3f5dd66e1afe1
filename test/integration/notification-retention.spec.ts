import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { EnvironmentSchema } from 'src/config/environment.schema';
import { LocalCoordinator, LocalCoordinatorStore } from 'src/infra/coordination/local.coordinator';
import { PRUNE_BATCH_ROWS } from 'src/infra/coordination/locked-prune';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Db } from 'src/infra/database/database.types';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import type { OutboxEventInput, OutboxTopic } from 'src/infra/outbox/outbox.types';
import {
  NotificationDeliveriesRepository,
  type DeliveryStatus,
  type NotificationDeliveryRecord,
} from 'src/modules/webhooks/notification-deliveries.repository';
import {
  NOTIFICATION_RETENTION_LOCK,
  NotificationRetentionService,
} from 'src/modules/webhooks/notification-retention.service';
import { createTempPostgresDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

const DAY = 86_400_000;
const NOW = Date.now();
const RETENTION_DAYS = 30;
const OLD = NOW - (RETENTION_DAYS + 5) * DAY;
const RECENT = NOW - (RETENTION_DAYS - 5) * DAY;
/** Enough old processed events for more than one prune batch. */
const OLD_PROCESSED = PRUNE_BATCH_ROWS + 37;

function config(days: number): ConfigService {
  return new ConfigService(Object.assign(new EnvironmentSchema(), { NOTIFY_RETENTION_DAYS: days }));
}

function event(
  id: string,
  createdAt: number,
  topic: OutboxTopic = 'notification',
): OutboxEventInput {
  return {
    id,
    topic,
    type: topic === 'notification' ? 'key.budget_exhausted' : 'usage.recorded',
    dedupeKey: `${topic}:${id}`,
    payload: {},
    createdAt,
  };
}

function delivery(
  id: string,
  status: DeliveryStatus,
  createdAt: number,
  updatedAt = createdAt,
): NotificationDeliveryRecord {
  return {
    id,
    event_id: `ev-${id}`,
    target_id: 'target-1',
    event_type: 'key.budget_exhausted',
    message: '{}',
    status,
    attempts: 1,
    next_attempt_at: status === 'pending' ? NOW : null,
    last_status: null,
    last_error: null,
    last_duration_ms: null,
    delivered_at: status === 'delivered' ? updatedAt : null,
    created_at: createdAt,
    updated_at: updatedAt,
  };
}

async function ids(db: Db, table: 'outbox_events' | 'notification_deliveries'): Promise<string[]> {
  const rows = await db.selectFrom(table).select('id').orderBy('id').execute();
  return rows.map((r) => r.id);
}

function retentionContract(open: () => Promise<{ db: Db; close(): Promise<void> }>): void {
  let db: Db;
  let close: () => Promise<void>;
  let outbox: OutboxRepository;
  let deliveries: NotificationDeliveriesRepository;
  let store: LocalCoordinatorStore;
  let coordinator: LocalCoordinator;

  function retention(days = RETENTION_DAYS): NotificationRetentionService {
    return new NotificationRetentionService(config(days), outbox, deliveries, coordinator);
  }

  beforeEach(async () => {
    ({ db, close } = await open());
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
    outbox = new OutboxRepository(db);
    deliveries = new NotificationDeliveriesRepository(db);
    store = new LocalCoordinatorStore();
    coordinator = new LocalCoordinator({ instanceId: 'a', store });

    const old = Array.from({ length: OLD_PROCESSED }, (_, i) =>
      event(`old-done-${String(i).padStart(5, '0')}`, OLD),
    );
    for (let i = 0; i < old.length; i += 1000) await outbox.append(old.slice(i, i + 1000));
    await outbox.markProcessed(
      old.map((e) => e.id!),
      OLD + 1000,
    );
    await outbox.append([
      event('old-pending', OLD),
      event('recent-done', RECENT),
      event('old-usage-done', OLD, 'usage'),
    ]);
    await outbox.markProcessed(['recent-done', 'old-usage-done'], RECENT);

    await db
      .insertInto('notification_targets')
      .values({
        id: 'target-1',
        name: 'hook',
        kind: 'webhook',
        enabled: 1,
        events: null,
        config: '{}',
        secrets: null,
        created_at: OLD,
        updated_at: OLD,
      })
      .execute();
    await deliveries.insertMany([
      delivery('d-old-delivered', 'delivered', OLD),
      delivery('d-old-failed', 'failed', OLD),
      delivery('d-old-pending', 'pending', OLD),
      delivery('d-recent-delivered', 'delivered', RECENT),
      // Created long ago, queued again by hand and given up recently: kept a full period.
      delivery('d-old-failed-again', 'failed', OLD, RECENT),
    ]);
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await coordinator.close();
    await close();
  });

  it('should delete old processed events and finished deliveries, in batches, and keep the rest', async () => {
    expect(await retention().prune(NOW)).toEqual({ events: OLD_PROCESSED, deliveries: 2 });
    expect(await ids(db, 'outbox_events')).toEqual([
      'old-pending',
      'old-usage-done',
      'recent-done',
    ]);
    expect(await ids(db, 'notification_deliveries')).toEqual([
      'd-old-failed-again',
      'd-old-pending',
      'd-recent-delivered',
    ]);
    expect(await retention().prune(NOW)).toEqual({ events: 0, deliveries: 0 });
  });

  it('should let a pruned event dedupe key fire again, once', async () => {
    const again = event('old-done-00000-again', NOW);
    again.dedupeKey = 'notification:old-done-00000';
    expect(await outbox.append([again])).toBe(0);
    await retention().prune(NOW);
    expect(await outbox.append([again])).toBe(1);
    expect(await outbox.append([{ ...again, id: 'third' }])).toBe(0);
  });

  it('should keep everything when NOTIFY_RETENTION_DAYS is 0', async () => {
    const before = await ids(db, 'notification_deliveries');
    expect(await retention(0).prune(NOW)).toBeNull();
    expect(await ids(db, 'notification_deliveries')).toEqual(before);
    expect((await ids(db, 'outbox_events')).length).toBe(OLD_PROCESSED + 3);
  });

  it('should leave the job to the instance that holds its lock', async () => {
    const other = new LocalCoordinator({ instanceId: 'b', store });
    const lock = await other.acquireLock(NOTIFICATION_RETENTION_LOCK, 60_000);
    expect(lock).not.toBeNull();
    expect(await retention().prune(NOW)).toBeNull();
    expect((await ids(db, 'outbox_events')).length).toBe(OLD_PROCESSED + 3);
    expect((await ids(db, 'notification_deliveries')).length).toBe(5);
    await other.close();
    expect(await retention().prune(NOW)).toEqual({ events: OLD_PROCESSED, deliveries: 2 });
  });
}

describe('notification retention on SQLite', () => {
  retentionContract(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-notify-retention-'));
    const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    await migrateToLatest(db);
    return { db, close: () => db.destroy() };
  });
});

describeWithPostgres('notification retention on PostgreSQL', (baseUrl) => {
  retentionContract(async () => {
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
