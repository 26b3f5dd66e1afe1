import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { createDatabase, migrateToLatest } from 'src/infra/database/database.factory';
import type { Database } from 'src/infra/database/database.types';
import { MIGRATION_NAMES } from 'src/infra/database/migrations';
import { createTempPostgresDatabase, type TempDatabase } from '../support/databases';
import { describeWithPostgres } from '../support/services';

async function migrationContract(db: Kysely<Database>): Promise<void> {
  const first = await migrateToLatest(db);
  expect(first).toEqual(MIGRATION_NAMES);
  // A second start applies nothing and keeps the data.
  await db
    .insertInto('settings')
    .values({ key: 'probe', value: '1', updated_at: Date.now() })
    .execute();
  expect(await migrateToLatest(db)).toEqual([]);
  const row = await db
    .selectFrom('settings')
    .selectAll()
    .where('key', '=', 'probe')
    .executeTakeFirst();
  expect(row?.value).toBe('1');
  const applied = await sql<{
    name: string;
  }>`select name from kysely_migration order by name`.execute(db);
  expect(applied.rows.map((r) => r.name)).toEqual(MIGRATION_NAMES);
}

describe('database migrations on SQLite', () => {
  it('should apply every migration once and keep data when run again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sy-sqlite-'));
    const db = createDatabase({ engine: 'sqlite', sqliteFile: join(dir, 'switchyard.db') });
    try {
      await migrationContract(db);
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      expect(mode.rows[0]?.journal_mode).toBe('wal');
    } finally {
      await db.destroy();
    }
  });
});

describeWithPostgres('database migrations on PostgreSQL', (baseUrl) => {
  let temp: TempDatabase;
  beforeAll(async () => {
    temp = await createTempPostgresDatabase(baseUrl);
  });
  afterAll(async () => {
    await temp?.drop();
  });

  it('should apply every migration once and keep data when run again', async () => {
    const db = createDatabase({ engine: 'postgres', url: temp.url, poolSize: 2 });
    try {
      await migrationContract(db);
    } finally {
      await db.destroy();
    }
  });

  it('should let concurrent starts migrate without conflict', async () => {
    const other = await createTempPostgresDatabase(baseUrl);
    const a = createDatabase({ engine: 'postgres', url: other.url, poolSize: 2 });
    const b = createDatabase({ engine: 'postgres', url: other.url, poolSize: 2 });
    try {
      const [ra, rb] = await Promise.all([migrateToLatest(a), migrateToLatest(b)]);
      expect([...ra, ...rb].sort()).toEqual([...MIGRATION_NAMES].sort());
    } finally {
      await a.destroy();
      await b.destroy();
      await other.drop();
    }
  });
});
