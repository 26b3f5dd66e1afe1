import type { Kysely } from 'kysely';

/**
 * Routing rules (claude-code-router's `Router`, generalised): per key or global, by priority, a
 * condition (a request scenario and/or a model pattern) and a target model, optionally served by
 * one account group. The request log records the rule each request took.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('routing_rules')
    .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('name', 'varchar(100)', (c) => c.notNull())
    // Null: a global rule. No foreign key: keys are soft-deleted, and a restored key keeps its rules.
    .addColumn('api_key_id', 'varchar(36)')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('scenario', 'varchar(32)')
    .addColumn('model_pattern', 'varchar(200)')
    .addColumn('long_context_threshold', 'integer')
    .addColumn('target_model', 'varchar(200)', (c) => c.notNull())
    .addColumn('target_group_id', 'varchar(36)')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('routing_rules_key_idx')
    .on('routing_rules')
    .columns(['api_key_id', 'priority'])
    .execute();

  // The rule a request took (its id and its name then; the name stays readable after a delete).
  await db.schema.alterTable('request_log').addColumn('rule_id', 'varchar(36)').execute();
  await db.schema.alterTable('request_log').addColumn('rule_name', 'varchar(100)').execute();
}
