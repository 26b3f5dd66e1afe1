import BetterSqlite3 from 'better-sqlite3';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrateToLatest } from './database.factory';

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe(createDatabase.name, () => {
  describe('sqlite', () => {
    it('should create the data directory 0700 and the database, -wal and -shm files 0600', async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'sy-db-modes-')), 'data');
      const file = join(dataDir, 'switchyard.db');
      const db = createDatabase({ engine: 'sqlite', sqliteFile: file });
      try {
        await migrateToLatest(db);
        // WAL mode keeps both side files while the connection is open.
        expect(existsSync(`${file}-wal`)).toBe(true);
        expect(existsSync(`${file}-shm`)).toBe(true);
        expect({
          dir: mode(dataDir),
          db: mode(file),
          wal: mode(`${file}-wal`),
          shm: mode(`${file}-shm`),
        }).toEqual({ dir: 0o700, db: 0o600, wal: 0o600, shm: 0o600 });
      } finally {
        await db.destroy();
      }
    });

    it('should narrow the files of an older install that were readable by others', async () => {
      const dataDir = join(mkdtempSync(join(tmpdir(), 'sy-db-modes-')), 'data');
      mkdirSync(dataDir);
      chmodSync(dataDir, 0o755);
      const file = join(dataDir, 'switchyard.db');
      const old = new BetterSqlite3(file);
      old.pragma('journal_mode = WAL');
      old.exec('create table t (x integer)');
      chmodSync(file, 0o644);
      old.close();
      expect(mode(file)).toBe(0o644);

      const db = createDatabase({ engine: 'sqlite', sqliteFile: file });
      try {
        await migrateToLatest(db);
        expect([mode(dataDir), mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([
          0o700, 0o600, 0o600, 0o600,
        ]);
      } finally {
        await db.destroy();
      }
    });
  });
});
