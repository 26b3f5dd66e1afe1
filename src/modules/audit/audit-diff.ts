import { isSecretField, REDACTED, sanitize } from './audit-sanitizer';

/** One changed field: its dotted path and the values on either side (absent: not there). */
export interface AuditChange {
  field: string;
  before?: unknown;
  after?: unknown;
  /** A secret field that changed: the values are not stored, only that it changed. */
  redacted?: true;
}

/** Nested plain objects are compared field by field to this depth; deeper values as wholes. */
const MAX_DIFF_DEPTH = 6;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date)
  );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The fields that differ between two snapshots of a target (either may be null: created, deleted).
 * Computed on the raw snapshots so a secret that changed is still reported as changed (with
 * `redacted: true` and no values); every value written out is sanitized. Arrays compare as wholes.
 */
export function auditDiff(before: unknown, after: unknown): AuditChange[] {
  const changes: AuditChange[] = [];
  walk(isPlainObject(before) ? before : {}, isPlainObject(after) ? after : {}, '', 0, changes);
  if (!isPlainObject(before) && before !== null && before !== undefined) {
    changes.unshift({ field: '', before: sanitize(before) });
  }
  if (!isPlainObject(after) && after !== null && after !== undefined) {
    changes.push({ field: '', after: sanitize(after) });
  }
  return changes;
}

function walk(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  prefix: string,
  depth: number,
  changes: AuditChange[],
): void {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  for (const key of keys) {
    const field = prefix === '' ? key : `${prefix}.${key}`;
    const hasBefore =
      Object.prototype.hasOwnProperty.call(before, key) && before[key] !== undefined;
    const hasAfter = Object.prototype.hasOwnProperty.call(after, key) && after[key] !== undefined;
    const b = before[key];
    const a = after[key];
    if (hasBefore && hasAfter && same(b, a)) continue;
    if (isSecretField(key)) {
      const change: AuditChange = { field, redacted: true };
      if (hasBefore) change.before = b === null || typeof b === 'boolean' ? b : REDACTED;
      if (hasAfter) change.after = a === null || typeof a === 'boolean' ? a : REDACTED;
      changes.push(change);
      continue;
    }
    if (isPlainObject(b) && isPlainObject(a) && depth + 1 < MAX_DIFF_DEPTH) {
      walk(b, a, field, depth + 1, changes);
      continue;
    }
    const change: AuditChange = { field };
    if (hasBefore) change.before = sanitize(b);
    if (hasAfter) change.after = sanitize(a);
    changes.push(change);
  }
}
