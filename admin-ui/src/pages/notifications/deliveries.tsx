import { useState, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { RotateCcw } from 'lucide-react';
import { ApiError, api, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Select } from '@/components/ui/form';
import { ErrorState } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { formatDate, formatDuration, formatShortDate } from '@/lib/format';
import type { Delivery } from './kinds';
import { useDeliveries, useEventTypes, useTargets, type DeliveryQuery } from './queries';
import { DeliveryStatusBadge } from './targets';

const STATUSES = ['pending', 'delivered', 'failed'] as const;
type Status = (typeof STATUSES)[number];
const TEST_EVENT = 'notification.test';

function positive(text: string | null, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The log's filters and page, read from the address (`?tab=deliveries&target=…&status=…`). */
export function deliveryQueryOf(params: URLSearchParams): DeliveryQuery {
  const status = params.get('status');
  return {
    ...(params.get('target') ? { targetId: params.get('target')! } : {}),
    ...(STATUSES.includes(status as Status) ? { status: status as Status } : {}),
    ...(params.get('event') ? { eventType: params.get('event')! } : {}),
    page: positive(params.get('page'), 1),
    pageSize: Math.min(positive(params.get('pageSize'), 50), 200),
  };
}

export function DeliveriesPanel({ canChange }: { canChange: boolean }) {
  const { t } = useTranslation('notifications');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const queryClient = useQueryClient();
  const [params, setParams] = useSearchParams();
  const query = deliveryQueryOf(params);
  const list = useDeliveries(query);
  const targets = useTargets();
  const eventTypes = useEventTypes();
  const [open, setOpen] = useState<Delivery | null>(null);

  const nameOf = (id: string) =>
    targets.data?.items.find((target) => target.id === id)?.name ?? t('deliveries.deletedTarget');

  /** Changes one address parameter (empty removes it); a filter change goes back to page 1. */
  const setParam = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    if (key !== 'page') next.delete('page');
    setParams(next);
  };

  const retry = useMutation({
    mutationFn: async (delivery: Delivery) =>
      unwrap(
        await api.POST('/admin/api/notifications/deliveries/{id}/retry', {
          params: { path: { id: delivery.id } },
        }),
      ),
    onSuccess: async (updated) => {
      toast('success', t('deliveries.retried'));
      if (open?.id === updated.id) setOpen(updated);
      await queryClient.invalidateQueries({ queryKey: ['notifications', 'deliveries'] });
    },
    onError: (error) =>
      toast('error', error instanceof ApiError ? error.message : tc('state.error')),
  });

  const retryButton = (delivery: Delivery, size: 'sm' | 'md' = 'sm') =>
    canChange && delivery.status === 'failed' ? (
      <Button
        size={size}
        aria-label={t('deliveries.retryOf', { id: delivery.id })}
        title={t('deliveries.retryOf', { id: delivery.id })}
        loading={retry.isPending && retry.variables?.id === delivery.id}
        onClick={(event) => {
          event.stopPropagation();
          retry.mutate(delivery);
        }}
      >
        <RotateCcw className="size-3.5" aria-hidden />
        {t('deliveries.retry')}
      </Button>
    ) : null;

  const columns: Column<Delivery>[] = [
    {
      key: 'created',
      header: t('deliveries.col.created'),
      className: 'whitespace-nowrap',
      cell: (delivery) => formatShortDate(delivery.createdAt, true),
    },
    {
      key: 'target',
      header: t('deliveries.col.target'),
      className: 'whitespace-nowrap',
      cell: (delivery) => nameOf(delivery.targetId),
    },
    {
      key: 'event',
      header: t('deliveries.col.event'),
      cell: (delivery) => (
        <div className="min-w-48">
          <button
            type="button"
            className="text-left font-mono text-[13px] text-primary hover:underline"
            aria-label={`${t('deliveries.details')}: ${delivery.eventType}`}
            onClick={(event) => {
              event.stopPropagation();
              setOpen(delivery);
            }}
          >
            {delivery.eventType}
          </button>
          <div className="text-[13px] text-muted">{delivery.title}</div>
        </div>
      ),
    },
    {
      key: 'status',
      header: t('deliveries.col.status'),
      cell: (delivery) => <DeliveryStatusBadge status={delivery.status} />,
    },
    {
      key: 'attempts',
      header: t('deliveries.col.attempts'),
      className: 'text-right',
      cell: (delivery) => delivery.attempts,
    },
    {
      key: 'last',
      header: t('deliveries.col.last'),
      cell: (delivery) => (
        <div className="max-w-72 text-[13px]">
          {delivery.lastStatus !== null && <span>HTTP {delivery.lastStatus} </span>}
          {delivery.lastDurationMs !== null && (
            <span className="text-muted">{formatDuration(delivery.lastDurationMs)}</span>
          )}
          {delivery.lastError && delivery.lastError !== `HTTP ${delivery.lastStatus}` && (
            <div className="truncate text-danger" title={delivery.lastError}>
              {delivery.lastError}
            </div>
          )}
        </div>
      ),
    },
  ];
  if (canChange) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('deliveries.col.actions')}</span>,
      cell: (delivery) => <div className="flex justify-end">{retryButton(delivery)}</div>,
    });
  }

  const filtered = Boolean(query.targetId ?? query.status ?? query.eventType);

  return (
    <div>
      <div
        className="mb-3 flex flex-wrap items-end gap-2"
        role="group"
        aria-label={t('deliveries.filters')}
      >
        <label className="sr-only" htmlFor="deliveries-target">
          {t('deliveries.target')}
        </label>
        <Select
          id="deliveries-target"
          className="sm:w-auto"
          value={query.targetId ?? ''}
          onChange={(event) => setParam('target', event.target.value)}
        >
          <option value="">{t('deliveries.allTargets')}</option>
          {targets.data?.items.map((target) => (
            <option key={target.id} value={target.id}>
              {target.name}
            </option>
          ))}
          {query.targetId && !targets.data?.items.some((x) => x.id === query.targetId) && (
            <option value={query.targetId}>{query.targetId}</option>
          )}
        </Select>
        <label className="sr-only" htmlFor="deliveries-status">
          {t('deliveries.status')}
        </label>
        <Select
          id="deliveries-status"
          className="sm:w-auto"
          value={query.status ?? ''}
          onChange={(event) => setParam('status', event.target.value)}
        >
          <option value="">{t('deliveries.allStatuses')}</option>
          {STATUSES.map((status) => (
            <option key={status} value={status}>
              {t(`status.${status}`)}
            </option>
          ))}
        </Select>
        <label className="sr-only" htmlFor="deliveries-event">
          {t('deliveries.eventType')}
        </label>
        <Select
          id="deliveries-event"
          className="sm:w-auto"
          value={query.eventType ?? ''}
          onChange={(event) => setParam('event', event.target.value)}
        >
          <option value="">{t('deliveries.allEventTypes')}</option>
          {eventTypes.data?.items.map((type) => (
            <option key={type.type} value={type.type}>
              {type.type}
            </option>
          ))}
          <option value={TEST_EVENT}>{t('deliveries.testEvent')}</option>
          {query.eventType &&
            query.eventType !== TEST_EVENT &&
            !eventTypes.data?.items.some((type) => type.type === query.eventType) && (
              <option value={query.eventType}>{query.eventType}</option>
            )}
        </Select>
        {filtered && (
          <Button
            onClick={() => {
              const next = new URLSearchParams();
              next.set('tab', 'deliveries');
              setParams(next);
            }}
          >
            {t('deliveries.clear')}
          </Button>
        )}
      </div>
      <DataTable
        caption={t('deliveries.caption')}
        columns={columns}
        rows={list.data?.items}
        rowKey={(delivery) => delivery.id}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        onRowClick={setOpen}
        empty={t('deliveries.empty')}
      />
      {list.data && list.data.total > 0 && (
        <Pagination
          page={query.page}
          pageSize={query.pageSize}
          total={list.data.total}
          onPageChange={(page) => setParam('page', String(page))}
          onPageSizeChange={(size) => setParam('pageSize', String(size))}
        />
      )}
      {open && (
        <DeliveryDetail
          delivery={open}
          targetName={nameOf(open.targetId)}
          onClose={() => setOpen(null)}
          retry={retryButton(open, 'md')}
          error={retry.error}
        />
      )}
    </div>
  );
}

function DeliveryDetail({
  delivery,
  targetName,
  onClose,
  retry,
  error,
}: {
  delivery: Delivery;
  targetName: string;
  onClose: () => void;
  retry: ReactNode;
  error: unknown;
}) {
  const { t } = useTranslation('notifications');
  const { t: tc } = useTranslation();
  const none = t('deliveries.detail.none');
  const rows: Array<[string, ReactNode]> = [
    [t('deliveries.col.target'), targetName],
    [t('deliveries.col.status'), <DeliveryStatusBadge key="s" status={delivery.status} />],
    [t('deliveries.detail.attempts'), delivery.attempts],
    [t('deliveries.detail.lastStatus'), delivery.lastStatus ?? none],
    [
      t('deliveries.detail.lastError'),
      delivery.lastError ? (
        <span className="break-words text-danger">{delivery.lastError}</span>
      ) : (
        none
      ),
    ],
    [
      t('deliveries.detail.lastDuration'),
      delivery.lastDurationMs === null ? none : formatDuration(delivery.lastDurationMs),
    ],
    [
      t('deliveries.detail.nextAttempt'),
      delivery.nextAttemptAt ? formatDate(delivery.nextAttemptAt) : none,
    ],
    [
      t('deliveries.detail.deliveredAt'),
      delivery.deliveredAt ? formatDate(delivery.deliveredAt) : none,
    ],
    [t('deliveries.detail.createdAt'), formatDate(delivery.createdAt)],
    [t('deliveries.detail.updatedAt'), formatDate(delivery.updatedAt)],
    [
      t('deliveries.detail.eventId'),
      <code key="e" className="font-mono text-[12.5px] break-all">
        {delivery.eventId}
      </code>,
    ],
  ];
  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={`${t('deliveries.detail.title')}: ${delivery.eventType}`}
      description={delivery.title}
      footer={
        <>
          {retry}
          <Button onClick={onClose}>{tc('actions.close')}</Button>
        </>
      }
    >
      {error ? (
        <div className="mb-3">
          <ErrorState error={error} />
        </div>
      ) : null}
      <dl
        className="grid grid-cols-[auto_minmax(0,1fr)] gap-x-4 gap-y-2"
        data-testid="delivery-detail"
      >
        {rows.map(([label, value]) => (
          <div key={label} className="contents">
            <dt className="text-muted">{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
