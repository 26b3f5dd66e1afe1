import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, Route, Routes, useNavigate } from 'react-router';
import { Plus } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/dialog';
import { Card, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { formatCost, formatDate, formatNumber, formatTokens } from '@/lib/format';
import { StatusBadge, useExpiryText } from '@/pages/keys/key-status';
import { KeyForm, type UserCaps } from '@/pages/keys/key-form';
import {
  capViolations,
  emptyForm,
  errorsByField,
  LIMIT_FIELDS,
  type ApiKey,
  type CapViolation,
  type CreatedApiKey,
  type CreateKeyBody,
  type LimitField,
} from '@/pages/keys/key-form-model';
import { SecretDialog, type ShownSecret } from '@/pages/keys/secret-dialog';
import { rememberSecret } from '@/pages/setup/secret-memory';

const usd = (micros: number) => formatCost(micros / 1_000_000);

function useCaps() {
  return useQuery({
    queryKey: ['me', 'caps'],
    queryFn: async () => unwrap(await api.GET('/admin/api/me/caps')) as unknown as UserCaps,
  });
}

/** A key's limits (or a user's ceilings) in short words: "100 requests per 60 min, $5.00 a day". */
function useLimitsText() {
  const { t } = useTranslation('me');
  return (limits: Partial<Record<LimitField, number>>): string[] => {
    const out: string[] = [];
    const minutes = limits.windowMinutes;
    if (minutes !== undefined) {
      if (limits.windowRequests !== undefined)
        out.push(
          t('keys.capsWindow', {
            value: t('keys.capsRequests', { value: formatNumber(limits.windowRequests) }),
            minutes,
          }),
        );
      if (limits.windowTokens !== undefined)
        out.push(
          t('keys.capsWindow', {
            value: t('keys.capsTokens', { value: formatTokens(limits.windowTokens) }),
            minutes,
          }),
        );
      if (limits.windowCostMicros !== undefined)
        out.push(t('keys.capsWindow', { value: usd(limits.windowCostMicros), minutes }));
    }
    if (limits.concurrency !== undefined)
      out.push(t('keys.capsConcurrency', { value: formatNumber(limits.concurrency) }));
    if (limits.dailyCostMicros !== undefined)
      out.push(t('keys.capsDaily', { value: usd(limits.dailyCostMicros) }));
    if (limits.weeklyCostMicros !== undefined)
      out.push(t('keys.capsWeekly', { value: usd(limits.weeklyCostMicros) }));
    if (limits.totalCostMicros !== undefined)
      out.push(t('keys.capsTotal', { value: usd(limits.totalCostMicros) }));
    return out;
  };
}

function CapsCard({ caps, held }: { caps: UserCaps; held?: number }) {
  const { t } = useTranslation('me');
  const { t: tk } = useTranslation('keys');
  const limitsText = useLimitsText()(caps.limits);
  return (
    <Card title={t('keys.capsTitle')} className="mb-4">
      <dl
        data-testid="my-caps"
        className="grid gap-x-6 gap-y-2 sm:grid-cols-[max-content_1fr] [&_dt]:text-muted"
      >
        <dt>{t('keys.capsMaxKeys')}</dt>
        <dd>
          {held === undefined
            ? formatNumber(caps.maxKeys)
            : t('keys.held', { count: held, max: caps.maxKeys })}
        </dd>
        <dt>{t('keys.capsPlatforms')}</dt>
        <dd>
          {caps.platforms
            ? caps.platforms.map((p) => tk(`platforms.${p}`)).join(', ')
            : t('keys.capsEveryPlatform')}
        </dd>
        <dt>{t('keys.capsModels')}</dt>
        <dd>{caps.models ? caps.models.join(', ') : t('keys.capsAnyModel')}</dd>
        <dt>{t('keys.capsLimits')}</dt>
        <dd>{limitsText.length > 0 ? limitsText.join(' · ') : t('keys.capsNoLimits')}</dd>
      </dl>
    </Card>
  );
}

function list(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}

/** A USER_CAP_EXCEEDED violation in words. */
function useViolationSentence() {
  const { t } = useTranslation('me');
  const { t: tk } = useTranslation('keys');
  return (v: CapViolation): string => {
    if (v.cap === 'maxKeys')
      return t('keys.violation.maxKeys', { limit: list(v.limit), requested: list(v.requested) });
    if (v.cap === 'platforms')
      return t('keys.violation.platforms', {
        limit: list(v.limit),
        requested: list(v.requested),
      });
    if (v.cap === 'models') {
      if (typeof v.requested === 'object' && v.requested !== null && !Array.isArray(v.requested))
        return t('keys.violation.modelsDeny', { limit: list(v.limit) });
      return t('keys.violation.models', { limit: list(v.limit), requested: list(v.requested) });
    }
    const field = v.cap.replace(/^limits\./, '') as LimitField;
    if (field === 'windowMinutes')
      return t('keys.violation.windowMinutes', {
        limit: list(v.limit),
        requested: list(v.requested),
      });
    const spec = LIMIT_FIELDS.find((f) => f.field === field);
    const money = spec?.unit === 'usd';
    const show = (value: unknown) =>
      typeof value === 'number' ? (money ? usd(value) : formatNumber(value)) : list(value);
    return t('keys.violation.limit', {
      field: spec ? tk(`form.${spec.label}`) : v.cap,
      limit: show(v.limit),
      requested: show(v.requested),
    });
  };
}

/** The server's USER_CAP_EXCEEDED violations, each in words. */
function CapViolations({ violations }: { violations: CapViolation[] }) {
  const { t } = useTranslation('me');
  const sentence = useViolationSentence();
  return (
    <div
      role="alert"
      data-testid="cap-error"
      className="rounded-md border border-danger/40 bg-danger/10 p-3 text-danger"
    >
      <p className="font-medium">{t('keys.capExceeded')}</p>
      <ul className="ml-5 list-disc">
        {violations.map((v, i) => (
          <li key={`${v.cap}-${i}`}>{sentence(v)}</li>
        ))}
      </ul>
    </div>
  );
}

function MyKeyList({ onSecret }: { onSecret: (shown: ShownSecret) => void }) {
  const { t } = useTranslation('me');
  const { t: tk } = useTranslation('keys');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const queryClient = useQueryClient();
  const limitsText = useLimitsText();
  const expiryText = useExpiryText();
  const [page, setPage] = useState(1);
  const [confirm, setConfirm] = useState<{ kind: 'delete' | 'rotate'; key: ApiKey } | null>(null);
  const caps = useCaps();
  const query = { page, pageSize: 50, sortBy: 'createdAt' as const, sortOrder: 'desc' as const };
  const keys = useQuery({
    queryKey: ['me', 'keys', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/me/keys', { params: { query } })),
  });
  const action = useMutation({
    mutationFn: async ({
      key,
      kind,
    }: {
      key: ApiKey;
      kind: 'enable' | 'disable' | 'rotate' | 'delete';
    }) => {
      const path = { params: { path: { id: key.id } } };
      switch (kind) {
        case 'enable':
          return unwrap(await api.POST('/admin/api/me/keys/{id}/enable', path));
        case 'disable':
          return unwrap(await api.POST('/admin/api/me/keys/{id}/disable', path));
        case 'rotate':
          return unwrap(await api.POST('/admin/api/me/keys/{id}/rotate', path));
        case 'delete':
          return unwrap(await api.DELETE('/admin/api/me/keys/{id}', path));
      }
    },
    onSuccess: (result, { kind }) => {
      setConfirm(null);
      void queryClient.invalidateQueries({ queryKey: ['me', 'keys'] });
      if (kind === 'rotate') {
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
      const done = { enable: 'enabled', disable: 'disabled', delete: 'deleted', rotate: 'saved' };
      toast('success', tk(`actions.${done[kind]}` as 'actions.enabled'));
    },
    onError: (error) => {
      setConfirm(null);
      toast('error', error.message);
    },
  });

  const columns: Column<ApiKey>[] = [
    {
      key: 'name',
      header: tk('columns.name'),
      cell: (key) => (
        <div className="flex min-w-36 flex-col gap-0.5">
          <span className="font-medium">{key.name}</span>
          <code className="text-[12px] text-muted">{key.keyHint}</code>
          {key.description && <span className="text-[12px] text-muted">{key.description}</span>}
        </div>
      ),
    },
    {
      key: 'status',
      header: tk('columns.status'),
      cell: (key) => <StatusBadge status={key.status} />,
    },
    {
      key: 'limits',
      header: t('keys.limitsColumn'),
      cell: (key) => {
        const text = limitsText(key.limits);
        return text.length > 0 ? (
          <ul className="text-[13px]">
            {text.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        ) : (
          <span className="text-muted">{t('keys.noLimits')}</span>
        );
      },
    },
    {
      key: 'lastUsed',
      header: tk('columns.lastUsed'),
      className: 'min-w-28',
      cell: (key) => (key.lastUsedAt ? formatDate(key.lastUsedAt) : tk('never')),
    },
    {
      key: 'expires',
      header: tk('columns.expires'),
      className: 'min-w-28',
      cell: (key) => expiryText(key),
    },
    {
      key: 'actions',
      header: <span className="sr-only">{tk('columns.actions')}</span>,
      cell: (key) => (
        <div className="grid grid-cols-[auto_auto] justify-end gap-1 whitespace-nowrap [&>*]:justify-center">
          <Link
            to={`/admin/setup?key=${key.id}`}
            className="inline-flex h-8 items-center rounded-md px-2 text-[13px] text-primary hover:bg-surface-2"
          >
            {tk('actions.setup')}
          </Link>
          <Button
            size="sm"
            onClick={() => action.mutate({ key, kind: key.enabled ? 'disable' : 'enable' })}
          >
            {key.enabled ? tc('actions.disable') : tc('actions.enable')}
          </Button>
          <Button size="sm" onClick={() => setConfirm({ kind: 'rotate', key })}>
            {tk('actions.rotate')}
          </Button>
          <Button
            size="sm"
            variant="ghost"
            className="text-danger"
            onClick={() => setConfirm({ kind: 'delete', key })}
          >
            {tc('actions.delete')}
          </Button>
        </div>
      ),
    },
  ];

  return (
    <>
      <PageHeader
        title={t('title')}
        description={t('keys.description')}
        actions={
          <Link
            to="new"
            className="inline-flex h-9 items-center gap-1.5 rounded-md bg-primary px-3.5 font-medium text-primary-fg hover:opacity-90"
          >
            <Plus className="size-4" aria-hidden />
            {t('keys.create')}
          </Link>
        }
      />
      {caps.error ? (
        <ErrorState error={caps.error} onRetry={() => void caps.refetch()} />
      ) : caps.data ? (
        <CapsCard caps={caps.data} held={keys.data?.total} />
      ) : null}
      <DataTable
        caption={t('keys.caption')}
        columns={columns}
        rows={keys.data?.items}
        rowKey={(key) => key.id}
        loading={keys.isLoading}
        error={keys.error}
        onRetry={() => void keys.refetch()}
        empty={t('keys.empty')}
      />
      {keys.data && keys.data.total > keys.data.pageSize && (
        <Pagination
          page={keys.data.page}
          pageSize={keys.data.pageSize}
          total={keys.data.total}
          onPageChange={setPage}
        />
      )}
      <ConfirmDialog
        open={confirm !== null}
        onOpenChange={(open) => !open && setConfirm(null)}
        pending={action.isPending}
        message={
          confirm &&
          (confirm.kind === 'rotate'
            ? tk('actions.confirmRotate', { name: confirm.key.name })
            : tk('actions.confirmDelete', { name: confirm.key.name }))
        }
        confirmLabel={confirm?.kind === 'rotate' ? tk('actions.rotate') : tc('actions.delete')}
        onConfirm={() => confirm && action.mutate({ key: confirm.key, kind: confirm.kind })}
      />
    </>
  );
}

function CreateMyKey({ onSecret }: { onSecret: (shown: ShownSecret) => void }) {
  const { t } = useTranslation('me');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const caps = useCaps();
  const create = useMutation({
    mutationFn: async (body: CreateKeyBody) => {
      const { owner: _o, bindings: _b, priceMultiplier: _p, reservationPolicy: _r, ...own } = body;
      return unwrap(await api.POST('/admin/api/me/keys', { body: own }));
    },
    onSuccess: (key) => {
      void queryClient.invalidateQueries({ queryKey: ['me', 'keys'] });
      rememberSecret(key.id, key.secret);
      onSecret({ keyId: key.id, name: key.name, secret: key.secret, kind: 'created' });
      void navigate('/admin/me/keys');
    },
  });
  const sentence = useViolationSentence();
  const violations = capViolations(create.error);
  const fields = {
    ...errorsByField(create.error),
    ...Object.fromEntries(
      violations.filter((v) => v.cap.startsWith('limits.')).map((v) => [v.cap, sentence(v)]),
    ),
  };
  const other =
    create.error && violations.length === 0 && Object.keys(fields).length === 0 ? (
      <ErrorState error={create.error} />
    ) : null;
  return (
    <>
      <Link
        to="/admin/me/keys"
        className="mb-2 inline-block text-[13px] text-primary hover:underline"
      >
        ← {t('keys.back')}
      </Link>
      <PageHeader title={t('keys.createTitle')} />
      {caps.data && <CapsCard caps={caps.data} />}
      {caps.isLoading ? (
        <Spinner />
      ) : (
        <KeyForm
          initial={{ ...emptyForm(), permissions: caps.data?.platforms ?? emptyForm().permissions }}
          mode="create"
          scope="self"
          caps={caps.data}
          pending={create.isPending}
          errors={fields}
          formError={violations.length > 0 ? <CapViolations violations={violations} /> : other}
          onSubmit={(body) => create.mutate(body as CreateKeyBody)}
          onCancel={() => void navigate('/admin/me/keys')}
        />
      )}
    </>
  );
}

/** /admin/me/keys: the signed-in user's own keys, over the /admin/api/me routes only. */
export default function MyKeysPage() {
  const [shown, setShown] = useState<ShownSecret | null>(null);
  return (
    <>
      <Routes>
        <Route index element={<MyKeyList onSecret={setShown} />} />
        <Route path="new" element={<CreateMyKey onSecret={setShown} />} />
        <Route path="*" element={<MyKeyList onSecret={setShown} />} />
      </Routes>
      <SecretDialog shown={shown} onClose={() => setShown(null)} />
    </>
  );
}
