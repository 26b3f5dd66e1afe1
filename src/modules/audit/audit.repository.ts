import { Injectable } from '@nestjs/common';
import { sql, type ExpressionBuilder, type SelectQueryBuilder } from 'kysely';
import { InjectDb } from 'src/infra/database/database.module';
import type { AuditLogTable, Database, Db } from 'src/infra/database/database.types';
import type { AuditFilter } from './audit.types';

type AuditQuery = SelectQueryBuilder<Database, 'audit_log', object>;

/** `%`, `_` and the escape itself taken literally in a LIKE pattern (escape character `\`). */
function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;
}

/** Where a keyset page continues: after this row in the chosen order. */
export interface AuditCursor {
  at: number;
  id: string;
}

@Injectable()
export class AuditRepository {
  constructor(@InjectDb() private readonly db: Db) {}

  async insertMany(rows: AuditLogTable[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db.insertInto('audit_log').values(rows).execute();
  }

  /** One page by offset, newest first (or oldest first), with the total matching. */
  async list(
    filter: AuditFilter,
    page: { offset: number; limit: number; order: 'asc' | 'desc' },
  ): Promise<{ rows: AuditLogTable[]; total: number }> {
    const [rows, count] = await Promise.all([
      this.filtered(filter)
        .selectAll()
        .orderBy('at', page.order)
        .orderBy('id', page.order)
        .offset(page.offset)
        .limit(page.limit)
        .execute(),
      this.filtered(filter)
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .executeTakeFirstOrThrow(),
    ]);
    return { rows, total: Number(count.n) };
  }

  /** The rows after `cursor` in the order, for streaming every match without an offset scan. */
  async after(
    filter: AuditFilter,
    cursor: AuditCursor | null,
    limit: number,
    order: 'asc' | 'desc',
  ): Promise<AuditLogTable[]> {
    let query = this.filtered(filter);
    if (cursor !== null) {
      const op = order === 'desc' ? '<' : '>';
      query = query.where((eb: ExpressionBuilder<Database, 'audit_log'>) =>
        eb.or([
          eb('at', op, cursor.at),
          eb.and([eb('at', '=', cursor.at), eb('id', op, cursor.id)]),
        ]),
      );
    }
    return query.selectAll().orderBy('at', order).orderBy('id', order).limit(limit).execute();
  }

  /** Deletes up to `limit` of the oldest rows before `before`; returns how many went. */
  async prune(before: number, limit: number): Promise<number> {
    const result = await this.db
      .deleteFrom('audit_log')
      .where(
        'id',
        'in',
        this.db.selectFrom('audit_log').select('id').where('at', '<', before).limit(limit),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  private filtered(filter: AuditFilter): AuditQuery {
    let query: AuditQuery = this.db.selectFrom('audit_log');
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) {
      query = filter.action.endsWith('*')
        ? query.where(
            sql<boolean>`action like ${likePrefix(filter.action.slice(0, -1))} escape '\\'`,
          )
        : query.where('action', '=', filter.action);
    }
    if (filter.targetType !== undefined) query = query.where('target_type', '=', filter.targetType);
    if (filter.targetId !== undefined) query = query.where('target_id', '=', filter.targetId);
    if (filter.outcome === 'failure') query = query.where('outcome', '!=', 'success');
    else if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome);
    if (filter.from !== undefined) query = query.where('at', '>=', filter.from);
    if (filter.to !== undefined) query = query.where('at', '<', filter.to);
    return query;
  }
}
