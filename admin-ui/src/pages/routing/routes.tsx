import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Pencil, Plus, Search, Trash2 } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Input, Select } from '@/components/ui/form';
import { Badge, Card, ErrorState } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { errorsByField } from '@/lib/field-errors';
import { FormAlert, PLATFORMS, type Platform } from './shared';

export type ModelRoute = Schemas['ModelRouteResponseDto'];
const FIELDS = ['pattern', 'platform', 'targetModel', 'position', 'enabled', 'note'];

/** Model routes: the list (in evaluation order), their form, and the resolve tester. */
export function ModelRoutes({ canChange }: { canChange: boolean }) {
  const { t } = useTranslation('routing');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const [platform, setPlatform] = useState<Platform | ''>('');
  const [state, setState] = useState<'' | 'true' | 'false'>('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [editing, setEditing] = useState<ModelRoute | 'new' | null>(null);
  const [deleting, setDeleting] = useState<ModelRoute | null>(null);

  const query = {
    page,
    pageSize,
    sortBy: 'evaluation' as const,
    sortOrder: 'asc' as const,
    ...(search ? { search } : {}),
    ...(platform ? { platform } : {}),
    ...(state ? { enabled: state === 'true' } : {}),
  };
  const list = useQuery({
    queryKey: ['model-routes', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/model-routes', { params: { query } })),
  });
  const remove = useMutation({
    mutationFn: async (route: ModelRoute) =>
      unwrap(
        await api.DELETE('/admin/api/model-routes/{id}', { params: { path: { id: route.id } } }),
      ),
    onSuccess: async () => {
      setDeleting(null);
      toast('success', t('routes.deleted'));
      await queryClient.invalidateQueries({ queryKey: ['model-routes'] });
    },
  });

  const columns: Column<ModelRoute>[] = [
    {
      key: 'position',
      header: t('routes.col.position'),
      className: 'tabular-nums',
      cell: (route) => route.position,
    },
    {
      key: 'pattern',
      header: t('routes.col.pattern'),
      cell: (route) => <code className="font-mono text-[13px]">{route.pattern}</code>,
    },
    {
      key: 'platform',
      header: t('routes.col.platform'),
      cell: (route) => <Badge tone="info">{route.platform}</Badge>,
    },
    {
      key: 'target',
      header: t('routes.col.target'),
      cell: (route) =>
        route.targetModel ? (
          <code className="font-mono text-[13px]">{route.targetModel}</code>
        ) : (
          <span className="text-muted">{t('routes.asRequested')}</span>
        ),
    },
    {
      key: 'state',
      header: t('routes.col.state'),
      cell: (route) =>
        route.enabled ? (
          <Badge tone="success">{t('enabled')}</Badge>
        ) : (
          <Badge>{t('disabled')}</Badge>
        ),
    },
    {
      key: 'note',
      header: t('routes.col.note'),
      cell: (route) => <span className="text-[13px] text-muted">{route.note ?? ''}</span>,
    },
  ];
  if (canChange) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('routes.col.actions')}</span>,
      cell: (route) => (
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('routes.edit', { pattern: route.pattern })}
            title={t('routes.edit', { pattern: route.pattern })}
            onClick={() => setEditing(route)}
          >
            <Pencil className="size-4" aria-hidden />
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('routes.delete', { pattern: route.pattern })}
            title={t('routes.delete', { pattern: route.pattern })}
            onClick={() => setDeleting(route)}
          >
            <Trash2 className="size-4 text-danger" aria-hidden />
          </Button>
        </div>
      ),
    });
  }

  return (
    <div className="flex flex-col gap-4">
      <p className="text-muted">{t('routes.intro')}</p>
      <div className="flex flex-wrap items-end gap-2">
        <form
          role="search"
          className="flex min-w-0 flex-1 gap-2 sm:flex-none"
          onSubmit={(event) => {
            event.preventDefault();
            setPage(1);
            setSearch(searchDraft.trim());
          }}
        >
          <label htmlFor="routes-search" className="sr-only">
            {t('routes.searchLabel')}
          </label>
          <Input
            id="routes-search"
            className="sm:w-64"
            placeholder={t('routes.searchPlaceholder')}
            value={searchDraft}
            onChange={(event) => setSearchDraft(event.target.value)}
          />
          <Button type="submit" aria-label={t('actions.search', { ns: 'common' })}>
            <Search className="size-4" aria-hidden />
          </Button>
        </form>
        <label htmlFor="routes-platform" className="sr-only">
          {t('routes.platformFilter')}
        </label>
        <Select
          id="routes-platform"
          className="sm:w-auto"
          value={platform}
          onChange={(event) => {
            setPage(1);
            setPlatform(event.target.value as Platform | '');
          }}
        >
          <option value="">{t('routes.anyPlatform')}</option>
          {PLATFORMS.map((p) => (
            <option key={p} value={p}>
              {p}
            </option>
          ))}
        </Select>
        <label htmlFor="routes-state" className="sr-only">
          {t('routes.stateFilter')}
        </label>
        <Select
          id="routes-state"
          className="sm:w-auto"
          value={state}
          onChange={(event) => {
            setPage(1);
            setState(event.target.value as '' | 'true' | 'false');
          }}
        >
          <option value="">{t('allStates')}</option>
          <option value="true">{t('enabled')}</option>
          <option value="false">{t('disabled')}</option>
        </Select>
        {canChange && (
          <Button variant="primary" className="sm:ml-auto" onClick={() => setEditing('new')}>
            <Plus className="size-4" aria-hidden />
            {t('routes.newRoute')}
          </Button>
        )}
      </div>
      <div>
        <DataTable
          caption={t('routes.caption')}
          columns={columns}
          rows={list.data?.items}
          rowKey={(route) => route.id}
          loading={list.isPending}
          error={list.error}
          onRetry={() => void list.refetch()}
          empty={t('routes.empty')}
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
      </div>
      <RouteTester />
      {editing && (
        <RouteDialog route={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
      <ConfirmDialog
        open={deleting !== null}
        onOpenChange={(open) => {
          if (!open) {
            setDeleting(null);
            remove.reset();
          }
        }}
        message={
          <>
            {t('routes.deleteConfirm', { pattern: deleting?.pattern ?? '' })}
            {remove.error && (
              <span className="mt-3 block">
                <ErrorState error={remove.error} />
              </span>
            )}
          </>
        }
        confirmLabel={t('actions.delete', { ns: 'common' })}
        pending={remove.isPending}
        onConfirm={() => deleting && remove.mutate(deleting)}
      />
    </div>
  );
}

function RouteDialog({ route, onClose }: { route: ModelRoute | null; onClose: () => void }) {
  const { t } = useTranslation('routing');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState({
    pattern: route?.pattern ?? '',
    platform: route?.platform ?? 'claude',
    targetModel: route?.targetModel ?? '',
    position: route ? String(route.position) : '',
    enabled: route?.enabled ?? true,
    note: route?.note ?? '',
  });
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm({ ...form, [key]: event.target.value });
  const save = useMutation({
    mutationFn: async () => {
      const text = (value: string) => (value.trim() === '' ? null : value.trim());
      const body = {
        pattern: form.pattern.trim(),
        platform: form.platform,
        targetModel: text(form.targetModel),
        enabled: form.enabled,
        note: text(form.note),
        ...(form.position.trim() !== '' ? { position: Number(form.position) } : {}),
      };
      if (route) {
        return unwrap(
          await api.PATCH('/admin/api/model-routes/{id}', {
            params: { path: { id: route.id } },
            body,
          }),
        );
      }
      return unwrap(
        await api.POST('/admin/api/model-routes', {
          body: Object.fromEntries(
            Object.entries(body).filter(([, value]) => value !== null),
          ) as Schemas['CreateModelRouteDto'],
        }),
      );
    },
    onSuccess: async () => {
      toast('success', t('routes.saved'));
      await queryClient.invalidateQueries({ queryKey: ['model-routes'] });
      onClose();
    },
  });
  const errors = errorsByField(save.error, FIELDS, { ROUTE_PATTERN_TAKEN: 'pattern' });
  const err = (field: string) => errors.fields[field];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={
        route
          ? t('routes.form.editTitle', { pattern: route.pattern })
          : t('routes.form.createTitle')
      }
      footer={
        <>
          <Button onClick={onClose}>{t('actions.cancel', { ns: 'common' })}</Button>
          <Button variant="primary" type="submit" form="route-form" loading={save.isPending}>
            {route ? t('actions.save', { ns: 'common' }) : t('actions.create', { ns: 'common' })}
          </Button>
        </>
      }
    >
      <form id="route-form" onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <FormAlert>{errors.form}</FormAlert>
        </div>
        <Field
          className="sm:col-span-2"
          label={t('routes.form.pattern')}
          hint={t('routes.form.patternHint')}
          error={err('pattern')}
          required
        >
          {(props) => <Input {...props} value={form.pattern} onChange={set('pattern')} />}
        </Field>
        <Field label={t('routes.form.platform')} error={err('platform')}>
          {(props) => (
            <Select {...props} value={form.platform} onChange={set('platform')}>
              {PLATFORMS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          label={t('routes.form.position')}
          hint={t('routes.form.positionHint')}
          error={err('position')}
        >
          {(props) => (
            <Input
              {...props}
              type="number"
              min={0}
              value={form.position}
              onChange={set('position')}
            />
          )}
        </Field>
        <Field
          className="sm:col-span-2"
          label={t('routes.form.targetModel')}
          hint={t('routes.form.targetModelHint')}
          error={err('targetModel')}
        >
          {(props) => <Input {...props} value={form.targetModel} onChange={set('targetModel')} />}
        </Field>
        <Field className="sm:col-span-2" label={t('routes.form.note')} error={err('note')}>
          {(props) => <Input {...props} value={form.note} onChange={set('note')} />}
        </Field>
        <Checkbox
          label={t('routes.form.enabled')}
          checked={form.enabled}
          onChange={(event) => setForm({ ...form, enabled: event.target.checked })}
        />
      </form>
    </Dialog>
  );
}

function RouteTester() {
  const { t } = useTranslation('routing');
  const [model, setModel] = useState('gpt-4o');
  const resolve = useMutation({
    mutationFn: async (name: string) =>
      unwrap(
        await api.GET('/admin/api/model-routes/resolve', { params: { query: { model: name } } }),
      ),
  });
  const errors = errorsByField(resolve.error, ['model']);
  const result = resolve.data;
  return (
    <Card title={t('routes.tester.title')}>
      <form
        noValidate
        className="flex flex-wrap items-end gap-3"
        onSubmit={(event) => {
          event.preventDefault();
          resolve.mutate(model.trim());
        }}
      >
        <Field
          className="min-w-0 flex-1 sm:max-w-sm"
          label={t('routes.tester.model')}
          error={errors.fields.model ?? errors.form}
        >
          {(props) => (
            <Input {...props} value={model} onChange={(event) => setModel(event.target.value)} />
          )}
        </Field>
        <Button type="submit" variant="primary" loading={resolve.isPending}>
          {t('routes.tester.submit')}
        </Button>
      </form>
      {result && (
        <p
          role="status"
          data-testid="route-resolution"
          className="mt-3 rounded-md border border-border bg-surface-2 p-3"
        >
          {result.route
            ? t('routes.tester.found', {
                model: result.model,
                platform: result.route.platform,
                target: result.route.model,
              })
            : t('routes.tester.none', { model: result.model })}
        </p>
      )}
    </Card>
  );
}
