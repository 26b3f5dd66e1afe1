import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Pencil, Plus, Search, Trash2 } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { Field, Input, Select } from '@/components/ui/form';
import { Badge, ErrorState } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { errorsByField } from '@/lib/field-errors';
import { formatNumber } from '@/lib/format';

type PriceEntry = Schemas['PriceEntryDto'];
type Source = PriceEntry['source'];
const PRICE_FIELDS = ['input', 'output', 'cacheWrite5m', 'cacheWrite1h', 'cacheRead'] as const;
type PriceField = (typeof PRICE_FIELDS)[number];

/** Dollars per million tokens, as many decimals as the price has (up to 4). */
function usd(value: number | undefined): string {
  return value === undefined ? '—' : `$${formatNumber(value, 4)}`;
}

/** The model prices (bundled, file, override) and the admin's overrides of them. */
export function Pricing({ canChange }: { canChange: boolean }) {
  const { t } = useTranslation('settings');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const [source, setSource] = useState<Source | ''>('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [editing, setEditing] = useState<PriceEntry | 'new' | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);

  const query = {
    page,
    pageSize,
    sortBy: 'model' as const,
    sortOrder: 'asc' as const,
    ...(search ? { search } : {}),
    ...(source ? { source } : {}),
  };
  const list = useQuery({
    queryKey: ['pricing', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/pricing/models', { params: { query } })),
  });
  const remove = useMutation({
    mutationFn: async (model: string) =>
      unwrap(
        await api.DELETE('/admin/api/pricing/overrides/{model}', { params: { path: { model } } }),
      ),
    onSuccess: async () => {
      setRemoving(null);
      toast('success', t('pricing.removed'));
      await queryClient.invalidateQueries({ queryKey: ['pricing'] });
    },
  });

  const columns: Column<PriceEntry>[] = [
    {
      key: 'model',
      header: t('pricing.col.model'),
      cell: (entry) => (
        <div>
          <span className="font-mono text-[13px]">{entry.model}</span>
          {entry.price.longContext && (
            <div className="text-[12px] text-muted">
              {t('pricing.longContext', {
                tokens: formatNumber(entry.price.longContext.thresholdTokens),
                input: usd(entry.price.longContext.input),
                output: usd(entry.price.longContext.output),
              })}
            </div>
          )}
        </div>
      ),
    },
    {
      key: 'source',
      header: t('pricing.col.source'),
      cell: (entry) => (
        <Badge tone={entry.source === 'override' ? 'info' : 'neutral'}>
          {t(`pricing.sources.${entry.source}`)}
        </Badge>
      ),
    },
    ...PRICE_FIELDS.map((field): Column<PriceEntry> => ({
      key: field,
      header: t(`pricing.col.${field}`),
      className: 'text-right whitespace-nowrap tabular-nums',
      cell: (entry) => usd(entry.price[field]),
    })),
  ];
  if (canChange) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('pricing.col.actions')}</span>,
      cell: (entry) => (
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('pricing.override', { model: entry.model })}
            title={t('pricing.override', { model: entry.model })}
            onClick={() => setEditing(entry)}
          >
            <Pencil className="size-4" aria-hidden />
          </Button>
          {entry.source === 'override' && (
            <Button
              size="sm"
              variant="ghost"
              aria-label={t('pricing.removeOverride', { model: entry.model })}
              title={t('pricing.removeOverride', { model: entry.model })}
              onClick={() => setRemoving(entry.model)}
            >
              <Trash2 className="size-4 text-danger" aria-hidden />
            </Button>
          )}
        </div>
      ),
    });
  }

  return (
    <div>
      <div className="mb-3 flex flex-col gap-1 text-muted">
        <p>{t('pricing.intro')}</p>
        {list.data && (
          <>
            <p>
              {list.data.pricingFile
                ? t('pricing.pricingFile', { file: list.data.pricingFile })
                : t('pricing.noPricingFile')}
            </p>
            <p>
              {t('pricing.defaultPrice', {
                input: usd(list.data.defaultPrice.input),
                output: usd(list.data.defaultPrice.output),
              })}
            </p>
          </>
        )}
      </div>
      <div className="mb-3 flex flex-wrap items-end gap-2">
        <form
          role="search"
          className="flex min-w-0 flex-1 gap-2 sm:flex-none"
          onSubmit={(event) => {
            event.preventDefault();
            setPage(1);
            setSearch(searchDraft.trim());
          }}
        >
          <label htmlFor="pricing-search" className="sr-only">
            {t('pricing.search')}
          </label>
          <Input
            id="pricing-search"
            className="sm:w-64"
            placeholder={t('pricing.searchPlaceholder')}
            value={searchDraft}
            onChange={(event) => setSearchDraft(event.target.value)}
          />
          <Button type="submit" aria-label={t('actions.search', { ns: 'common' })}>
            <Search className="size-4" aria-hidden />
          </Button>
        </form>
        <label htmlFor="pricing-source" className="sr-only">
          {t('pricing.sourceFilter')}
        </label>
        <Select
          id="pricing-source"
          className="sm:w-auto"
          value={source}
          onChange={(event) => {
            setPage(1);
            setSource(event.target.value as Source | '');
          }}
        >
          <option value="">{t('pricing.allSources')}</option>
          {(['override', 'file', 'bundled'] as const).map((s) => (
            <option key={s} value={s}>
              {t(`pricing.sources.${s}`)}
            </option>
          ))}
        </Select>
        {canChange && (
          <Button className="sm:ml-auto" onClick={() => setEditing('new')}>
            <Plus className="size-4" aria-hidden />
            {t('pricing.newOverride')}
          </Button>
        )}
      </div>
      <DataTable
        caption={t('pricing.caption')}
        columns={columns}
        rows={list.data?.items}
        rowKey={(entry) => entry.model}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        empty={t('pricing.empty')}
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
      {editing && (
        <OverrideDialog
          entry={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
        />
      )}
      <ConfirmDialog
        open={removing !== null}
        onOpenChange={(open) => {
          if (!open) {
            setRemoving(null);
            remove.reset();
          }
        }}
        message={
          <>
            {t('pricing.removeConfirm', { model: removing ?? '' })}
            {remove.error && (
              <span className="mt-3 block">
                <ErrorState error={remove.error} />
              </span>
            )}
          </>
        }
        confirmLabel={t('actions.delete', { ns: 'common' })}
        pending={remove.isPending}
        onConfirm={() => removing && remove.mutate(removing)}
      />
    </div>
  );
}

function OverrideDialog({ entry, onClose }: { entry: PriceEntry | null; onClose: () => void }) {
  const { t } = useTranslation('settings');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [model, setModel] = useState(entry?.model ?? '');
  const [prices, setPrices] = useState<Record<PriceField, string>>(
    () =>
      Object.fromEntries(
        PRICE_FIELDS.map((field) => [field, entry ? String(entry.price[field]) : '']),
      ) as Record<PriceField, string>,
  );
  const save = useMutation({
    mutationFn: async () => {
      const body: Schemas['PriceOverrideRequestDto'] = {};
      for (const field of PRICE_FIELDS) {
        if (prices[field].trim() !== '') body[field] = Number(prices[field]);
      }
      return unwrap(
        await api.PUT('/admin/api/pricing/overrides/{model}', {
          params: { path: { model: model.trim() } },
          body,
        }),
      );
    },
    onSuccess: async () => {
      toast('success', t('pricing.saved', { model: model.trim() }));
      await queryClient.invalidateQueries({ queryKey: ['pricing'] });
      onClose();
    },
  });
  const errors = errorsByField(save.error, ['model', ...PRICE_FIELDS]);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={entry ? t('pricing.form.title', { model: entry.model }) : t('pricing.form.newTitle')}
      description={t('pricing.form.hint')}
      footer={
        <>
          <Button onClick={onClose}>{t('actions.cancel', { ns: 'common' })}</Button>
          <Button variant="primary" type="submit" form="price-form" loading={save.isPending}>
            {t('actions.save', { ns: 'common' })}
          </Button>
        </>
      }
    >
      <form id="price-form" onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        {errors.form && (
          <p
            role="alert"
            className="rounded-md border border-danger/40 bg-danger/10 p-2 text-danger sm:col-span-2"
          >
            {errors.form}
          </p>
        )}
        {!entry && (
          <Field
            className="sm:col-span-2"
            label={t('pricing.form.model')}
            hint={t('pricing.form.modelHint')}
            error={errors.fields.model}
            required
          >
            {(props) => (
              <Input {...props} value={model} onChange={(event) => setModel(event.target.value)} />
            )}
          </Field>
        )}
        {PRICE_FIELDS.map((field) => (
          <Field key={field} label={t(`pricing.col.${field}`)} error={errors.fields[field]}>
            {(props) => (
              <Input
                {...props}
                type="number"
                min={0}
                step="any"
                value={prices[field]}
                onChange={(event) => setPrices({ ...prices, [field]: event.target.value })}
              />
            )}
          </Field>
        ))}
      </form>
    </Dialog>
  );
}
