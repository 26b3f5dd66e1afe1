import { useState, type FormEvent } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useMatch, useNavigate, useSearchParams } from 'react-router';
import { Download, RefreshCw } from 'lucide-react';
import { api, ApiError, download, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Field, Input, Select } from '@/components/ui/form';
import { Card, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { Pagination } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import {
  isRangePreset,
  OUTCOMES,
  PLATFORMS,
  presetRange,
  RANGE_PRESETS,
  RequestDetailBody,
  RequestDialog,
  RequestTable,
  useNames,
  type Outcome,
  type RequestSortField,
  type Sort,
} from './shared';

type Platform = (typeof PLATFORMS)[number];
const SORT_FIELDS: RequestSortField[] = [
  'at',
  'costMicros',
  'latencyMs',
  'inputTokens',
  'outputTokens',
];

/** The log's state lives in the URL, so a filtered view can be shared and survives reloads. */
interface LogState {
  range: string;
  from?: string;
  to?: string;
  keyId?: string;
  accountId?: string;
  model?: string;
  platform?: Platform;
  outcome?: Outcome;
  status?: number;
  page: number;
  pageSize: number;
  sort: Sort;
}

function readState(params: URLSearchParams): LogState {
  const get = (name: string) => params.get(name) || undefined;
  const status = Number(params.get('status'));
  const sortBy = params.get('sortBy') as RequestSortField | null;
  const platform = get('platform') as Platform | undefined;
  const outcome = get('outcome') as Outcome | undefined;
  return {
    range: params.get('range') ?? 'h24',
    from: get('from'),
    to: get('to'),
    keyId: get('keyId'),
    accountId: get('accountId'),
    model: get('model'),
    platform: platform && PLATFORMS.includes(platform) ? platform : undefined,
    outcome: outcome && OUTCOMES.includes(outcome) ? outcome : undefined,
    status: params.get('status') && Number.isInteger(status) ? status : undefined,
    page: Math.max(1, Number(params.get('page')) || 1),
    pageSize: Number(params.get('pageSize')) || 50,
    sort: {
      sortBy: sortBy && SORT_FIELDS.includes(sortBy) ? sortBy : 'at',
      sortOrder: params.get('sortOrder') === 'asc' ? 'asc' : 'desc',
    },
  };
}

/** `datetime-local` value (local time, minutes) of an epoch ms, and back. */
function toLocalInput(ms: number): string {
  const date = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return date.toISOString().slice(0, 16);
}

function rangeOf(state: LogState): { from: number; to: number } {
  if (state.range === 'custom') {
    const from = state.from ? Date.parse(state.from) : NaN;
    const to = state.to ? Date.parse(state.to) : NaN;
    const fallback = presetRange('h24');
    return {
      from: Number.isNaN(from) ? fallback.from : from,
      to: Number.isNaN(to) ? fallback.to : to,
    };
  }
  return presetRange(isRangePreset(state.range) ? state.range : 'h24');
}

/** The filters the server takes, shared by the list and the CSV export. */
function filterQuery(state: LogState, range: { from: number; to: number }) {
  return {
    from: range.from,
    to: range.to,
    keyId: state.keyId,
    accountId: state.accountId,
    model: state.model,
    platform: state.platform,
    outcome: state.outcome,
    status: state.status,
  };
}

function Filters({ state, onApply }: { state: LogState; onApply: (next: LogState) => void }) {
  const { t } = useTranslation('usage');
  const names = useNames();
  const [draft, setDraft] = useState(state);
  const set = (patch: Partial<LogState>) => setDraft((d) => ({ ...d, ...patch }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply({ ...draft, page: 1 });
  };
  const custom = draft.range === 'custom';
  return (
    <form onSubmit={submit} className="mb-4" aria-label={t('filters.title')}>
      <Card>
        <div className="grid grid-cols-1 gap-3 sm:grid-cols-2 lg:grid-cols-4">
          <Field label={t('range.label')}>
            {(props) => (
              <Select
                {...props}
                value={draft.range}
                data-testid="filter-range"
                onChange={(event) => {
                  const range = event.target.value;
                  if (range === 'custom' && !draft.from) {
                    const current = rangeOf(draft);
                    set({ range, from: toLocalInput(current.from), to: toLocalInput(current.to) });
                  } else set({ range });
                }}
              >
                {RANGE_PRESETS.map((preset) => (
                  <option key={preset} value={preset}>
                    {t(`range.${preset}`)}
                  </option>
                ))}
                <option value="custom">{t('range.custom')}</option>
              </Select>
            )}
          </Field>
          {custom && (
            <>
              <Field label={t('range.from')}>
                {(props) => (
                  <Input
                    {...props}
                    type="datetime-local"
                    value={draft.from ?? ''}
                    onChange={(event) => set({ from: event.target.value })}
                  />
                )}
              </Field>
              <Field label={t('range.to')}>
                {(props) => (
                  <Input
                    {...props}
                    type="datetime-local"
                    value={draft.to ?? ''}
                    onChange={(event) => set({ to: event.target.value })}
                  />
                )}
              </Field>
            </>
          )}
          <Field label={t('filters.key')}>
            {(props) => (
              <Select
                {...props}
                value={draft.keyId ?? ''}
                data-testid="filter-key"
                onChange={(event) => set({ keyId: event.target.value || undefined })}
              >
                <option value="">{t('filters.any')}</option>
                {names.keys.map((key) => (
                  <option key={key.id} value={key.id}>
                    {key.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t('filters.account')}>
            {(props) => (
              <Select
                {...props}
                value={draft.accountId ?? ''}
                data-testid="filter-account"
                onChange={(event) => set({ accountId: event.target.value || undefined })}
              >
                <option value="">{t('filters.any')}</option>
                {names.accounts.map((account) => (
                  <option key={account.id} value={account.id}>
                    {account.name}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t('filters.model')}>
            {(props) => (
              <Input
                {...props}
                value={draft.model ?? ''}
                placeholder={t('filters.modelPlaceholder')}
                data-testid="filter-model"
                onChange={(event) => set({ model: event.target.value.trim() || undefined })}
              />
            )}
          </Field>
          <Field label={t('filters.platform')}>
            {(props) => (
              <Select
                {...props}
                value={draft.platform ?? ''}
                data-testid="filter-platform"
                onChange={(event) =>
                  set({ platform: (event.target.value || undefined) as Platform | undefined })
                }
              >
                <option value="">{t('filters.any')}</option>
                {PLATFORMS.map((platform) => (
                  <option key={platform} value={platform}>
                    {platform}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t('filters.outcome')}>
            {(props) => (
              <Select
                {...props}
                value={draft.outcome ?? ''}
                data-testid="filter-outcome"
                onChange={(event) =>
                  set({ outcome: (event.target.value || undefined) as Outcome | undefined })
                }
              >
                <option value="">{t('filters.any')}</option>
                {OUTCOMES.map((outcome) => (
                  <option key={outcome} value={outcome}>
                    {t(`outcomes.${outcome}`)}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field label={t('filters.status')}>
            {(props) => (
              <Input
                {...props}
                type="number"
                min={0}
                max={999}
                inputMode="numeric"
                value={draft.status ?? ''}
                data-testid="filter-status"
                onChange={(event) =>
                  set({
                    status: event.target.value === '' ? undefined : Number(event.target.value),
                  })
                }
              />
            )}
          </Field>
        </div>
        <div className="mt-3 flex flex-wrap justify-end gap-2">
          <Button
            onClick={() => {
              const cleared: LogState = {
                range: 'h24',
                page: 1,
                pageSize: state.pageSize,
                sort: state.sort,
              };
              setDraft(cleared);
              onApply(cleared);
            }}
          >
            {t('filters.clear')}
          </Button>
          <Button type="submit" variant="primary" data-testid="filter-apply">
            {t('filters.apply')}
          </Button>
        </div>
      </Card>
    </form>
  );
}

function RequestDetailQuery({ id, names }: { id: string; names: ReturnType<typeof useNames> }) {
  const { t } = useTranslation('usage');
  const query = useQuery({
    queryKey: ['usage', 'request', id],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/usage/requests/{id}', { params: { path: { id } } })),
  });
  if (query.error instanceof ApiError && query.error.status === 404) {
    return <p role="alert">{t('detail.notFound')}</p>;
  }
  if (query.error) return <ErrorState error={query.error} onRetry={() => void query.refetch()} />;
  if (!query.data) return <Spinner />;
  return <RequestDetailBody entry={query.data} names={names} linkAccount />;
}

export default function UsagePage() {
  const { t } = useTranslation('usage');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const detail = useMatch('/admin/usage/requests/:id');
  const state = readState(params);
  const [tick, setTick] = useState(0);
  const range = rangeOf(state);
  const names = useNames();
  const [exporting, setExporting] = useState(false);

  const apply = (next: LogState) => {
    const out = new URLSearchParams();
    const put = (name: string, value: string | number | undefined) => {
      if (value !== undefined && value !== '') out.set(name, String(value));
    };
    put('range', next.range === 'h24' ? undefined : next.range);
    if (next.range === 'custom') {
      put('from', next.from);
      put('to', next.to);
    }
    put('keyId', next.keyId);
    put('accountId', next.accountId);
    put('model', next.model);
    put('platform', next.platform);
    put('outcome', next.outcome);
    put('status', next.status);
    put('page', next.page === 1 ? undefined : next.page);
    put('pageSize', next.pageSize === 50 ? undefined : next.pageSize);
    put('sortBy', next.sort.sortBy === 'at' ? undefined : next.sort.sortBy);
    put('sortOrder', next.sort.sortOrder === 'desc' ? undefined : next.sort.sortOrder);
    setParams(out);
  };

  const query = {
    ...filterQuery(state, range),
    page: state.page,
    pageSize: state.pageSize,
    sortBy: state.sort.sortBy,
    sortOrder: state.sort.sortOrder,
  };
  const log = useQuery({
    queryKey: ['usage', 'requests', query, tick],
    queryFn: async () => unwrap(await api.GET('/admin/api/usage/requests', { params: { query } })),
    placeholderData: keepPreviousData,
  });

  const exportCsv = async () => {
    setExporting(true);
    try {
      const search = new URLSearchParams();
      for (const [name, value] of Object.entries(filterQuery(state, range))) {
        if (value !== undefined) search.set(name, String(value));
      }
      await download(
        `/admin/api/usage/requests/export.csv?${search.toString()}`,
        'switchyard-requests.csv',
      );
    } catch (error) {
      toast('error', t('log.exportFailed', { message: (error as Error).message }));
    } finally {
      setExporting(false);
    }
  };

  const search = params.toString() ? `?${params.toString()}` : '';
  return (
    <div>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          <>
            <Button onClick={() => setTick((n) => n + 1)} aria-label={tc('actions.refresh')}>
              <RefreshCw className="size-4" aria-hidden />
              <span className="hidden sm:inline">{tc('actions.refresh')}</span>
            </Button>
            <Button onClick={() => void exportCsv()} loading={exporting} data-testid="export-csv">
              <Download className="size-4" aria-hidden />
              {exporting ? t('log.exporting') : tc('actions.export')}
            </Button>
          </>
        }
      />
      <Filters key={params.toString()} state={state} onApply={apply} />
      <div data-testid="request-log">
        <RequestTable
          rows={log.data?.items}
          loading={log.isLoading}
          error={log.error}
          onRetry={() => void log.refetch()}
          names={names}
          sort={state.sort}
          onSort={(sort) => apply({ ...state, sort, page: 1 })}
          onOpen={(entry) =>
            void navigate(`/admin/usage/requests/${encodeURIComponent(entry.id)}${search}`)
          }
        />
      </div>
      {log.data && log.data.total > 0 && (
        <Pagination
          page={state.page}
          pageSize={state.pageSize}
          total={log.data.total}
          onPageChange={(page) => apply({ ...state, page })}
          onPageSizeChange={(pageSize) => apply({ ...state, pageSize, page: 1 })}
        />
      )}
      <RequestDialog
        id={detail?.params.id ?? null}
        onClose={() => void navigate(`/admin/usage${search}`)}
      >
        {detail?.params.id && <RequestDetailQuery id={detail.params.id} names={names} />}
      </RequestDialog>
    </div>
  );
}
