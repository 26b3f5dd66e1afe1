import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';

/** The row shape this migration writes; the app's types live in database.types.ts. */
interface SeedRow {
  id: string;
  pattern: string;
  platform: string;
  target_model: string | null;
  position: number;
  enabled: number;
  note: string | null;
  created_at: number;
  updated_at: number;
}

/**
 * Which platform serves a model name, seeded with the routing that was built in before, as rows
 * so an admin can see, edit or disable them. Spaced by 10 so a route fits between any two.
 */
const DEFAULT_ROUTES: readonly (readonly [pattern: string, platform: string])[] = [
  ['claude-*', 'claude'],
  ['gpt-*', 'openai'],
  ['chatgpt-*', 'openai'],
  ['o1*', 'openai'],
  ['o3*', 'openai'],
  ['o4*', 'openai'],
  ['codex-*', 'openai'],
  ['gemini-*', 'gemini'],
];

/**
 * Model routes: an exact name or a `*` pattern (stored lower-case, matched ignoring case) to the
 * platform whose accounts serve it, optionally renaming the model (an alias).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('model_routes')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('pattern', 'varchar(200)', (c) => c.notNull())
    .addColumn('platform', 'varchar(16)', (c) => c.notNull())
    .addColumn('target_model', 'varchar(200)')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // One route per pattern: two rows for one exact name would leave which one wins to chance.
  await db.schema
    .createIndex('model_routes_pattern_uq')
    .on('model_routes')
    .column('pattern')
    .unique()
    .execute();

  const now = Date.now();
  await (db as unknown as Kysely<{ model_routes: SeedRow }>)
    .insertInto('model_routes')
    .values(
      DEFAULT_ROUTES.map(([pattern, platform], i) => ({
        id: randomUUID(),
        pattern,
        platform,
        target_model: null,
        position: (i + 1) * 10,
        enabled: 1,
        note: 'built-in default',
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
}
