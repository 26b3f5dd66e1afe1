import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type MigrationResult } from 'kysely';
import { Pool, types } from 'pg';
import type { Database } from './database.types';
import { StaticMigrationProvider } from './migrations';

// Epoch-millisecond and micro-dollar columns are bigint; their values stay far below 2^53.
types.setTypeParser(20, (value: string) => Number(value));

export type DatabaseEngine = 'sqlite' | 'postgres';

export interface DatabaseOptions {
  engine: DatabaseEngine;
  /** SQLite file path (or ':memory:'). */
  sqliteFile?: string;
  /** PostgreSQL connection string. */
  url?: string;
  poolSize?: number;
}

const sqliteHandles = new WeakMap<Kysely<Database>, BetterSqlite3.Database>();

/**
 * The better-sqlite3 connection behind a database made by createDatabase on SQLite, for the few
 * hot writes that run prepared statements directly (undefined on PostgreSQL). Use it only while
 * holding Kysely's connection (`db.connection().execute(...)`), so no Kysely transaction is open
 * on it at the time.
 */
export function sqliteHandleOf(db: Kysely<Database>): BetterSqlite3.Database | undefined {
  return sqliteHandles.get(db);
}

/** Narrows a path's permission bits to `mode` when it is ours and looser (never widens). */
function restrictMode(path: string, mode: number): void {
  if (!existsSync(path)) return;
  const stat = statSync(path);
  const owned = typeof process.getuid !== 'function' || stat.uid === process.getuid();
  if (owned && (stat.mode & 0o777 & ~mode) !== 0) chmodSync(path, stat.mode & mode);
}

/**
 * The database holds encrypted credentials, key digests and the usage log: owner-only. SQLite
 * creates its -wal and -shm files with the mode of the database file, so creating that file
 * 0600 before SQLite opens it covers all three; files of an older install are narrowed.
 */
function preparePrivateSqliteFile(file: string): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  restrictMode(dir, 0o700);
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  for (const path of [file, `${file}-wal`, `${file}-shm`, `${file}-journal`]) {
    restrictMode(path, 0o600);
  }
}

export function createDatabase(options: DatabaseOptions): Kysely<Database> {
  if (options.engine === 'sqlite') {
    const file = options.sqliteFile ?? ':memory:';
    if (file !== ':memory:') preparePrivateSqliteFile(file);
    const sqlite = new BetterSqlite3(file);
    // WAL: readers never block the writer; NORMAL sync is durable across process crashes.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
    sqliteHandles.set(db, sqlite);
    return db;
  }
  const pool = new Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // A client losing its connection (idle in the pool, or checked out between two queries) must
  // not crash the process: the query in flight fails, the pool replaces the client.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export class MigrationError extends Error {
  constructor(
    readonly failedMigration: string | undefined,
    cause: unknown,
  ) {
    super(
      `Database migration ${failedMigration ?? ''} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'MigrationError';
  }
}

/** Applies pending migrations; returns the names applied by this call. */
export async function migrateToLatest(db: Kysely<Database>): Promise<string[]> {
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider() });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((r: MigrationResult) => r.status === 'Error');
    throw new MigrationError(failed?.migrationName, error);
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
