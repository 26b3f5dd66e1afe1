import { useState, type ReactNode } from 'react';
import { Check, Copy } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '@/api/client';
import { cn } from '@/lib/cn';
import { Button } from './button';

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section className={cn('rounded-lg border border-border bg-surface p-4', className)}>
      {(title || actions) && (
        <header className="mb-3 flex items-center justify-between gap-2">
          {title && <h2 className="text-[15px] font-semibold">{title}</h2>}
          {actions && <div className="flex items-center gap-2">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function PageHeader({
  title,
  description,
  actions,
}: {
  title: ReactNode;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  return (
    <div className="mb-4 flex flex-wrap items-end justify-between gap-3">
      <div>
        <h1 className="text-xl font-semibold">{title}</h1>
        {description && <p className="text-muted">{description}</p>}
      </div>
      {actions && <div className="flex flex-wrap items-center gap-2">{actions}</div>}
    </div>
  );
}

type Tone = 'neutral' | 'success' | 'warning' | 'danger' | 'info';
const tones: Record<Tone, string> = {
  neutral: 'bg-surface-2 text-muted border-border',
  success: 'text-success border-success/40 bg-success/10',
  warning: 'text-warning border-warning/40 bg-warning/10',
  danger: 'text-danger border-danger/40 bg-danger/10',
  info: 'text-info border-info/40 bg-info/10',
};

export function Badge({ tone = 'neutral', children }: { tone?: Tone; children: ReactNode }) {
  return (
    <span
      className={cn(
        'inline-flex items-center rounded border px-1.5 py-px text-[12px] font-medium whitespace-nowrap',
        tones[tone],
      )}
    >
      {children}
    </span>
  );
}

export function Spinner({ label }: { label?: string }) {
  const { t } = useTranslation();
  return (
    <div role="status" className="flex items-center gap-2 p-4 text-muted">
      <span
        className="size-4 animate-spin rounded-full border-2 border-border border-t-primary"
        aria-hidden
      />
      {label ?? t('state.loading')}
    </div>
  );
}

/** An error from a query or mutation, in words, with the server's code and a retry button. */
export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { t } = useTranslation();
  const message =
    error instanceof ApiError
      ? error.status === 403
        ? t('errors.forbidden')
        : error.message
      : error instanceof TypeError
        ? t('errors.network')
        : error instanceof Error
          ? error.message
          : t('state.error');
  return (
    <div
      role="alert"
      className="flex flex-wrap items-center gap-3 rounded-md border border-danger/40 bg-danger/10 p-3 text-danger"
    >
      <span>
        {message}
        {error instanceof ApiError && (
          <code className="ml-2 text-[12px] opacity-80">{error.code}</code>
        )}
      </span>
      {onRetry && (
        <Button size="sm" onClick={onRetry}>
          {t('actions.retry')}
        </Button>
      )}
    </div>
  );
}

export function EmptyState({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  return <p className="p-6 text-center text-muted">{children ?? t('state.empty')}</p>;
}

/** Copies text to the clipboard; says "Copied" for a moment. */
export function CopyButton({
  value,
  label,
  ariaLabel,
  size = 'sm',
  ...rest
}: {
  value: string;
  label?: string;
  /** The accessible name when several copy buttons share one visible label. */
  ariaLabel?: string;
  size?: 'sm' | 'md';
  'data-testid'?: string;
}) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard API refused (insecure context): fall back to a selection copy.
      const area = document.createElement('textarea');
      area.value = value;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 1500);
  };
  return (
    <Button
      size={size}
      onClick={() => void copy()}
      aria-label={ariaLabel ?? label ?? t('actions.copy')}
      {...rest}
    >
      {copied ? (
        <Check className="size-3.5" aria-hidden />
      ) : (
        <Copy className="size-3.5" aria-hidden />
      )}
      {copied ? t('actions.copied') : (label ?? t('actions.copy'))}
    </Button>
  );
}

/** A code block with a copy button. */
export function CodeBlock({
  code,
  label,
  ariaLabel,
}: {
  code: string;
  label?: string;
  ariaLabel?: string;
}) {
  return (
    <div className="relative">
      {/* Focusable so a keyboard can scroll a long line sideways (axe: scrollable-region-focusable). */}
      <pre
        // eslint-disable-next-line jsx-a11y/no-noninteractive-tabindex
        tabIndex={0}
        className="overflow-x-auto rounded-md border border-border bg-surface-2 p-3 pr-24 font-mono text-[12.5px] whitespace-pre"
      >
        {code}
      </pre>
      <div className="absolute top-2 right-2">
        <CopyButton value={code} label={label} ariaLabel={ariaLabel} />
      </div>
    </div>
  );
}

/** A bar of used against limit (budgets, rate limits, caps); turns amber at 80 %, red at 100 %. */
export function UsageBar({
  used,
  limit,
  label,
}: {
  used: number;
  limit: number | null | undefined;
  label: string;
}) {
  if (!limit) return null;
  const ratio = Math.min(used / limit, 1);
  const tone = used >= limit ? 'bg-danger' : ratio >= 0.8 ? 'bg-warning' : 'bg-primary';
  return (
    <div
      role="meter"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={limit}
      aria-valuenow={used}
      className="h-1.5 w-full overflow-hidden rounded bg-surface-2"
    >
      <div className={cn('h-full', tone)} style={{ width: `${ratio * 100}%` }} />
    </div>
  );
}
