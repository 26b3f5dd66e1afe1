/**
 * Pieces the usage views share (the request log, the dashboard, my usage): time ranges, the chart
 * over time, the request table and a request's detail. Strings come from the `usage` namespace.
 */
import { useMemo, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ArrowDown, ArrowUp, ArrowUpDown } from 'lucide-react';
import {
  Area,
  AreaChart,
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { api, unwrap, type Schemas } from '@/api/client';
import { Dialog } from '@/components/ui/dialog';
import { Select } from '@/components/ui/form';
import { Badge, CopyButton, EmptyState } from '@/components/ui/misc';
import { DataTable, type Column } from '@/components/ui/table';
import { locale } from '@/i18n';
import {
  formatCost,
  formatDate,
  formatDuration,
  formatNumber,
  formatShortDate,
  formatTokens,
} from '@/lib/format';

export type RequestEntry = Schemas['RequestLogEntryDto'];
export type UsagePoint = Schemas['UsagePointDto'];
export type Bucket = 'hour' | 'day';
export type Outcome = 'ok' | 'error' | 'truncated' | 'aborted';
export const OUTCOMES: Outcome[] = ['ok', 'error', 'truncated', 'aborted'];
export const PLATFORMS = ['claude', 'openai', 'gemini', 'droid'] as const;

// ---------------------------------------------------------------- time ranges

export const RANGE_PRESETS = ['h1', 'h24', 'd7', 'd30', 'd90'] as const;
export type RangePreset = (typeof RANGE_PRESETS)[number];
const HOUR = 3_600_000;
const RANGE_MS: Record<RangePreset, number> = {
  h1: HOUR,
  h24: 24 * HOUR,
  d7: 7 * 24 * HOUR,
  d30: 30 * 24 * HOUR,
  d90: 90 * 24 * HOUR,
};
/** The granularity a range reads best at (hourly up to a week). */
export function defaultBucket(preset: RangePreset): Bucket {
  return RANGE_MS[preset] <= 7 * 24 * HOUR ? 'hour' : 'day';
}

export function isRangePreset(value: string | null): value is RangePreset {
  return value !== null && (RANGE_PRESETS as readonly string[]).includes(value);
}

/**
 * `[from, to)` in epoch ms for a preset: `to` is the next whole minute, so query keys stay the
 * same for a minute (no refetch on every render) and the last requests are included.
 */
export function presetRange(preset: RangePreset, now = Date.now()): { from: number; to: number } {
  const to = Math.ceil((now + 1) / 60_000) * 60_000;
  return { from: to - RANGE_MS[preset], to };
}

/** A preset's range, recomputed when the preset changes or refresh() is called. */
export function useRange(preset: RangePreset): {
  range: { from: number; to: number };
  refresh: () => void;
} {
  // Kept in state (not recomputed per render, so queries keyed on it do not refetch), with a new
  // "now" when the preset changes (adjusted while rendering) or on refresh().
  const [current, setCurrent] = useState(() => ({ preset, range: presetRange(preset) }));
  if (current.preset !== preset) setCurrent({ preset, range: presetRange(preset) });
  return {
    range: current.range,
    refresh: () => setCurrent({ preset, range: presetRange(preset) }),
  };
}

export function RangeSelect({
  value,
  onChange,
  presets = RANGE_PRESETS,
  id,
}: {
  value: RangePreset;
  onChange: (value: RangePreset) => void;
  presets?: readonly RangePreset[];
  id?: string;
}) {
  const { t } = useTranslation('usage');
  return (
    <Select
      id={id}
      aria-label={id ? undefined : t('range.label')}
      className="w-auto!"
      value={value}
      onChange={(event) => onChange(event.target.value as RangePreset)}
      data-testid="range"
    >
      {presets.map((preset) => (
        <option key={preset} value={preset}>
          {t(`range.${preset}`)}
        </option>
      ))}
    </Select>
  );
}

export function BucketSelect({
  value,
  onChange,
}: {
  value: Bucket;
  onChange: (value: Bucket) => void;
}) {
  const { t } = useTranslation('usage');
  return (
    <Select
      aria-label={t('bucket.label')}
      className="w-auto!"
      value={value}
      onChange={(event) => onChange(event.target.value as Bucket)}
      data-testid="bucket"
    >
      <option value="hour">{t('bucket.hour')}</option>
      <option value="day">{t('bucket.day')}</option>
    </Select>
  );
}

// ---------------------------------------------------------------- names of keys and accounts

/** Key and account names by id, for the staff views (ids are shown when a name is unknown). */
export function useNames(enabled = true): {
  key: (id: string | null) => string;
  account: (id: string | null) => string;
  keys: Schemas['ApiKeyResponseDto'][];
  accounts: Schemas['AccountResponseDto'][];
} {
  const keys = useQuery({
    queryKey: ['keys', 'names'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/keys', {
          params: {
            query: { page: 1, pageSize: 200, deleted: 'include', sortBy: 'name', sortOrder: 'asc' },
          },
        }),
      ),
    enabled,
    staleTime: 60_000,
  });
  const accounts = useQuery({
    queryKey: ['accounts', 'names'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/accounts', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' } },
        }),
      ),
    enabled,
    staleTime: 60_000,
  });
  return useMemo(() => {
    const keyNames = new Map((keys.data?.items ?? []).map((k) => [k.id, k.name]));
    const accountNames = new Map((accounts.data?.items ?? []).map((a) => [a.id, a.name]));
    return {
      key: (id) => (id === null ? '—' : (keyNames.get(id) ?? id)),
      account: (id) => (id === null ? '—' : (accountNames.get(id) ?? id)),
      keys: keys.data?.items ?? [],
      accounts: accounts.data?.items ?? [],
    };
  }, [keys.data, accounts.data]);
}

// ---------------------------------------------------------------- small cells

export function OutcomeBadge({ outcome, status }: { outcome: string; status?: number }) {
  const { t } = useTranslation('usage');
  const tone =
    outcome === 'ok'
      ? 'success'
      : outcome === 'error'
        ? 'danger'
        : outcome === 'truncated'
          ? 'warning'
          : 'neutral';
  const label = (OUTCOMES as string[]).includes(outcome)
    ? t(`outcomes.${outcome as Outcome}`)
    : outcome;
  return (
    <Badge tone={tone}>
      {status !== undefined ? `${status} · ` : ''}
      {label}
    </Badge>
  );
}

export function cacheWrite(entry: {
  cacheCreation5mTokens: number;
  cacheCreation1hTokens: number;
}): number {
  return entry.cacheCreation5mTokens + entry.cacheCreation1hTokens;
}

/** A figure with its label, for the summary rows of the dashboard and my usage. */
export function Stat({
  label,
  value,
  hint,
  testId,
  tone,
}: {
  label: ReactNode;
  value: ReactNode;
  hint?: ReactNode;
  testId?: string;
  tone?: 'danger' | 'warning';
}) {
  return (
    <div className="min-w-0 rounded-lg border border-border bg-surface p-3">
      <div className="truncate text-[12.5px] text-muted">{label}</div>
      <div
        className={
          tone === 'danger'
            ? 'text-xl font-semibold text-danger'
            : tone === 'warning'
              ? 'text-xl font-semibold text-warning'
              : 'text-xl font-semibold'
        }
        data-testid={testId}
      >
        {value}
      </div>
      {hint && <div className="truncate text-[12.5px] text-muted">{hint}</div>}
    </div>
  );
}

// ---------------------------------------------------------------- the chart

/** Series colours, from the theme (both themes define every one). */
export const SERIES_COLORS = [
  'var(--color-primary)',
  'var(--color-success)',
  'var(--color-warning)',
  'var(--color-info)',
  'var(--color-danger)',
  'var(--color-muted)',
];

export type Metric = 'requests' | 'tokens' | 'cost';

export function MetricSelect({
  value,
  onChange,
}: {
  value: Metric;
  onChange: (value: Metric) => void;
}) {
  const { t } = useTranslation('usage');
  return (
    <Select
      aria-label={t('metric.label')}
      className="w-auto!"
      value={value}
      onChange={(event) => onChange(event.target.value as Metric)}
      data-testid="metric"
    >
      <option value="requests">{t('metric.requests')}</option>
      <option value="tokens">{t('metric.tokens')}</option>
      <option value="cost">{t('metric.cost')}</option>
    </Select>
  );
}

export function formatMetric(metric: Metric, value: number): string {
  if (metric === 'cost') return formatCost(value / 1_000_000);
  if (metric === 'tokens') return formatTokens(value);
  return formatNumber(value);
}

function tick(start: string, bucket: Bucket): string {
  const date = new Date(start);
  return new Intl.DateTimeFormat(
    locale(),
    bucket === 'hour'
      ? { hour: '2-digit', minute: '2-digit', day: 'numeric', month: 'numeric' }
      : { day: 'numeric', month: 'short' },
  ).format(date);
}

export interface ChartSeries {
  key: string;
  label: string;
  /** A theme colour; by default the series' place in SERIES_COLORS. */
  color?: string;
}

/**
 * Values over time: stacked areas (token kinds) or lines (one per group). `rows` holds one object
 * per bucket with `start` and a number per series key.
 */
export function UsageChart({
  rows,
  series,
  metric,
  bucket,
  stacked = false,
}: {
  rows: Array<Record<string, number | string>>;
  series: ChartSeries[];
  metric: Metric;
  bucket: Bucket;
  stacked?: boolean;
}) {
  const { t } = useTranslation('usage');
  const empty = rows.every((row) => series.every((s) => !row[s.key]));
  if (rows.length === 0 || empty) return <EmptyState>{t('chart.empty')}</EmptyState>;
  const axis = { stroke: 'var(--color-muted)', fontSize: 12 };
  const tooltip = (
    <Tooltip
      contentStyle={{
        background: 'var(--color-surface)',
        border: '1px solid var(--color-border)',
        borderRadius: 6,
        color: 'var(--color-fg)',
      }}
      labelFormatter={(label) => (typeof label === 'string' ? formatDate(label) : label)}
      formatter={(value) => formatMetric(metric, Number(value))}
    />
  );
  const common = (
    <>
      <CartesianGrid stroke="var(--color-border)" strokeDasharray="3 3" vertical={false} />
      <XAxis
        dataKey="start"
        tickFormatter={(value: string) => tick(value, bucket)}
        tick={axis}
        stroke="var(--color-border)"
        minTickGap={24}
      />
      <YAxis
        // Counts are whole numbers: no 0.25-request ticks rounded into repeated labels.
        allowDecimals={metric === 'cost'}
        tickFormatter={(value: number) => formatMetric(metric, value)}
        tick={axis}
        stroke="var(--color-border)"
        width={64}
      />
      {tooltip}
      <Legend wrapperStyle={{ fontSize: 12 }} />
    </>
  );
  return (
    <div className="h-64 w-full" data-testid="usage-chart">
      <ResponsiveContainer width="100%" height="100%">
        {stacked ? (
          <AreaChart data={rows}>
            {common}
            {series.map((s, i) => (
              <Area
                key={s.key}
                type="monotone"
                dataKey={s.key}
                name={s.label}
                stackId="1"
                stroke={s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]}
                fill={s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]}
                fillOpacity={0.25}
                isAnimationActive={false}
              />
            ))}
          </AreaChart>
        ) : (
          <LineChart data={rows}>
            {common}
            {series.map((s, i) => (
              <Line
                key={s.key}
                type="monotone"
                dataKey={s.key}
                name={s.label}
                stroke={s.color ?? SERIES_COLORS[i % SERIES_COLORS.length]}
                strokeWidth={2}
                dot={false}
                isAnimationActive={false}
              />
            ))}
          </LineChart>
        )}
      </ResponsiveContainer>
    </div>
  );
}

/** Rows of the chart for one series of points: the metric, or the token kinds stacked. */
export function pointRows(
  points: UsagePoint[],
  metric: Metric,
): Array<Record<string, number | string>> {
  return points.map((p) => ({
    start: p.start,
    requests: p.requests,
    errors: p.errors,
    cost: p.costMicros,
    input: p.inputTokens,
    output: p.outputTokens,
    cacheWrite: cacheWrite(p),
    cacheRead: p.cacheReadTokens,
    value: metric === 'cost' ? p.costMicros : metric === 'tokens' ? p.totalTokens : p.requests,
  }));
}

/** The series for one set of points: token kinds (stacked) or the metric alone. */
export function useSingleSeries(metric: Metric): { series: ChartSeries[]; stacked: boolean } {
  const { t } = useTranslation('usage');
  if (metric === 'tokens') {
    return {
      stacked: true,
      series: [
        { key: 'input', label: t('tokenKinds.input') },
        { key: 'output', label: t('tokenKinds.output') },
        { key: 'cacheWrite', label: t('tokenKinds.cacheWrite') },
        { key: 'cacheRead', label: t('tokenKinds.cacheRead') },
      ],
    };
  }
  return {
    stacked: false,
    series:
      metric === 'cost'
        ? [{ key: 'cost', label: t('metric.cost') }]
        : [
            { key: 'requests', label: t('metric.requests') },
            { key: 'errors', label: t('summary.errors'), color: 'var(--color-danger)' },
          ],
  };
}

// ---------------------------------------------------------------- the request table

export type RequestSortField = 'at' | 'costMicros' | 'latencyMs' | 'inputTokens' | 'outputTokens';
export interface Sort {
  sortBy: RequestSortField;
  sortOrder: 'asc' | 'desc';
}

function SortHeader({
  field,
  label,
  sort,
  onSort,
}: {
  field: RequestSortField;
  label: string;
  sort?: Sort;
  onSort?: (sort: Sort) => void;
}) {
  const { t } = useTranslation('usage');
  if (!sort || !onSort) return <>{label}</>;
  const active = sort.sortBy === field;
  const Icon = !active ? ArrowUpDown : sort.sortOrder === 'asc' ? ArrowUp : ArrowDown;
  return (
    <button
      type="button"
      className="inline-flex items-center gap-1 hover:text-fg"
      aria-label={`${t('sort.by', { column: label })}${active ? `, ${t(`sort.${sort.sortOrder}`)}` : ''}`}
      onClick={() =>
        onSort({
          sortBy: field,
          sortOrder: active && sort.sortOrder === 'desc' ? 'asc' : 'desc',
        })
      }
    >
      {label}
      <Icon className="size-3.5" aria-hidden />
    </button>
  );
}

export function RequestTable({
  rows,
  loading,
  error,
  onRetry,
  names,
  showKey = true,
  showAccount = true,
  sort,
  onSort,
  onOpen,
}: {
  rows: RequestEntry[] | undefined;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  names?: { key: (id: string | null) => string; account: (id: string | null) => string };
  showKey?: boolean;
  showAccount?: boolean;
  sort?: Sort;
  onSort?: (sort: Sort) => void;
  onOpen: (entry: RequestEntry) => void;
}) {
  const { t } = useTranslation('usage');
  const columns: Column<RequestEntry>[] = [
    {
      key: 'at',
      header: <SortHeader field="at" label={t('columns.at')} sort={sort} onSort={onSort} />,
      className: 'whitespace-nowrap',
      cell: (row) => (
        <button
          type="button"
          // Date above time: the log fits 1280 px with every column.
          className="max-w-24 text-left whitespace-normal text-primary hover:underline"
          onClick={(event) => {
            event.stopPropagation();
            onOpen(row);
          }}
        >
          {formatShortDate(row.at, true)}
        </button>
      ),
    },
    ...(showKey
      ? [
          {
            key: 'key',
            header: t('columns.key'),
            className: 'whitespace-nowrap',
            cell: (row: RequestEntry) => names?.key(row.apiKeyId) ?? row.apiKeyId ?? '—',
          },
        ]
      : []),
    ...(showAccount
      ? [
          {
            key: 'account',
            header: t('columns.account'),
            className: 'whitespace-nowrap',
            cell: (row: RequestEntry) => names?.account(row.accountId) ?? row.accountId ?? '—',
          },
        ]
      : []),
    {
      key: 'model',
      header: t('columns.model'),
      className: 'whitespace-nowrap',
      cell: (row) => (
        <span className="flex flex-col">
          <span className="font-mono text-[12.5px]">{row.model}</span>
          <span className="text-[12px] text-muted">{row.platform}</span>
        </span>
      ),
    },
    {
      key: 'status',
      header: t('columns.status'),
      cell: (row) => <OutcomeBadge outcome={row.outcome} status={row.status} />,
    },
    {
      key: 'tokens',
      header: (
        // Wraps onto two lines so the log fits 1280 px with every column.
        <span className="inline-flex max-w-36 flex-wrap gap-x-1 whitespace-normal">
          <SortHeader
            field="inputTokens"
            label={t('columns.inputTokens')}
            sort={sort}
            onSort={onSort}
          />
          /
          <SortHeader
            field="outputTokens"
            label={t('columns.outputTokens')}
            sort={sort}
            onSort={onSort}
          />
          / {t('tokenKinds.cacheRead')}
        </span>
      ),
      className: 'whitespace-nowrap tabular-nums',
      cell: (row) =>
        `${formatTokens(row.inputTokens)} / ${formatTokens(row.outputTokens)} / ${formatTokens(
          row.cacheReadTokens + cacheWrite(row),
        )}`,
    },
    {
      key: 'cost',
      header: (
        <SortHeader field="costMicros" label={t('columns.cost')} sort={sort} onSort={onSort} />
      ),
      className: 'whitespace-nowrap text-right tabular-nums',
      cell: (row) => formatCost(row.costMicros / 1_000_000),
    },
    {
      key: 'latency',
      header: (
        <SortHeader field="latencyMs" label={t('columns.latency')} sort={sort} onSort={onSort} />
      ),
      className: 'whitespace-nowrap text-right tabular-nums',
      cell: (row) => (
        <span className="flex flex-col">
          <span>{formatDuration(row.latencyMs)}</span>
          <span className="text-[12px] text-muted">
            {t('columns.ttfb')} {formatDuration(row.ttfbMs)}
          </span>
        </span>
      ),
    },
  ];
  return (
    <DataTable
      caption={t('log.caption')}
      columns={columns}
      rows={rows}
      rowKey={(row) => row.id}
      loading={loading}
      error={error}
      onRetry={onRetry}
      onRowClick={onOpen}
      empty={t('log.empty')}
    />
  );
}

// ---------------------------------------------------------------- a request's detail

function Row({ label, children }: { label: ReactNode; children: ReactNode }) {
  return (
    <>
      <dt className="text-muted">{label}</dt>
      <dd className="min-w-0 break-words">{children}</dd>
    </>
  );
}

export function RequestDetailBody({
  entry,
  names,
  linkAccount = false,
}: {
  entry: RequestEntry;
  names?: { key: (id: string | null) => string; account: (id: string | null) => string };
  linkAccount?: boolean;
}) {
  const { t } = useTranslation('usage');
  const none = t('detail.none');
  const tokens: [string, number][] = [
    [t('tokenKinds.input'), entry.inputTokens],
    [t('tokenKinds.output'), entry.outputTokens],
    [t('tokenKinds.cacheWrite5m'), entry.cacheCreation5mTokens],
    [t('tokenKinds.cacheWrite1h'), entry.cacheCreation1hTokens],
    [t('tokenKinds.cacheRead'), entry.cacheReadTokens],
  ];
  const total = tokens.reduce((sum, [, n]) => sum + n, 0);
  return (
    <div className="flex flex-col gap-4" data-testid="request-detail">
      <dl className="grid grid-cols-[minmax(7rem,max-content)_1fr] gap-x-4 gap-y-1.5">
        <Row label={t('detail.id')}>
          <span className="flex flex-wrap items-center gap-2">
            <code className="font-mono text-[12.5px] break-all">{entry.id}</code>
            <CopyButton value={entry.id} />
          </span>
        </Row>
        <Row label={t('detail.at')}>{formatDate(entry.at)}</Row>
        <Row label={t('detail.outcome')}>
          <OutcomeBadge outcome={entry.outcome} status={entry.status} />
        </Row>
        {entry.errorCode && (
          <Row label={t('detail.errorCode')}>
            <code className="font-mono text-[12.5px]">{entry.errorCode}</code>
          </Row>
        )}
        <Row label={t('detail.key')}>
          {entry.apiKeyId ? (names?.key(entry.apiKeyId) ?? entry.apiKeyId) : none}
        </Row>
        {(linkAccount || entry.accountId) && (
          <Row label={t('detail.account')}>
            {entry.accountId ? (
              linkAccount ? (
                <Link
                  className="text-primary hover:underline"
                  to={`/admin/accounts/${entry.accountId}`}
                >
                  {names?.account(entry.accountId) ?? entry.accountId}
                </Link>
              ) : (
                (names?.account(entry.accountId) ?? entry.accountId)
              )
            ) : (
              none
            )}
          </Row>
        )}
        <Row label={t('detail.platform')}>{entry.platform}</Row>
        <Row label={t('detail.model')}>
          <code className="font-mono text-[12.5px]">{entry.model}</code>
        </Row>
        <Row label={t('detail.stream')}>
          {entry.stream ? t('state.yes', { ns: 'common' }) : t('state.no', { ns: 'common' })}
        </Row>
        <Row label={t('detail.attempts')}>
          {entry.attempts > 1 ? t('detail.failover', { count: entry.attempts }) : entry.attempts}
        </Row>
        {entry.ruleName && <Row label={t('detail.rule')}>{entry.ruleName}</Row>}
        <Row label={t('detail.latency')}>{formatDuration(entry.latencyMs)}</Row>
        <Row label={t('detail.ttfb')}>{formatDuration(entry.ttfbMs)}</Row>
        <Row label={t('detail.cost')}>
          <span data-testid="request-detail-cost">{formatCost(entry.costMicros / 1_000_000)}</span>
          {!entry.priceKnown && (
            <span className="ml-2 text-[12.5px] text-warning">{t('detail.unpriced')}</span>
          )}
        </Row>
      </dl>
      <div>
        <h3 className="mb-1 font-medium">{t('detail.tokens')}</h3>
        <table className="w-full max-w-sm text-left tabular-nums">
          <tbody>
            {tokens.map(([label, n]) => (
              <tr key={label} className="border-t border-border">
                <th scope="row" className="py-1 pr-4 font-normal text-muted">
                  {label}
                </th>
                <td className="py-1 text-right">{formatNumber(n)}</td>
              </tr>
            ))}
            <tr className="border-t border-border font-medium">
              <th scope="row" className="py-1 pr-4">
                {t('tokenKinds.total')}
              </th>
              <td className="py-1 text-right" data-testid="request-detail-tokens">
                {formatNumber(total)}
              </td>
            </tr>
          </tbody>
        </table>
      </div>
    </div>
  );
}

/** A request's detail in a dialog; `children` replaces the body (loading, error). */
export function RequestDialog({
  id,
  onClose,
  children,
}: {
  id: string | null;
  onClose: () => void;
  children: ReactNode;
}) {
  const { t } = useTranslation('usage');
  return (
    <Dialog
      open={id !== null}
      onOpenChange={(open) => !open && onClose()}
      title={t('detail.title')}
      wide
    >
      {children}
    </Dialog>
  );
}
