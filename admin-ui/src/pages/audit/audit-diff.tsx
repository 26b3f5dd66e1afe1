import { useTranslation } from 'react-i18next';
import { Badge } from '@/components/ui/misc';
import { cn } from '@/lib/cn';

/** One changed field of an audit entry (`GET /admin/api/audit`, src/modules/audit/audit-diff.ts). */
export interface AuditChange {
  field: string;
  before?: unknown;
  after?: unknown;
  /** A secret field that changed: the values are not stored. */
  redacted?: true;
}

/** An audit entry as `GET /admin/api/audit` answers it (src/modules/audit/dto). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  actorId: string | null;
  actorRole: string | null;
  source: string;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  status: number | null;
  requestId: string | null;
  diff: AuditChange[] | null;
  before: unknown;
  after: unknown;
}

/** A value as text: strings as they are, everything else as compact JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object's leaves by dotted path (`limits.concurrency`), arrays kept whole. */
export function flatten(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (!isRecord(value)) return prefix ? [[prefix, value]] : [];
  const entries = Object.entries(value);
  if (entries.length === 0 && prefix) return [[prefix, value]];
  return entries.flatMap(([key, inner]) => flatten(inner, prefix ? `${prefix}.${key}` : key));
}

function Value({
  value,
  present,
  tone,
}: {
  value: unknown;
  present: boolean;
  tone: 'old' | 'new';
}) {
  const { t } = useTranslation('audit');
  if (!present) return <span className="text-muted italic">{t('detail.absent')}</span>;
  return (
    <code
      className={cn(
        'rounded px-1 py-px font-mono text-[12.5px] break-all whitespace-pre-wrap',
        tone === 'old' ? 'bg-danger/10 text-danger' : 'bg-success/10 text-success',
      )}
    >
      {showValue(value)}
    </code>
  );
}

/**
 * The changed fields of an entry, before against after, then the whole record (after the change,
 * or before a removal) with the changed fields highlighted.
 */
export function AuditDiff({ entry }: { entry: AuditEntry }) {
  const { t } = useTranslation('audit');
  const diff = entry.diff ?? [];
  const record = entry.after ?? entry.before;
  const changed = (path: string) =>
    diff.some((change) => path === change.field || path.startsWith(`${change.field}.`));
  const rows = flatten(record);
  return (
    <div className="flex flex-col gap-4">
      <section>
        <h3 className="mb-2 font-semibold">{t('detail.changes')}</h3>
        {diff.length === 0 ? (
          <p className="text-muted">{t('detail.noChanges')}</p>
        ) : (
          <div className="overflow-x-auto rounded-md border border-border">
            <table className="w-full border-collapse text-left" data-testid="audit-diff">
              <thead className="bg-surface-2 text-[12.5px] text-muted">
                <tr>
                  <th scope="col" className="px-3 py-1.5 font-medium">
                    {t('detail.field')}
                  </th>
                  <th scope="col" className="px-3 py-1.5 font-medium">
                    {t('detail.before')}
                  </th>
                  <th scope="col" className="px-3 py-1.5 font-medium">
                    {t('detail.after')}
                  </th>
                </tr>
              </thead>
              <tbody>
                {diff.map((change) => (
                  <tr key={change.field} className="border-t border-border align-top">
                    <th scope="row" className="px-3 py-1.5 font-mono text-[12.5px] font-medium">
                      {change.field}
                    </th>
                    {change.redacted ? (
                      <td colSpan={2} className="px-3 py-1.5">
                        <Badge tone="warning">{t('detail.redacted')}</Badge>
                      </td>
                    ) : (
                      <>
                        <td className="px-3 py-1.5">
                          <Value value={change.before} present={'before' in change} tone="old" />
                        </td>
                        <td className="px-3 py-1.5">
                          <Value value={change.after} present={'after' in change} tone="new" />
                        </td>
                      </>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {rows.length > 0 && (
        <details open={diff.length > 0 && diff.length < rows.length ? true : undefined}>
          <summary className="cursor-pointer font-semibold">
            {entry.after ? t('detail.record') : t('detail.recordBefore')}
          </summary>
          <dl className="mt-2 grid grid-cols-1 overflow-hidden rounded-md border border-border sm:grid-cols-[minmax(10rem,auto)_1fr]">
            {rows.map(([path, value]) => {
              const hit = changed(path);
              return (
                <div
                  key={path}
                  data-changed={hit || undefined}
                  className={cn(
                    'contents',
                    hit && '[&>*]:bg-warning/10 [&>dt]:border-l-2 [&>dt]:border-l-warning',
                  )}
                >
                  <dt className="border-t border-border px-3 py-1 font-mono text-[12.5px] text-muted">
                    {path}
                    {hit && <span className="sr-only"> ({t('detail.changed')})</span>}
                  </dt>
                  <dd className="border-t border-border px-3 py-1 font-mono text-[12.5px] break-all">
                    {showValue(value)}
                  </dd>
                </div>
              );
            })}
          </dl>
        </details>
      )}
    </div>
  );
}
