import { useState, type FormEvent, type ReactNode } from 'react';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Download, Filter } from 'lucide-react';
import { api, download, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Field, Input, Select } from '@/components/ui/form';
import { Badge, ErrorState, PageHeader } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { cn } from '@/lib/cn';
import { formatDate } from '@/lib/format';
import { AuditDiff, type AuditEntry } from './audit-diff';

interface AuditPage {
  items: AuditEntry[];
  total: number;
  page: number;
  pageSize: number;
}

/** The filter form: text as typed; times as `datetime-local` values (local time). */
interface Filters {
  actor: string;
  action: string;
  targetType: string;
  targetId: string;
  outcome: '' | 'success' | 'failure';
  from: string;
  to: string;
}

const NO_FILTERS: Filters = {
  actor: '',
  action: '',
  targetType: '',
  targetId: '',
  outcome: '',
  from: '',
  to: '',
};

/** The query the list and the CSV export share: filled filters only, times as epoch ms. */
export function auditQuery(filters: Filters, order: 'asc' | 'desc'): Record<string, string> {
  const query: Record<string, string> = {};
  for (const key of ['actor', 'action', 'targetType', 'targetId', 'outcome'] as const) {
    const value = filters[key].trim();
    if (value) query[key] = value;
  }
  for (const key of ['from', 'to'] as const) {
    const time = filters[key] ? new Date(filters[key]).getTime() : NaN;
    if (!Number.isNaN(time)) query[key] = String(time);
  }
  if (order !== 'desc') query.order = order;
  return query;
}

function OutcomeBadge({ entry }: { entry: AuditEntry }) {
  return entry.outcome === 'success' ? (
    <Badge tone="success">{entry.outcome}</Badge>
  ) : (
    <Badge tone="danger">
      {entry.outcome}
      {entry.status ? ` · ${entry.status}` : ''}
    </Badge>
  );
}

export default function AuditPage() {
  const { t } = useTranslation('audit');
  const [draft, setDraft] = useState<Filters>(NO_FILTERS);
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [open, setOpen] = useState<AuditEntry | null>(null);
  // On a phone the filter form starts folded so the entries come first.
  const [showFilters, setShowFilters] = useState(
    () => globalThis.matchMedia?.('(min-width: 640px)').matches ?? true,
  );

  const filterQuery = auditQuery(filters, order);
  const list = useQuery({
    queryKey: ['audit', filterQuery, page, pageSize],
    queryFn: async () =>
      (await unwrap(
        await api.GET('/admin/api/audit', {
          params: { query: { ...filterQuery, page, pageSize } as never },
        }),
      )) as unknown as AuditPage,
  });

  const exportCsv = useMutation({
    mutationFn: () =>
      download(
        `/admin/api/audit/export.csv?${new URLSearchParams(filterQuery).toString()}`,
        'switchyard-audit.csv',
      ),
  });

  const set = (key: keyof Filters) => (event: { target: { value: string } }) =>
    setDraft({ ...draft, [key]: event.target.value });

  const apply = (event: FormEvent) => {
    event.preventDefault();
    setPage(1);
    setFilters(draft);
  };

  const columns: Column<AuditEntry>[] = [
    {
      key: 'at',
      header: t('col.at'),
      className: 'whitespace-nowrap',
      cell: (entry) => formatDate(entry.at),
    },
    {
      key: 'actor',
      header: t('col.actor'),
      cell: (entry) => (
        <span className="whitespace-nowrap">
          {entry.actor}
          {entry.actorRole && (
            <span className="ml-1 text-[12px] text-muted">{entry.actorRole}</span>
          )}
        </span>
      ),
    },
    {
      key: 'action',
      header: t('col.action'),
      cell: (entry) => (
        <button
          type="button"
          className="text-left font-mono text-[13px] whitespace-nowrap text-primary hover:underline"
          onClick={(event) => {
            event.stopPropagation();
            setOpen(entry);
          }}
        >
          {entry.action}
        </button>
      ),
    },
    {
      key: 'target',
      header: t('col.target'),
      cell: (entry) =>
        entry.targetType ? (
          <span className="text-[13px] whitespace-nowrap">
            {entry.targetType}
            {entry.targetId && (
              <span
                className="ml-1 inline-block max-w-[16ch] truncate align-bottom font-mono text-muted"
                title={entry.targetId}
              >
                {entry.targetId}
              </span>
            )}
          </span>
        ) : (
          '—'
        ),
    },
    { key: 'outcome', header: t('col.outcome'), cell: (entry) => <OutcomeBadge entry={entry} /> },
    {
      key: 'source',
      header: t('col.source'),
      cell: (entry) => <span className="font-mono text-[12.5px] text-muted">{entry.source}</span>,
    },
  ];

  return (
    <div>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          <Button loading={exportCsv.isPending} onClick={() => exportCsv.mutate()}>
            <Download className="size-4" aria-hidden />
            {t('actions.export', { ns: 'common' })}
          </Button>
        }
      />
      {exportCsv.error && (
        <div className="mb-3">
          <ErrorState error={exportCsv.error} />
        </div>
      )}
      <Button
        className="mb-2 sm:hidden"
        aria-expanded={showFilters}
        aria-controls="audit-filters"
        onClick={() => setShowFilters(!showFilters)}
      >
        <Filter className="size-4" aria-hidden />
        {t('filters')}
      </Button>
      <form
        id="audit-filters"
        aria-label={t('filters')}
        onSubmit={apply}
        className={cn(
          'mb-3 grid-cols-1 gap-3 rounded-lg border border-border bg-surface p-3 sm:grid sm:grid-cols-2 lg:grid-cols-4',
          showFilters ? 'grid' : 'hidden',
        )}
      >
        <Field label={t('actor')} hint={t('actorHint')}>
          {(props) => <Input {...props} value={draft.actor} onChange={set('actor')} />}
        </Field>
        <Field label={t('action')} hint={t('actionHint')}>
          {(props) => <Input {...props} value={draft.action} onChange={set('action')} />}
        </Field>
        <Field label={t('targetType')}>
          {(props) => <Input {...props} value={draft.targetType} onChange={set('targetType')} />}
        </Field>
        <Field label={t('targetId')}>
          {(props) => <Input {...props} value={draft.targetId} onChange={set('targetId')} />}
        </Field>
        <Field label={t('outcome')}>
          {(props) => (
            <Select {...props} value={draft.outcome} onChange={set('outcome')}>
              <option value="">{t('outcomeAll')}</option>
              <option value="success">{t('outcomeSuccess')}</option>
              <option value="failure">{t('outcomeFailure')}</option>
            </Select>
          )}
        </Field>
        <Field label={t('from')}>
          {(props) => (
            <Input {...props} type="datetime-local" value={draft.from} onChange={set('from')} />
          )}
        </Field>
        <Field label={t('to')}>
          {(props) => (
            <Input {...props} type="datetime-local" value={draft.to} onChange={set('to')} />
          )}
        </Field>
        <div className="flex items-end gap-2">
          <Button type="submit" variant="primary">
            {t('apply')}
          </Button>
          <Button
            onClick={() => {
              setDraft(NO_FILTERS);
              setFilters(NO_FILTERS);
              setPage(1);
            }}
          >
            {t('clear')}
          </Button>
        </div>
      </form>
      <div className="mb-2 flex justify-end">
        <label className="flex items-center gap-2 text-muted">
          {t('order')}
          <Select
            className="sm:w-auto"
            value={order}
            onChange={(event) => {
              setPage(1);
              setOrder(event.target.value as 'asc' | 'desc');
            }}
          >
            <option value="desc">{t('newest')}</option>
            <option value="asc">{t('oldest')}</option>
          </Select>
        </label>
      </div>
      <DataTable
        caption={t('caption')}
        columns={columns}
        rows={list.data?.items}
        rowKey={(entry) => entry.id}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        onRowClick={(entry) => setOpen(entry)}
        empty={t('empty')}
      />
      {list.data && list.data.total > 0 && (
        <Pagination
          page={page}
          pageSize={pageSize}
          total={list.data.total}
          onPageChange={setPage}
          onPageSizeChange={(size) => {
            setPage(1);
            setPageSize(size);
          }}
        />
      )}
      {open && <EntryDialog entry={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

function EntryDialog({ entry, onClose }: { entry: AuditEntry; onClose: () => void }) {
  const { t } = useTranslation('audit');
  const facts: Array<[string, ReactNode]> = [
    [t('detail.at'), formatDate(entry.at)],
    [t('detail.actor'), entry.actor],
    [t('detail.role'), entry.actorRole ?? '—'],
    [t('detail.source'), entry.source],
    [t('detail.action'), <code key="a">{entry.action}</code>],
    [
      t('detail.target'),
      entry.targetType ? (
        <span key="t" className="break-all">
          {entry.targetType} <code>{entry.targetId}</code>
        </span>
      ) : (
        '—'
      ),
    ],
    [t('detail.outcome'), <OutcomeBadge key="o" entry={entry} />],
    [t('detail.requestId'), entry.requestId ? <code key="r">{entry.requestId}</code> : '—'],
  ];
  return (
    <Dialog
      open
      wide
      onOpenChange={(isOpen) => !isOpen && onClose()}
      title={t('detail.title')}
      description={`${entry.action} · ${formatDate(entry.at)}`}
    >
      <dl className="mb-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1">
        {facts.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="text-muted">{label}</dt>
            <dd className="min-w-0">{value}</dd>
          </div>
        ))}
      </dl>
      <AuditDiff entry={entry} />
    </Dialog>
  );
}
