import { useState } from 'react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { RefreshCw } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Select } from '@/components/ui/form';
import { Badge, Card, EmptyState, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { DataTable } from '@/components/ui/table';
import {
  formatCost,
  formatDate,
  formatDuration,
  formatNumber,
  formatPercent,
  formatTokens,
} from '@/lib/format';
import {
  BucketSelect,
  cacheWrite,
  defaultBucket,
  formatMetric,
  MetricSelect,
  pointRows,
  RangeSelect,
  Stat,
  UsageChart,
  useNames,
  useRange,
  useSingleSeries,
  type Bucket,
  type Metric,
  type RangePreset,
} from '@/pages/usage/shared';

type GroupDim = 'model' | 'key' | 'account' | 'platform';
type Account = Schemas['AccountResponseDto'];
type AccountDetail = Schemas['AccountDetailResponseDto'];
const TOP_GROUPS = 5;
const LIVE_INTERVAL_MS = 5000;
const HEALTH_INTERVAL_MS = 30_000;
/** At most this many accounts that need action are looked up for their state's detail. */
const DETAIL_LOOKUPS = 20;

function LiveCard() {
  const { t } = useTranslation('dashboard');
  const live = useQuery({
    queryKey: ['usage', 'live'],
    queryFn: async () => unwrap(await api.GET('/admin/api/usage/live')),
    refetchInterval: LIVE_INTERVAL_MS,
    staleTime: 0,
  });
  return (
    <Card title={t('live.title')}>
      {live.error ? (
        <ErrorState error={live.error} onRetry={() => void live.refetch()} />
      ) : (
        <div className="flex flex-wrap items-end gap-x-6 gap-y-1">
          <div>
            <div className="text-3xl font-semibold tabular-nums" data-testid="dash-inflight">
              {live.data ? formatNumber(live.data.inFlight) : '—'}
            </div>
            <div className="text-muted">{t('live.requests')}</div>
          </div>
          <div className="text-muted" data-testid="dash-streams">
            {t('live.streams', { count: live.data?.streams ?? 0 })}
          </div>
          {live.data && (
            <p className="w-full truncate text-[12.5px] text-muted" title={t('live.perInstance')}>
              {t('live.instance', { instance: live.data.instance })}
            </p>
          )}
        </div>
      )}
    </Card>
  );
}

function Summary({
  summary,
  performance,
}: {
  summary: Schemas['UsageSummaryDto'] | undefined;
  performance: Schemas['UsagePerformanceDto'] | undefined;
}) {
  const { t } = useTranslation('dashboard');
  const rateTone = (rate: number | null | undefined) =>
    rate === null || rate === undefined
      ? undefined
      : rate >= 0.1
        ? 'danger'
        : rate >= 0.02
          ? 'warning'
          : undefined;
  return (
    <div className="grid grid-cols-2 gap-3 lg:grid-cols-5">
      <Stat
        label={t('stats.requests')}
        value={summary ? formatNumber(summary.requests) : '—'}
        testId="dash-requests"
      />
      <Stat
        label={t('stats.tokens')}
        value={summary ? formatTokens(summary.totalTokens) : '—'}
        hint={
          summary &&
          t('stats.tokensHint', {
            input: formatTokens(summary.inputTokens),
            output: formatTokens(summary.outputTokens),
          })
        }
        testId="dash-tokens"
      />
      <Stat
        label={t('stats.cost')}
        value={summary ? formatCost(summary.costMicros / 1_000_000) : '—'}
        hint={
          summary && summary.unpricedRequests > 0
            ? t('stats.unpriced', { count: summary.unpricedRequests })
            : undefined
        }
        testId="dash-cost"
      />
      <Stat
        label={t('stats.errorRate')}
        value={performance ? formatPercent(performance.errorRate) : '—'}
        hint={
          performance &&
          (performance.requests === 0
            ? t('stats.noRequests')
            : t('stats.errors', { count: performance.errors }))
        }
        tone={rateTone(performance?.errorRate)}
        testId="dash-error-rate"
      />
      <Stat
        label={t('stats.failoverRate')}
        value={performance ? formatPercent(performance.failoverRate) : '—'}
        hint={
          performance &&
          (performance.requests === 0
            ? t('stats.noRequests')
            : t('stats.failovers', { count: performance.failovers }))
        }
        tone={rateTone(performance?.failoverRate)}
        testId="dash-failover-rate"
      />
    </div>
  );
}

function Percentiles({ performance }: { performance: Schemas['UsagePerformanceDto'] | undefined }) {
  const { t } = useTranslation('dashboard');
  const { t: tu } = useTranslation('usage');
  if (!performance) return <Spinner />;
  const rows: [string, Schemas['DurationPercentilesDto'], string][] = [
    [t('latency.ttfb'), performance.ttfbMs, 'ttfb'],
    [t('latency.total'), performance.latencyMs, 'latency'],
  ];
  return (
    <div className="flex flex-col gap-4">
      <table className="w-full text-left tabular-nums">
        <thead className="text-[12.5px] text-muted">
          <tr>
            <th scope="col" className="py-1 font-medium" />
            <th scope="col" className="py-1 text-right font-medium">
              p50
            </th>
            <th scope="col" className="py-1 text-right font-medium">
              p95
            </th>
            <th scope="col" className="py-1 text-right font-medium">
              p99
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(([label, p, id]) => (
            <tr key={id} className="border-t border-border">
              <th scope="row" className="py-1.5 pr-2 font-normal">
                {label}
                <div className="text-[12px] text-muted">
                  {t('latency.samples', { count: p.samples })}
                </div>
              </th>
              <td className="py-1.5 text-right" data-testid={`dash-${id}-p50`}>
                {formatDuration(p.p50)}
              </td>
              <td className="py-1.5 text-right" data-testid={`dash-${id}-p95`}>
                {formatDuration(p.p95)}
              </td>
              <td className="py-1.5 text-right" data-testid={`dash-${id}-p99`}>
                {formatDuration(p.p99)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <div>
        <h3 className="mb-1 text-[12.5px] text-muted">{t('latency.outcomes')}</h3>
        <div className="flex flex-wrap gap-2">
          <Badge tone="success">
            {tu('outcomes.ok')} {formatNumber(performance.outcomes.ok)}
          </Badge>
          <Badge tone="danger">
            {tu('outcomes.error')} {formatNumber(performance.outcomes.error)}
          </Badge>
          <Badge tone="warning">
            {tu('outcomes.truncated')} {formatNumber(performance.outcomes.truncated)}
          </Badge>
          <Badge>
            {tu('outcomes.aborted')} {formatNumber(performance.outcomes.aborted)}
          </Badge>
        </div>
      </div>
    </div>
  );
}

function TokenKinds({ summary }: { summary: Schemas['UsageSummaryDto'] | undefined }) {
  const { t } = useTranslation('usage');
  if (!summary) return <Spinner />;
  const kinds: [string, number, string][] = [
    [t('tokenKinds.input'), summary.inputTokens, 'input'],
    [t('tokenKinds.output'), summary.outputTokens, 'output'],
    [t('tokenKinds.cacheWrite'), cacheWrite(summary), 'cache-write'],
    [t('tokenKinds.cacheRead'), summary.cacheReadTokens, 'cache-read'],
  ];
  const total = Math.max(1, summary.totalTokens);
  return (
    <ul className="flex flex-col gap-2">
      {kinds.map(([label, n, id]) => (
        <li key={id}>
          <div className="flex justify-between gap-2">
            <span>{label}</span>
            <span className="tabular-nums" data-testid={`dash-tokens-${id}`}>
              {formatTokens(n)}
            </span>
          </div>
          <div className="h-1.5 w-full overflow-hidden rounded bg-surface-2" aria-hidden>
            <div className="h-full bg-primary" style={{ width: `${(n / total) * 100}%` }} />
          </div>
        </li>
      ))}
    </ul>
  );
}

function OverTime({ range, bucket }: { range: { from: number; to: number }; bucket: Bucket }) {
  const { t } = useTranslation('dashboard');
  const [metric, setMetric] = useState<Metric>('requests');
  const [group, setGroup] = useState<GroupDim | 'none'>('none');
  const names = useNames();
  const single = useSingleSeries(metric);
  const all = useQuery({
    queryKey: ['usage', 'timeseries', range, bucket, 'all'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/usage/timeseries', {
          params: { query: { ...range, bucket } },
        }),
      ),
    enabled: group === 'none',
  });
  const breakdown = useQuery({
    queryKey: ['usage', 'breakdown', range, group],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/usage/breakdown', {
          params: { query: { ...range, dim: group as GroupDim, limit: TOP_GROUPS } },
        }),
      ),
    enabled: group !== 'none',
  });
  const ids = group === 'none' ? [] : (breakdown.data?.items ?? []).map((item) => item.id);
  const series = useQueries({
    queries: ids.map((id) => ({
      queryKey: ['usage', 'timeseries', range, bucket, group, id],
      queryFn: async () =>
        unwrap(
          await api.GET('/admin/api/usage/timeseries', {
            params: { query: { ...range, bucket, dim: group as GroupDim, dimId: id } },
          }),
        ),
    })),
  });
  const label = (id: string) =>
    group === 'key' ? names.key(id) : group === 'account' ? names.account(id) : id;

  // Cheap (a few hundred points): rebuilt on each render rather than memoised over a list of
  // query results whose length changes with the groups.
  let grouped: Array<Record<string, number | string>> | undefined;
  if (group !== 'none' && series.every((s) => s.data)) {
    const rows = new Map<string, Record<string, number | string>>();
    series.forEach((s, i) => {
      for (const p of s.data?.points ?? []) {
        const row = rows.get(p.start) ?? { start: p.start };
        row[`g${i}`] =
          metric === 'cost' ? p.costMicros : metric === 'tokens' ? p.totalTokens : p.requests;
        rows.set(p.start, row);
      }
    });
    grouped = [...rows.values()];
  }

  const error =
    group === 'none' ? all.error : (breakdown.error ?? series.find((s) => s.error)?.error);
  let body;
  if (error) body = <ErrorState error={error} />;
  else if (group === 'none') {
    body = all.data ? (
      <UsageChart
        rows={pointRows(all.data.points, metric)}
        series={single.series}
        stacked={single.stacked}
        metric={metric}
        bucket={bucket}
      />
    ) : (
      <Spinner />
    );
  } else if (breakdown.data && breakdown.data.items.length === 0) {
    body = <UsageChart rows={[]} series={[]} metric={metric} bucket={bucket} />;
  } else {
    body = grouped ? (
      <UsageChart
        rows={grouped}
        series={ids.map((id, i) => ({ key: `g${i}`, label: label(id) }))}
        metric={metric}
        bucket={bucket}
      />
    ) : (
      <Spinner />
    );
  }
  return (
    <Card
      title={t('chart.title')}
      actions={
        <>
          <MetricSelect value={metric} onChange={setMetric} />
          <Select
            aria-label={t('chart.groupBy')}
            className="w-auto!"
            value={group}
            data-testid="group-by"
            onChange={(event) => setGroup(event.target.value as GroupDim | 'none')}
          >
            <option value="none">{t('chart.none')}</option>
            <option value="model">{t('chart.model')}</option>
            <option value="key">{t('chart.key')}</option>
            <option value="account">{t('chart.account')}</option>
            <option value="platform">{t('chart.platform')}</option>
          </Select>
        </>
      }
      className="[&>header]:flex-wrap"
    >
      {body}
      {group !== 'none' && breakdown.data && breakdown.data.items.length > 0 && (
        <div className="mt-3">
          <p className="mb-1 text-[12.5px] text-muted">{t('chart.top', { count: TOP_GROUPS })}</p>
          <DataTable
            caption={t('breakdown.caption', { dim: t(`chart.${group}`) })}
            rows={breakdown.data.items}
            rowKey={(row) => row.id}
            columns={[
              { key: 'name', header: t('breakdown.name'), cell: (row) => label(row.id) },
              {
                key: 'requests',
                header: t('breakdown.requests'),
                className: 'text-right tabular-nums',
                cell: (row) => formatNumber(row.requests),
              },
              {
                key: 'errors',
                header: t('breakdown.errors'),
                className: 'text-right tabular-nums',
                cell: (row) => formatNumber(row.errors),
              },
              {
                key: 'tokens',
                header: t('breakdown.tokens'),
                className: 'text-right tabular-nums',
                cell: (row) => formatTokens(row.totalTokens),
              },
              {
                key: 'cost',
                header: t('breakdown.cost'),
                className: 'text-right tabular-nums',
                cell: (row) => formatMetric('cost', row.costMicros),
              },
            ]}
          />
        </div>
      )}
    </Card>
  );
}

type HealthKind =
  | 'ok'
  | 'cooling'
  | 'rate_limited'
  | 'auth_failed'
  | 'blocked'
  | 'disabled'
  | 'unschedulable'
  | 'unavailable';
const NEEDS_ACTION: HealthKind[] = [
  'auth_failed',
  'blocked',
  'cooling',
  'rate_limited',
  'unavailable',
];
const TONE: Record<HealthKind, 'success' | 'warning' | 'danger' | 'neutral' | 'info'> = {
  ok: 'success',
  cooling: 'warning',
  rate_limited: 'warning',
  auth_failed: 'danger',
  blocked: 'danger',
  disabled: 'neutral',
  unschedulable: 'neutral',
  unavailable: 'warning',
};

/**
 * An account's state from the list (enabled, schedulable, status, routable); a time-bound state
 * (cooling, rate limited) is only named by the account's detail, read for those that need it.
 */
function kindOf(account: Account, detail: AccountDetail | undefined): HealthKind {
  if (!account.enabled) return 'disabled';
  if (account.status !== 'active') return account.status;
  if (!account.schedulable) return 'unschedulable';
  if (account.routable) return 'ok';
  const state = detail?.healthStates.find((s) => s.scope === 'account' || s.scope === null);
  return state?.state ?? 'unavailable';
}

function AccountHealth() {
  const { t } = useTranslation('dashboard');
  const accounts = useQuery({
    queryKey: ['accounts', 'health'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/accounts', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'priority', sortOrder: 'asc' } },
        }),
      ),
    refetchInterval: HEALTH_INTERVAL_MS,
  });
  const troubled = (accounts.data?.items ?? [])
    .filter((a) => a.enabled && a.schedulable && !a.routable)
    .slice(0, DETAIL_LOOKUPS);
  const details = useQueries({
    queries: troubled.map((account) => ({
      queryKey: ['accounts', 'detail', account.id],
      queryFn: async () =>
        unwrap(await api.GET('/admin/api/accounts/{id}', { params: { path: { id: account.id } } })),
      refetchInterval: HEALTH_INTERVAL_MS,
    })),
  });
  if (accounts.error)
    return (
      <Card title={t('health.title')}>
        <ErrorState error={accounts.error} onRetry={() => void accounts.refetch()} />
      </Card>
    );
  if (!accounts.data)
    return (
      <Card title={t('health.title')}>
        <Spinner />
      </Card>
    );
  const detailOf = new Map(
    details.flatMap((d, i) => (d.data ? [[troubled[i].id, d.data] as const] : [])),
  );
  const rows = accounts.data.items.map((account) => {
    const detail = detailOf.get(account.id);
    const kind = kindOf(account, detail);
    const state = detail?.healthStates.find((s) => s.state === kind);
    return { account, kind, state };
  });
  const counts = new Map<HealthKind, number>();
  for (const row of rows) counts.set(row.kind, (counts.get(row.kind) ?? 0) + 1);
  const needAction = rows.filter((row) => NEEDS_ACTION.includes(row.kind));
  return (
    <Card
      title={t('health.title')}
      actions={
        <span className="text-muted">{t('health.all', { count: accounts.data.total })}</span>
      }
    >
      {accounts.data.items.length === 0 ? (
        <EmptyState>{t('health.noAccounts')}</EmptyState>
      ) : (
        <>
          <ul className="mb-3 flex flex-wrap gap-2" aria-label={t('health.title')}>
            {[...counts.entries()].map(([kind, count]) => (
              <li key={kind} data-testid={`health-count-${kind}`}>
                <Badge tone={TONE[kind]}>
                  {t(`health.states.${kind}`)}: {count}
                </Badge>
              </li>
            ))}
          </ul>
          <h3 className="mb-1 font-medium">{t('health.needAction')}</h3>
          {needAction.length === 0 ? (
            <p className="text-muted">{t('health.none')}</p>
          ) : (
            <ul className="flex flex-col divide-y divide-border" data-testid="health-need-action">
              {needAction.map(({ account, kind, state }) => (
                <li key={account.id} className="flex flex-wrap items-start gap-x-3 gap-y-1 py-2">
                  <Link
                    to={`/admin/accounts/${account.id}`}
                    className="font-medium text-primary hover:underline"
                  >
                    {account.name}
                  </Link>
                  <Badge tone={TONE[kind]}>{t(`health.states.${kind}`)}</Badge>
                  {state?.until && (
                    <span className="text-[12.5px] text-muted">
                      {t('health.until', { time: formatDate(state.until) })}
                    </span>
                  )}
                  {state?.scope && state.scope !== 'account' && (
                    <span className="text-[12.5px] text-muted">
                      {t('health.scope', { scope: state.scope })}
                    </span>
                  )}
                  <p className="w-full text-[13px] break-words text-muted">
                    {state?.reason ?? account.statusReason ?? account.notRoutableBecause}
                  </p>
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const { t } = useTranslation('dashboard');
  const { t: tc } = useTranslation();
  const [preset, setPreset] = useState<RangePreset>('h24');
  const [bucket, setBucket] = useState<Bucket>('hour');
  const { range, refresh } = useRange(preset);
  const summary = useQuery({
    queryKey: ['usage', 'summary', range],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/usage/summary', { params: { query: range } })),
  });
  const performance = useQuery({
    queryKey: ['usage', 'performance', range],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/usage/performance', { params: { query: range } })),
  });
  return (
    <div className="flex flex-col gap-4">
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          <>
            <RangeSelect
              value={preset}
              presets={['h24', 'd7', 'd30', 'd90']}
              onChange={(next) => {
                setPreset(next);
                setBucket(defaultBucket(next));
              }}
            />
            <BucketSelect value={bucket} onChange={setBucket} />
            <Button onClick={refresh} aria-label={tc('actions.refresh')}>
              <RefreshCw className="size-4" aria-hidden />
            </Button>
          </>
        }
      />
      {summary.error ? (
        <ErrorState error={summary.error} onRetry={() => void summary.refetch()} />
      ) : (
        <Summary summary={summary.data} performance={performance.data} />
      )}
      <div className="grid grid-cols-1 gap-4 lg:grid-cols-3">
        <div className="flex min-w-0 flex-col gap-4 lg:col-span-2">
          <OverTime range={range} bucket={bucket} />
          <AccountHealth />
        </div>
        <div className="flex min-w-0 flex-col gap-4">
          <LiveCard />
          <Card title={t('latency.title')}>
            {performance.error ? (
              <ErrorState error={performance.error} />
            ) : (
              <Percentiles performance={performance.data} />
            )}
          </Card>
          <Card title={t('tokens.title')}>
            <TokenKinds summary={summary.data} />
          </Card>
        </div>
      </div>
    </div>
  );
}
