import type { AuditChange } from '../audit-diff';

export interface AuditEntryDto {
  id: string;
  /** ISO 8601, UTC. */
  at: string;
  actor: string;
  actorId: string | null;
  actorRole: string | null;
  /** The TCP peer address, or `local` for the CLI. */
  source: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  /** `success` or the error code answered. */
  outcome: string;
  status: number | null;
  requestId: string | null;
  /** The changed fields (a success with snapshots), else null. */
  diff: AuditChange[] | null;
  /** Sanitized snapshots of the target. */
  before: unknown;
  after: unknown;
}

export interface AuditPageDto {
  items: AuditEntryDto[];
  page: number;
  pageSize: number;
  total: number;
}
