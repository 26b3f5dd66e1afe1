import { Injectable } from '@nestjs/common';
import type { AuditLogTable } from 'src/infra/database/database.types';
import type { AuditChange } from './audit-diff';
import { csvRow } from './audit-csv';
import { AuditException, AuditExceptionCode } from './audit.exception';
import { AuditRepository, type AuditCursor } from './audit.repository';
import type { AuditFilter } from './audit.types';
import type { AuditFilterQueryDto, AuditListQueryDto } from './dto/audit-query.dto';
import type { AuditEntryDto, AuditPageDto } from './dto/audit-response.dto';

const DEFAULT_PAGE_SIZE = 50;
/** Rows read per query while streaming an export. */
const EXPORT_CHUNK = 500;

/** The CSV columns, in order; `diff` is the JSON of the changed fields. */
export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'actor',
  'actorId',
  'actorRole',
  'source',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'status',
  'requestId',
  'diff',
] as const;

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function toEntryDto(row: AuditLogTable): AuditEntryDto {
  return {
    id: row.id,
    at: new Date(Number(row.at)).toISOString(),
    actor: row.actor,
    actorId: row.actor_id,
    actorRole: row.actor_role,
    source: row.source,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    outcome: row.outcome,
    status: row.status === null ? null : Number(row.status),
    requestId: row.request_id,
    diff: parseJson(row.diff) as AuditChange[] | null,
    before: parseJson(row.before),
    after: parseJson(row.after),
  };
}

/** One CSV line of an entry, in AUDIT_CSV_COLUMNS order. */
export function toCsvLine(entry: AuditEntryDto): string {
  return csvRow([
    entry.id,
    entry.at,
    entry.actor,
    entry.actorId,
    entry.actorRole,
    entry.source,
    entry.action,
    entry.targetType,
    entry.targetId,
    entry.outcome,
    entry.status,
    entry.requestId,
    entry.diff === null ? '' : JSON.stringify(entry.diff),
  ]);
}

/** The audit trail's read side: the admin list and the CSV export. */
@Injectable()
export class AuditService {
  constructor(private readonly repository: AuditRepository) {}

  async list(query: AuditListQueryDto): Promise<AuditPageDto> {
    const page = query.page ?? 1;
    const pageSize = query.pageSize ?? DEFAULT_PAGE_SIZE;
    const { rows, total } = await this.repository.list(this.filter(query), {
      offset: (page - 1) * pageSize,
      limit: pageSize,
      order: query.order ?? 'desc',
    });
    return { items: rows.map(toEntryDto), page, pageSize, total };
  }

  /**
   * Every matching row as CSV, header first, read in keyset chunks: memory stays flat however
   * many rows match, and rows written meanwhile do not shift the pages.
   */
  async *exportCsv(query: AuditFilterQueryDto): AsyncGenerator<string> {
    const filter = this.filter(query);
    const order = query.order ?? 'desc';
    yield csvRow(AUDIT_CSV_COLUMNS);
    let cursor: AuditCursor | null = null;
    for (;;) {
      const rows = await this.repository.after(filter, cursor, EXPORT_CHUNK, order);
      if (rows.length > 0) yield rows.map((row) => toCsvLine(toEntryDto(row))).join('');
      if (rows.length < EXPORT_CHUNK) return;
      const last = rows[rows.length - 1];
      cursor = { at: Number(last.at), id: last.id };
    }
  }

  private filter(query: AuditFilterQueryDto): AuditFilter {
    if (query.from !== undefined && query.to !== undefined && query.from >= query.to) {
      throw new AuditException(AuditExceptionCode.INVALID_RANGE, '`from` must be before `to`');
    }
    return {
      actor: query.actor,
      action: query.action,
      targetType: query.targetType,
      targetId: query.targetId,
      outcome: query.outcome,
      from: query.from,
      to: query.to,
    };
  }
}
