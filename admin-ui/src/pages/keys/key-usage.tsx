import { useTranslation } from 'react-i18next';
import type { Schemas } from '@/api/client';
import { UsageBar } from '@/components/ui/misc';
import { formatCost, formatDate, formatNumber, formatTokens } from '@/lib/format';

export type BudgetStatus = Schemas['ApiKeyBudgetStatusDto'];

const usd = (micros: number) => formatCost(micros / 1_000_000);

function Meter({
  label,
  used,
  limit,
  text,
  title,
}: {
  label: string;
  used: number;
  limit: number;
  text: string;
  title?: string;
}) {
  return (
    <div className="flex min-w-44 flex-col gap-0.5" title={title}>
      <div className="flex justify-between gap-2 text-[12px]">
        <span className="text-muted">{label}</span>
        <span className="tabular-nums">{text}</span>
      </div>
      <UsageBar used={used} limit={limit} label={`${label}: ${text}`} />
    </div>
  );
}

/**
 * What a key has used of each of its limits and budgets, one bar each (from
 * GET /admin/api/keys/budgets); "No limits" for a key without any.
 */
export function KeyUsage({ budgets }: { budgets: BudgetStatus | undefined }) {
  const { t } = useTranslation('keys');
  if (budgets === undefined) return <span className="text-muted">—</span>;
  const meters: React.ReactNode[] = [];
  const { window } = budgets;
  if (window) {
    const per = (used: string, limit: string) =>
      t('usage.window', { used, limit, minutes: window.windowMinutes });
    const resets = window.resetAtMs ? t('usage.resets', { at: formatDate(window.resetAtMs) }) : '';
    if (window.requests)
      meters.push(
        <Meter
          key="wr"
          label={t('usage.windowRequests')}
          used={window.requests.used}
          limit={window.requests.limit}
          text={per(formatNumber(window.requests.used), formatNumber(window.requests.limit))}
          title={resets}
        />,
      );
    if (window.tokens)
      meters.push(
        <Meter
          key="wt"
          label={t('usage.windowTokens')}
          used={window.tokens.used}
          limit={window.tokens.limit}
          text={per(formatTokens(window.tokens.used), formatTokens(window.tokens.limit))}
          title={resets}
        />,
      );
    if (window.costMicros)
      meters.push(
        <Meter
          key="wc"
          label={t('usage.windowCost')}
          used={window.costMicros.used}
          limit={window.costMicros.limit}
          text={per(usd(window.costMicros.used), usd(window.costMicros.limit))}
          title={resets}
        />,
      );
  }
  if (budgets.concurrency)
    meters.push(
      <Meter
        key="cc"
        label={t('usage.concurrency')}
        used={budgets.concurrency.active}
        limit={budgets.concurrency.limit}
        text={t('usage.of', {
          used: formatNumber(budgets.concurrency.active),
          limit: formatNumber(budgets.concurrency.limit),
        })}
      />,
    );
  for (const period of ['daily', 'weekly', 'total'] as const) {
    const cap = budgets[period];
    if (!cap) continue;
    meters.push(
      <Meter
        key={period}
        label={t(`usage.${period}`)}
        used={cap.spentMicros}
        limit={cap.limitMicros}
        text={t('usage.of', { used: usd(cap.spentMicros), limit: usd(cap.limitMicros) })}
        title={cap.resetAtMs ? t('usage.resets', { at: formatDate(cap.resetAtMs) }) : undefined}
      />,
    );
  }
  if (meters.length === 0) return <span className="text-muted">{t('usage.none')}</span>;
  return <div className="flex flex-col gap-1.5">{meters}</div>;
}
