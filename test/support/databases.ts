import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TempDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A fresh PostgreSQL database for one suite, so suites never see each other's rows. */
export async function createTempPostgresDatabase(baseUrl: string): Promise<TempDatabase> {
  const name = `sy_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new Client({ connectionString: baseUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
