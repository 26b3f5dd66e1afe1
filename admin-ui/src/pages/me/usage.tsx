import { useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '@/api/client';
import { Select } from '@/components/ui/form';
import { Card, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { Pagination } from '@/components/ui/table';
import { formatCost, formatNumber, formatPercent, formatTokens } from '@/lib/format';
import {
  BucketSelect,
  defaultBucket,
  MetricSelect,
  pointRows,
  RangeSelect,
  RequestDetailBody,
  RequestDialog,
  RequestTable,
  Stat,
  UsageChart,
  useRange,
  useSingleSeries,
  type Bucket,
  type Metric,
  type RangePreset,
  type RequestEntry,
} from '@/pages/usage/shared';

/** The signed-in user's own usage: every role, over their keys only (/admin/api/me/usage/*). */
export default function MyUsagePage() {
  const { t } = useTranslation('me');
  const { t: tu } = useTranslation('usage');
  const [preset, setPreset] = useState<RangePreset>('d7');
  const [bucket, setBucket] = useState<Bucket>(defaultBucket('d7'));
  const [metric, setMetric] = useState<Metric>('requests');
  const [keyId, setKeyId] = useState('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);
  const [open, setOpen] = useState<RequestEntry | null>(null);
  const { range } = useRange(preset);
  const filter = { ...range, keyId: keyId || undefined };
  const single = useSingleSeries(metric);

  const keys = useQuery({
    queryKey: ['me', 'keys', 'names'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/me/keys', {
          params: {
            query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' },
          },
        }),
      ),
  });
  const summary = useQuery({
    queryKey: ['me', 'usage', 'summary', filter],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/me/usage/summary', { params: { query: filter } })),
  });
  const series = useQuery({
    queryKey: ['me', 'usage', 'timeseries', filter, bucket],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/me/usage/timeseries', {
          params: { query: { ...filter, bucket } },
        }),
      ),
  });
  const requests = useQuery({
    queryKey: ['me', 'usage', 'requests', filter, page, pageSize],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/me/usage/requests', {
          params: { query: { ...filter, page, pageSize } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const keyName = (id: string | null) =>
    keys.data?.items.find((key) => key.id === id)?.name ?? id ?? '—';
  const names = { key: keyName, account: (id: string | null) => id ?? '—' };
  const s = summary.data;

  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title={t('usage.title')}
        description={t('usage.description')}
        actions={
          <>
            <Select
              aria-label={t('usage.key')}
              className="w-auto! max-w-48"
              value={keyId}
              data-testid="my-usage-key"
              onChange={(event) => {
                setKeyId(event.target.value);
                setPage(1);
              }}
            >
              <option value="">{t('usage.allKeys')}</option>
              {(keys.data?.items ?? []).map((key) => (
                <option key={key.id} value={key.id}>
                  {key.name}
                </option>
              ))}
            </Select>
            <RangeSelect
              value={preset}
              presets={['h24', 'd7', 'd30', 'd90']}
              onChange={(next) => {
                setPreset(next);
                setBucket(defaultBucket(next));
                setPage(1);
              }}
            />
            <BucketSelect value={bucket} onChange={setBucket} />
          </>
        }
      />
      {summary.error ? (
        <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
      ) : (
        <div className="grid grid-cols-2 gap-3 lg:grid-cols-4">
          <Stat
            label={tu('summary.requests')}
            value={s ? formatNumber(s.requests) : '—'}
            testId="my-requests"
          />
          <Stat
            label={tu('summary.tokens')}
            value={s ? formatTokens(s.totalTokens) : '—'}
            hint={
              s &&
              `${tu('tokenKinds.input')} ${formatTokens(s.inputTokens)} · ${tu('tokenKinds.output')} ${formatTokens(s.outputTokens)}`
            }
            testId="my-tokens"
          />
          <Stat
            label={tu('summary.cost')}
            value={s ? formatCost(s.costMicros / 1_000_000) : '—'}
            testId="my-cost"
          />
          <Stat
            label={tu('summary.errors')}
            value={s ? formatNumber(s.errors) : '—'}
            hint={
              s && s.requests > 0
                ? tu('summary.errorRate', { rate: formatPercent(s.errors / s.requests) })
                : undefined
            }
            testId="my-errors"
          />
        </div>
      )}
      <Card
        title={tu('chart.title')}
        actions={<MetricSelect value={metric} onChange={setMetric} />}
      >
        {series.error ? (
          <ErrorState error={series.error} onRetry={() => void series.refetch()} />
        ) : series.data ? (
          <UsageChart
            rows={pointRows(series.data.points, metric)}
            series={single.series}
            stacked={single.stacked}
            metric={metric}
            bucket={bucket}
          />
        ) : (
          <Spinner />
        )}
      </Card>
      <section>
        <h2 className="mb-2 text-[15px] font-semibold">{t('usage.requests')}</h2>
        <div data-testid="my-request-log">
          <RequestTable
            rows={requests.data?.items}
            loading={requests.isLoading}
            error={requests.error}
            onRetry={() => void requests.refetch()}
            names={names}
            showAccount={false}
            onOpen={setOpen}
          />
        </div>
        {requests.data && requests.data.total > 0 && (
          <Pagination
            page={page}
            pageSize={pageSize}
            total={requests.data.total}
            onPageChange={setPage}
            onPageSizeChange={(size) => {
              setPageSize(size);
              setPage(1);
            }}
          />
        )}
      </section>
      <RequestDialog id={open?.id ?? null} onClose={() => setOpen(null)}>
        {open && <RequestDetailBody entry={open} names={names} />}
      </RequestDialog>
    </div>
  );
}
