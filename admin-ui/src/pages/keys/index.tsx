import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate, useParams, useSearchParams } from 'react-router';
import { Plus } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { can, MANAGERS, useUser } from '@/auth/session';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/dialog';
import { Input, Select } from '@/components/ui/form';
import { Badge, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { formatDate, plainText } from '@/lib/format';
import { rememberSecret } from '@/pages/setup/secret-memory';
import { KeyForm } from './key-form';
import {
  emptyForm,
  errorsByField,
  formFromKey,
  type ApiKey,
  type CreatedApiKey,
  type CreateKeyBody,
  type UpdateKeyBody,
} from './key-form-model';
import { KeyUsage } from './key-usage';
import { StatusBadge, useExpiryText } from './key-status';
import { SecretDialog, type ShownSecret } from './secret-dialog';

type BatchAction = 'enable' | 'disable' | 'delete' | 'restore';
type SortBy = 'createdAt' | 'name' | 'lastUsedAt' | 'expiresAt';

/** Errors of a form submission that belong to no field, in words. */
function FormError({ error, fields }: { error: unknown; fields: Record<string, string> }) {
  const { t } = useTranslation('keys');
  if (!error || Object.keys(fields).length > 0) return null;
  return (
    <p role="alert" className="rounded-md border border-danger/40 bg-danger/10 p-3 text-danger">
      {t('form.errorSummary', {
        message: error instanceof Error ? error.message : plainText(error),
      })}
    </p>
  );
}

function KeyList({ onSecret }: { onSecret: (shown: ShownSecret) => void }) {
  const { t } = useTranslation('keys');
  const { t: tc } = useTranslation();
  const user = useUser();
  const manage = can(user, MANAGERS);
  const toast = useToast();
  const queryClient = useQueryClient();
  const expiryText = useExpiryText();
  const [params, setParams] = useSearchParams();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState<
    | { kind: 'batchDelete' }
    | { kind: 'delete'; key: ApiKey }
    | { kind: 'rotate'; key: ApiKey }
    | null
  >(null);

  const search = params.get('search') ?? '';
  const tag = params.get('tag') ?? '';
  const enabled = params.get('enabled') ?? '';
  const deleted = (params.get('deleted') ?? 'exclude') as 'exclude' | 'include' | 'only';
  const sortBy = (params.get('sortBy') ?? 'createdAt') as SortBy;
  const page = Number(params.get('page') ?? 1) || 1;
  const pageSize = Number(params.get('pageSize') ?? 20) || 20;
  const update = (changes: Record<string, string | number | null>) => {
    const next = new URLSearchParams(params);
    for (const [name, value] of Object.entries(changes)) {
      if (value === null || value === '') next.delete(name);
      else next.set(name, String(value));
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next, { replace: true });
    setSelected(new Set());
  };

  const query = {
    page,
    pageSize,
    deleted,
    sortBy,
    sortOrder: sortBy === 'name' ? ('asc' as const) : ('desc' as const),
    ...(search && { search }),
    ...(tag && { tag }),
    ...(enabled && { enabled: enabled === 'true' }),
  };
  const list = useQuery({
    queryKey: ['keys', 'list', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/keys', { params: { query } })),
  });
  const ids = (list.data?.items ?? []).map((key) => key.id);
  const budgets = useQuery({
    queryKey: ['keys', 'budgets', ids],
    enabled: ids.length > 0,
    refetchInterval: 30_000,
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/keys/budgets', { params: { query: { ids } } })),
  });
  const budgetOf = (id: string) => budgets.data?.items.find((item) => item.id === id)?.budgets;

  const invalidate = () => queryClient.invalidateQueries({ queryKey: ['keys'] });
  const single = useMutation({
    mutationFn: async ({ key, action }: { key: ApiKey; action: BatchAction | 'rotate' }) => {
      const path = { params: { path: { id: key.id } } };
      switch (action) {
        case 'enable':
          return unwrap(await api.POST('/admin/api/keys/{id}/enable', path));
        case 'disable':
          return unwrap(await api.POST('/admin/api/keys/{id}/disable', path));
        case 'delete':
          return unwrap(await api.DELETE('/admin/api/keys/{id}', path));
        case 'restore':
          return unwrap(await api.POST('/admin/api/keys/{id}/restore', path));
        case 'rotate':
          return unwrap(await api.POST('/admin/api/keys/{id}/rotate', path));
      }
    },
    onSuccess: (result, { action }) => {
      setConfirm(null);
      void invalidate();
      if (action === 'rotate') {
        const rotated = result as CreatedApiKey;
        rememberSecret(rotated.id, rotated.secret);
        onSecret({
          keyId: rotated.id,
          name: rotated.name,
          secret: rotated.secret,
          kind: 'rotated',
        });
        return;
      }
      const done = {
        enable: 'enabled',
        disable: 'disabled',
        delete: 'deleted',
        restore: 'restored',
      };
      toast('success', t(`actions.${done[action]}` as 'actions.enabled'));
    },
    onError: (error) => {
      setConfirm(null);
      toast('error', error.message);
    },
  });
  const batch = useMutation({
    mutationFn: async (action: BatchAction) =>
      unwrap(
        await api.POST('/admin/api/keys/batch-action', {
          body: { action, ids: [...selected] },
        }),
      ),
    onSuccess: (result) => {
      setConfirm(null);
      setSelected(new Set());
      void invalidate();
      toast('success', t('batch.done', { count: result.items.length }));
      if (result.failed.length > 0) {
        toast(
          'error',
          t('batch.failed', {
            count: result.failed.length,
            reasons: result.failed.map((f) => f.message).join('; '),
          }),
        );
      }
    },
    onError: (error) => {
      setConfirm(null);
      toast('error', error.message);
    },
  });

  const columns: Column<ApiKey>[] = [
    {
      key: 'name',
      header: t('columns.name'),
      cell: (key) => (
        <div className="flex min-w-40 flex-col gap-0.5">
          {manage && key.status !== 'deleted' ? (
            <Link to={key.id} className="font-medium text-primary hover:underline">
              {key.name}
            </Link>
          ) : (
            <span className="font-medium">{key.name}</span>
          )}
          <code className="text-[12px] text-muted">{key.keyHint}</code>
          {key.description && <span className="text-[12px] text-muted">{key.description}</span>}
          {key.tags.length > 0 && (
            <span className="flex flex-wrap gap-1">
              {key.tags.map((tagName) => (
                <Badge key={tagName}>{tagName}</Badge>
              ))}
            </span>
          )}
        </div>
      ),
    },
    {
      key: 'status',
      header: t('columns.status'),
      cell: (key) => <StatusBadge status={key.status} />,
    },
    {
      key: 'owner',
      header: t('columns.owner'),
      cell: (key) => key.owner ?? <span className="text-muted">—</span>,
    },
    {
      key: 'usage',
      header: t('columns.usage'),
      cell: (key) =>
        budgets.isLoading ? (
          <span className="text-muted">{t('usage.loading')}</span>
        ) : (
          <KeyUsage budgets={budgetOf(key.id)} />
        ),
    },
    {
      key: 'lastUsed',
      header: t('columns.lastUsed'),
      className: 'min-w-28',
      cell: (key) => (key.lastUsedAt ? formatDate(key.lastUsedAt) : t('never')),
    },
    {
      key: 'expires',
      header: t('columns.expires'),
      className: 'min-w-28',
      cell: (key) => expiryText(key),
    },
    {
      key: 'actions',
      header: <span className="sr-only">{t('columns.actions')}</span>,
      cell: (key) => (
        <div className="grid grid-cols-[auto_auto] justify-end gap-1 whitespace-nowrap [&>*]:justify-center">
          <Link
            to={`/admin/setup?key=${key.id}`}
            className="inline-flex h-8 items-center rounded-md px-2 text-[13px] text-primary hover:bg-surface-2"
          >
            {t('actions.setup')}
          </Link>
          {manage &&
            (key.status === 'deleted' ? (
              <Button size="sm" onClick={() => single.mutate({ key, action: 'restore' })}>
                {t('actions.restore')}
              </Button>
            ) : (
              <>
                <Button
                  size="sm"
                  onClick={() => single.mutate({ key, action: key.enabled ? 'disable' : 'enable' })}
                >
                  {key.enabled ? tc('actions.disable') : tc('actions.enable')}
                </Button>
                <Button size="sm" onClick={() => setConfirm({ kind: 'rotate', key })}>
                  {t('actions.rotate')}
                </Button>
                <Button
                  size="sm"
                  variant="ghost"
                  className="text-danger"
                  onClick={() => setConfirm({ kind: 'delete', key })}
                >
                  {tc('actions.delete')}
                </Button>
              </>
            ))}
        </div>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          manage && (
            <Link
              to="new"
              className="inline-flex h-9 items-center gap-1.5 rounded-md bg-primary px-3.5 font-medium text-primary-fg hover:opacity-90"
            >
              <Plus className="size-4" aria-hidden />
              {t('create')}
            </Link>
          )
        }
      />
      {!manage && <p className="mb-3 text-muted">{t('readOnly')}</p>}
      <div className="mb-3 grid gap-2 sm:grid-cols-2 lg:grid-cols-[2fr_1fr_1fr_1fr_1fr]">
        <Input
          type="search"
          aria-label={t('filters.search')}
          placeholder={t('filters.search')}
          defaultValue={search}
          onChange={(event) => update({ search: event.target.value.trim() })}
        />
        <Input
          aria-label={t('filters.tag')}
          placeholder={t('filters.tag')}
          defaultValue={tag}
          onChange={(event) => update({ tag: event.target.value.trim() })}
        />
        <Select
          aria-label={t('filters.status')}
          value={enabled}
          onChange={(event) => update({ enabled: event.target.value })}
        >
          <option value="">{t('anyStatus')}</option>
          <option value="true">{t('filters.enabledOnly')}</option>
          <option value="false">{t('filters.disabledOnly')}</option>
        </Select>
        <Select
          aria-label={t('filters.deleted')}
          value={deleted}
          onChange={(event) => update({ deleted: event.target.value })}
        >
          <option value="exclude">{t('filters.deletedExclude')}</option>
          <option value="include">{t('filters.deletedInclude')}</option>
          <option value="only">{t('filters.deletedOnly')}</option>
        </Select>
        <Select
          aria-label={t('filters.sort')}
          value={sortBy}
          onChange={(event) => update({ sortBy: event.target.value })}
        >
          <option value="createdAt">{t('filters.sortCreatedAt')}</option>
          <option value="name">{t('filters.sortName')}</option>
          <option value="lastUsedAt">{t('filters.sortLastUsedAt')}</option>
          <option value="expiresAt">{t('filters.sortExpiresAt')}</option>
        </Select>
      </div>
      {manage && selected.size > 0 && (
        <div
          role="toolbar"
          aria-label={t('batch.selected', { count: selected.size })}
          className="mb-3 flex flex-wrap items-center gap-2 rounded-md border border-border bg-surface-2 p-2"
        >
          <span className="font-medium">{t('batch.selected', { count: selected.size })}</span>
          <Button size="sm" loading={batch.isPending} onClick={() => batch.mutate('enable')}>
            {t('batch.enable')}
          </Button>
          <Button size="sm" loading={batch.isPending} onClick={() => batch.mutate('disable')}>
            {t('batch.disable')}
          </Button>
          {deleted !== 'exclude' && (
            <Button size="sm" loading={batch.isPending} onClick={() => batch.mutate('restore')}>
              {t('batch.restore')}
            </Button>
          )}
          <Button
            size="sm"
            variant="danger"
            loading={batch.isPending}
            onClick={() => setConfirm({ kind: 'batchDelete' })}
          >
            {t('batch.delete')}
          </Button>
          <Button size="sm" variant="ghost" onClick={() => setSelected(new Set())}>
            {t('batch.clear')}
          </Button>
        </div>
      )}
      <DataTable
        caption={t('caption')}
        columns={columns}
        rows={list.data?.items}
        rowKey={(key) => key.id}
        loading={list.isLoading}
        error={list.error}
        onRetry={() => void list.refetch()}
        selected={manage ? selected : undefined}
        onSelectedChange={manage ? setSelected : undefined}
        empty={t('empty')}
      />
      {list.data && (
        <Pagination
          page={list.data.page}
          pageSize={list.data.pageSize}
          total={list.data.total}
          onPageChange={(next) => update({ page: next })}
          onPageSizeChange={(size) => update({ pageSize: size })}
        />
      )}
      <ConfirmDialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        pending={single.isPending || batch.isPending}
        message={
          confirm?.kind === 'batchDelete'
            ? t('batch.confirmDelete', { count: selected.size })
            : confirm?.kind === 'rotate'
              ? t('actions.confirmRotate', { name: confirm.key.name })
              : confirm?.kind === 'delete'
                ? t('actions.confirmDelete', { name: confirm.key.name })
                : ''
        }
        confirmLabel={confirm?.kind === 'rotate' ? t('actions.rotate') : tc('actions.delete')}
        onConfirm={() => {
          if (confirm?.kind === 'batchDelete') batch.mutate('delete');
          else if (confirm?.kind === 'rotate')
            single.mutate({ key: confirm.key, action: 'rotate' });
          else if (confirm?.kind === 'delete')
            single.mutate({ key: confirm.key, action: 'delete' });
        }}
      />
    </>
  );
}

function BackLink() {
  const { t } = useTranslation('keys');
  return (
    <Link to="/admin/keys" className="mb-2 inline-block text-[13px] text-primary hover:underline">
      ← {t('backToList')}
    </Link>
  );
}

function CreateKey({ onSecret }: { onSecret: (shown: ShownSecret) => void }) {
  const { t } = useTranslation('keys');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: async (body: CreateKeyBody) => unwrap(await api.POST('/admin/api/keys', { body })),
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: ['keys'] });
      rememberSecret(key.id, key.secret);
      onSecret({ keyId: key.id, name: key.name, secret: key.secret, kind: 'created' });
      void navigate('/admin/keys');
    },
  });
  const fields = errorsByField(create.error);
  return (
    <>
      <BackLink />
      <PageHeader title={t('createTitle')} />
      <KeyForm
        initial={emptyForm()}
        mode="create"
        scope="admin"
        pending={create.isPending}
        errors={fields}
        formError={<FormError error={create.error} fields={fields} />}
        onSubmit={(body) => create.mutate(body as CreateKeyBody)}
        onCancel={() => void navigate('/admin/keys')}
      />
    </>
  );
}

function EditKey() {
  const { t } = useTranslation('keys');
  const { id = '' } = useParams();
  const navigate = useNavigate();
  const toast = useToast();
  const queryClient = useQueryClient();
  const key = useQuery({
    queryKey: ['keys', 'one', id],
    queryFn: async () =>
      unwrap(await api.GET('/admin/api/keys/{id}', { params: { path: { id } } })),
  });
  const save = useMutation({
    mutationFn: async (body: UpdateKeyBody) =>
      unwrap(await api.PATCH('/admin/api/keys/{id}', { params: { path: { id } }, body })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['keys'] });
      toast('success', t('actions.saved'));
      void navigate('/admin/keys');
    },
  });
  if (key.error) return <ErrorState error={key.error} onRetry={() => void key.refetch()} />;
  if (!key.data) return <Spinner />;
  const fields = errorsByField(save.error);
  return (
    <>
      <BackLink />
      <PageHeader
        title={t('editTitle', { name: key.data.name })}
        description={<code>{key.data.keyHint}</code>}
        actions={<StatusBadge status={key.data.status} />}
      />
      <KeyForm
        key={key.data.updatedAt}
        initial={formFromKey(key.data)}
        mode="update"
        scope="admin"
        pending={save.isPending}
        errors={fields}
        formError={<FormError error={save.error} fields={fields} />}
        onSubmit={(body) => save.mutate(body)}
        onCancel={() => void navigate('/admin/keys')}
      />
    </>
  );
}

/** /admin/keys: the list (filters, usage bars, batch actions), /new and /:id (the form). */
export default function KeysPage() {
  const user = useUser();
  const [shown, setShown] = useState<ShownSecret | null>(null);
  const manage = can(user, MANAGERS);
  return (
    <>
      <Routes>
        <Route index element={<KeyList onSecret={setShown} />} />
        {manage && <Route path="new" element={<CreateKey onSecret={setShown} />} />}
        {manage && <Route path=":id" element={<EditKey />} />}
        <Route path="*" element={<KeyList onSecret={setShown} />} />
      </Routes>
      <SecretDialog shown={shown} onClose={() => setShown(null)} />
    </>
  );
}
