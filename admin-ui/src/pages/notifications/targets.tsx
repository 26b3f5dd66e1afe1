import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Pencil, Send, Trash2 } from 'lucide-react';
import { ApiError, api, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/dialog';
import { Badge } from '@/components/ui/misc';
import { DataTable, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { formatDuration, formatShortDate } from '@/lib/format';
import { isKind, type Delivery, type Target, type TestResult } from './kinds';
import { useTargets } from './queries';
import { TargetForm } from './target-form';

export const STATUS_TONE = { pending: 'info', delivered: 'success', failed: 'danger' } as const;

export function DeliveryStatusBadge({ status }: { status: string }) {
  const { t } = useTranslation('notifications');
  if (status !== 'pending' && status !== 'delivered' && status !== 'failed') {
    return <Badge>{status}</Badge>;
  }
  return <Badge tone={STATUS_TONE[status]}>{t(`status.${status}`)}</Badge>;
}

function errorText(error: unknown, fallback: string): string {
  return error instanceof ApiError || error instanceof Error ? error.message : fallback;
}

/**
 * The newest delivery of each target, from one page of the log (newest first): a target whose
 * last delivery is older than the newest 100 shows none rather than costing a request per row.
 */
function useLastDeliveries() {
  return useQuery({
    queryKey: ['notifications', 'deliveries', 'latest'],
    queryFn: async () => {
      const page = await unwrap(
        await api.GET('/admin/api/notifications/deliveries', {
          params: { query: { page: 1, pageSize: 100 } },
        }),
      );
      const latest = new Map<string, Delivery>();
      for (const delivery of page.items) {
        if (!latest.has(delivery.targetId)) latest.set(delivery.targetId, delivery);
      }
      return latest;
    },
  });
}

/** The outcome of the test button, shown in the target's row. */
export function TestOutcome({ result }: { result: TestResult }) {
  const { t } = useTranslation('notifications');
  return (
    <div
      role="status"
      data-testid="test-result"
      className="mt-1 flex flex-wrap items-center gap-1.5 text-[13px]"
    >
      <Badge tone={result.ok ? 'success' : 'danger'}>
        {result.ok ? t('test.ok') : t('test.failed')}
      </Badge>
      {result.status !== null && (
        <span className="text-muted">{t('test.status', { status: result.status })}</span>
      )}
      <span className="text-muted">{formatDuration(result.durationMs)}</span>
      {result.error && <span className="break-words text-danger">{result.error}</span>}
    </div>
  );
}

function EnabledSwitch({ target }: { target: Target }) {
  const { t } = useTranslation('notifications');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const queryClient = useQueryClient();
  const flip = useMutation({
    mutationFn: async (enabled: boolean) =>
      unwrap(
        await api.PATCH('/admin/api/notifications/targets/{id}', {
          params: { path: { id: target.id } },
          body: { enabled },
        }),
      ),
    onSuccess: async (updated) => {
      toast('success', t(updated.enabled ? 'enabledOn' : 'enabledOff', { name: updated.name }));
      await queryClient.invalidateQueries({ queryKey: ['notifications', 'targets'] });
    },
    onError: (error) => toast('error', errorText(error, tc('state.error'))),
  });
  return (
    <label
      className="inline-flex cursor-pointer items-center"
      title={target.enabled ? tc('state.enabled') : tc('state.disabled')}
    >
      <input
        type="checkbox"
        role="switch"
        data-testid="target-enabled"
        className="peer sr-only"
        checked={target.enabled}
        disabled={flip.isPending}
        aria-label={t('enabledSwitch', { name: target.name })}
        onChange={(event) => flip.mutate(event.target.checked)}
      />
      <span
        aria-hidden
        className="relative h-5 w-9 rounded-full border border-border bg-surface-2 transition-colors peer-checked:border-transparent peer-checked:bg-primary peer-focus-visible:outline-2 peer-focus-visible:outline-primary after:absolute after:top-0.5 after:left-0.5 after:size-3.5 after:rounded-full after:bg-muted after:transition-transform peer-checked:after:translate-x-4 peer-checked:after:bg-white"
      />
    </label>
  );
}

export function TargetsPanel({
  canChange,
  creating,
  onCreatingChange,
}: {
  canChange: boolean;
  creating: boolean;
  onCreatingChange: (open: boolean) => void;
}) {
  const { t } = useTranslation('notifications');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const queryClient = useQueryClient();
  const targets = useTargets();
  const last = useLastDeliveries();
  const [editing, setEditing] = useState<Target | null>(null);
  const [deleting, setDeleting] = useState<Target | null>(null);
  const [results, setResults] = useState<Record<string, TestResult | { error: string }>>({});

  const remove = useMutation({
    mutationFn: async (target: Target) =>
      unwrap(
        await api.DELETE('/admin/api/notifications/targets/{id}', {
          params: { path: { id: target.id } },
        }),
      ),
    onSuccess: async () => {
      setDeleting(null);
      toast('success', t('deleted'));
      await queryClient.invalidateQueries({ queryKey: ['notifications'] });
    },
    onError: (error) => toast('error', errorText(error, tc('state.error'))),
  });

  const test = useMutation({
    mutationFn: async (target: Target) =>
      unwrap(
        await api.POST('/admin/api/notifications/targets/{id}/test', {
          params: { path: { id: target.id } },
        }),
      ),
    onSuccess: async (result, target) => {
      setResults((current) => ({ ...current, [target.id]: result }));
      await queryClient.invalidateQueries({ queryKey: ['notifications', 'deliveries'] });
    },
    onError: (error, target) =>
      setResults((current) => ({
        ...current,
        [target.id]: { error: errorText(error, tc('state.error')) },
      })),
  });

  const columns: Column<Target>[] = [
    {
      key: 'name',
      header: t('col.name'),
      cell: (target) => {
        const result = results[target.id];
        return (
          <div className="min-w-40">
            <span className="font-medium">{target.name}</span>
            {!target.secretsReadable && (
              <div className="text-[13px] text-danger">{t('secretsUnreadable')}</div>
            )}
            {result &&
              ('ok' in result ? (
                <TestOutcome result={result} />
              ) : (
                <p role="alert" className="mt-1 text-[13px] text-danger">
                  {result.error}
                </p>
              ))}
          </div>
        );
      },
    },
    {
      key: 'kind',
      header: t('col.kind'),
      cell: (target) => (
        <Badge>{isKind(target.kind) ? t(`kinds.${target.kind}`) : target.kind}</Badge>
      ),
    },
    {
      key: 'enabled',
      header: t('col.enabled'),
      cell: (target) =>
        canChange ? (
          <EnabledSwitch target={target} />
        ) : target.enabled ? (
          <Badge tone="success">{tc('state.enabled')}</Badge>
        ) : (
          <Badge>{tc('state.disabled')}</Badge>
        ),
    },
    {
      key: 'events',
      header: t('col.events'),
      cell: (target) =>
        target.events === null ? (
          <span>{t('allEvents')}</span>
        ) : (
          <span title={target.events.join(', ')}>
            {t('eventCount', { count: target.events.length })}
            <span className="block max-w-64 truncate font-mono text-[12px] text-muted">
              {target.events.join(', ')}
            </span>
          </span>
        ),
    },
    {
      key: 'last',
      header: t('col.lastDelivery'),
      className: 'whitespace-nowrap',
      cell: (target) => {
        const delivery = last.data?.get(target.id);
        if (!delivery) return <span className="text-muted">{t('noDelivery')}</span>;
        return (
          <span className="flex flex-col items-start gap-0.5">
            <DeliveryStatusBadge status={delivery.status} />
            <span className="text-[12px] text-muted">{formatShortDate(delivery.createdAt)}</span>
          </span>
        );
      },
    },
  ];
  if (canChange) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('col.actions')}</span>,
      cell: (target) => (
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            aria-label={t('sendTestTo', { name: target.name })}
            title={t('sendTestTo', { name: target.name })}
            loading={test.isPending && test.variables?.id === target.id}
            onClick={() => test.mutate(target)}
          >
            <Send className="size-3.5" aria-hidden />
            {t('sendTest')}
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('edit', { name: target.name })}
            title={t('edit', { name: target.name })}
            onClick={() => setEditing(target)}
          >
            <Pencil className="size-4" aria-hidden />
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('deleteTarget', { name: target.name })}
            title={t('deleteTarget', { name: target.name })}
            onClick={() => setDeleting(target)}
          >
            <Trash2 className="size-4 text-danger" aria-hidden />
          </Button>
        </div>
      ),
    });
  }

  return (
    <>
      <DataTable
        caption={t('caption')}
        columns={columns}
        rows={targets.data?.items}
        rowKey={(target) => target.id}
        loading={targets.isPending}
        error={targets.error}
        onRetry={() => void targets.refetch()}
        empty={t('empty')}
      />
      {canChange && creating && <TargetForm onClose={() => onCreatingChange(false)} />}
      {canChange && editing && (
        <TargetForm key={editing.id} target={editing} onClose={() => setEditing(null)} />
      )}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => !open && setDeleting(null)}
        message={t('deleteConfirm', { name: deleting?.name ?? '' })}
        confirmLabel={tc('actions.delete')}
        pending={remove.isPending}
        onConfirm={() => deleting && remove.mutate(deleting)}
      />
    </>
  );
}
