import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { KeyRound, Pencil, Plus, Search, Trash2 } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { can, useUser, type Role } from '@/auth/session';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { Badge, CopyButton, ErrorState, PageHeader } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { errorsByField, type FormErrors } from '@/lib/field-errors';
import { formatDate } from '@/lib/format';

export type User = Schemas['UserResponseDto'];
type CapsInput = Schemas['UserCapsDto'];
type LimitsInput = Schemas['UserCapLimitsDto'];

const ROLES: Role[] = ['admin', 'operator', 'viewer', 'user'];
const PLATFORMS = ['claude', 'openai', 'gemini', 'droid'] as const;
type Platform = (typeof PLATFORMS)[number];

/** The limit fields of the caps form: the key, whether it is money (USD in the form), its label. */
const LIMITS = [
  { key: 'windowMinutes', money: false, label: 'windowMinutes' },
  { key: 'windowRequests', money: false, label: 'windowRequests' },
  { key: 'windowTokens', money: false, label: 'windowTokens' },
  { key: 'windowCostMicros', money: true, label: 'windowCost' },
  { key: 'concurrency', money: false, label: 'concurrency' },
  { key: 'dailyCostMicros', money: true, label: 'dailyCost' },
  { key: 'weeklyCostMicros', money: true, label: 'weeklyCost' },
  { key: 'totalCostMicros', money: true, label: 'totalCost' },
] as const;
type LimitKey = (typeof LIMITS)[number]['key'];

const FIELDS = [
  'username',
  'role',
  'password',
  'disabled',
  'caps',
  'caps.maxKeys',
  'caps.models',
  'caps.platforms',
  'caps.limits',
  ...LIMITS.map((limit) => `caps.limits.${limit.key}`),
];

interface CapsDraft {
  maxKeys: string;
  limits: Record<LimitKey, string>;
  models: string;
  platforms: Platform[];
}

function draftOf(caps?: User['caps']): CapsDraft {
  const limits = (caps?.limits ?? {}) as Partial<Record<LimitKey, number>>;
  return {
    maxKeys: String(caps?.maxKeys ?? 5),
    limits: Object.fromEntries(
      LIMITS.map(({ key, money }) => {
        const value = limits[key];
        return [key, value === undefined ? '' : String(money ? value / 1e6 : value)];
      }),
    ) as Record<LimitKey, string>,
    models: (caps?.models ?? []).join('\n'),
    platforms: [...(caps?.platforms ?? [])],
  };
}

function numberOr(text: string, money: boolean): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  if (Number.isNaN(n)) return NaN;
  return money ? Math.round(n * 1e6) : n;
}

/**
 * The caps to send. On create a limit left empty is left out; on update it is null (removes the
 * ceiling), since the server merges limits field by field.
 */
export function capsOf(draft: CapsDraft, mode: 'create' | 'update'): CapsInput {
  const limits: LimitsInput = {};
  for (const { key, money } of LIMITS) {
    const value = numberOr(draft.limits[key], money);
    if (value !== null) limits[key] = value;
    else if (mode === 'update') limits[key] = null;
  }
  const models = draft.models
    .split(/[\s,]+/)
    .map((pattern) => pattern.trim())
    .filter(Boolean);
  return {
    maxKeys: draft.maxKeys.trim() === '' ? undefined : Number(draft.maxKeys),
    limits,
    models: models.length > 0 ? models : null,
    platforms: draft.platforms.length > 0 ? draft.platforms : null,
  };
}

export default function UsersPage() {
  const { t } = useTranslation('users');
  const me = useUser();
  const admin = can(me, ['admin']);
  const queryClient = useQueryClient();
  const toast = useToast();

  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const [role, setRole] = useState<Role | ''>('');
  const [status, setStatus] = useState<'' | 'enabled' | 'disabled'>('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(20);

  const [editing, setEditing] = useState<User | 'new' | null>(null);
  const [resetting, setResetting] = useState<User | null>(null);
  const [deleting, setDeleting] = useState<User | null>(null);
  const [revealed, setRevealed] = useState<{ username: string; password: string } | null>(null);

  const query = {
    page,
    pageSize,
    sortBy: 'username' as const,
    sortOrder: 'asc' as const,
    ...(search ? { search } : {}),
    ...(role ? { role } : {}),
    ...(status ? { disabled: status === 'disabled' } : {}),
  };
  const list = useQuery({
    queryKey: ['users', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/users', { params: { query } })),
  });

  const remove = useMutation({
    mutationFn: async (user: User) =>
      unwrap(await api.DELETE('/admin/api/users/{id}', { params: { path: { id: user.id } } })),
    onSuccess: async () => {
      setDeleting(null);
      toast('success', t('deleted'));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
    },
  });

  const columns: Column<User>[] = [
    {
      key: 'username',
      header: t('col.username'),
      cell: (user) => <span className="font-medium">{user.username}</span>,
    },
    {
      key: 'role',
      header: t('col.role'),
      cell: (user) => (
        <Badge tone={user.role === 'admin' ? 'info' : 'neutral'}>
          {t(`roles.${user.role}`, { ns: 'common' })}
        </Badge>
      ),
    },
    {
      key: 'source',
      header: t('col.source'),
      cell: (user) => (
        <span title={t(`sourceHint.${user.authSource}`)}>
          <Badge tone={user.authSource === 'ldap' ? 'warning' : 'neutral'}>
            {t(`source.${user.authSource}`)}
          </Badge>
        </span>
      ),
    },
    {
      key: 'status',
      header: t('col.status'),
      cell: (user) =>
        user.disabled ? (
          <Badge tone="danger">{t('state.disabled', { ns: 'common' })}</Badge>
        ) : (
          <Badge tone="success">{t('state.enabled', { ns: 'common' })}</Badge>
        ),
    },
    { key: 'maxKeys', header: t('col.maxKeys'), cell: (user) => user.caps.maxKeys },
    {
      key: 'lastLogin',
      header: t('col.lastLogin'),
      className: 'whitespace-nowrap',
      cell: (user) => (user.lastLoginAt ? formatDate(user.lastLoginAt) : t('never')),
    },
    {
      key: 'created',
      header: t('col.created'),
      className: 'whitespace-nowrap',
      cell: (user) => formatDate(user.createdAt),
    },
  ];
  if (admin) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('col.actions')}</span>,
      cell: (user) => (
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('edit', { name: user.username })}
            title={t('edit', { name: user.username })}
            onClick={() => setEditing(user)}
          >
            <Pencil className="size-4" aria-hidden />
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('resetPasswordOf', { name: user.username })}
            title={t('resetPasswordOf', { name: user.username })}
            onClick={() => setResetting(user)}
          >
            <KeyRound className="size-4" aria-hidden />
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('deleteUser', { name: user.username })}
            title={t('deleteUser', { name: user.username })}
            onClick={() => setDeleting(user)}
          >
            <Trash2 className="size-4 text-danger" aria-hidden />
          </Button>
        </div>
      ),
    });
  }

  const applySearch = (event: FormEvent) => {
    event.preventDefault();
    setPage(1);
    setSearch(searchDraft.trim());
  };

  return (
    <div>
      <PageHeader
        title={t('title')}
        description={t('description')}
        actions={
          admin && (
            <Button variant="primary" onClick={() => setEditing('new')}>
              <Plus className="size-4" aria-hidden />
              {t('newUser')}
            </Button>
          )
        }
      />
      <div className="mb-3 flex flex-wrap items-end gap-2">
        <form
          role="search"
          onSubmit={applySearch}
          className="flex min-w-0 flex-1 gap-2 sm:flex-none"
        >
          <label htmlFor="users-search" className="sr-only">
            {t('searchLabel')}
          </label>
          <Input
            id="users-search"
            className="sm:w-64"
            placeholder={t('searchPlaceholder')}
            value={searchDraft}
            onChange={(event) => setSearchDraft(event.target.value)}
          />
          <Button type="submit" aria-label={t('actions.search', { ns: 'common' })}>
            <Search className="size-4" aria-hidden />
          </Button>
        </form>
        <label className="sr-only" htmlFor="users-role">
          {t('roleFilter')}
        </label>
        <Select
          id="users-role"
          className="sm:w-auto"
          value={role}
          onChange={(event) => {
            setPage(1);
            setRole(event.target.value as Role | '');
          }}
        >
          <option value="">{t('allRoles')}</option>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {t(`roles.${r}`, { ns: 'common' })}
            </option>
          ))}
        </Select>
        <label className="sr-only" htmlFor="users-status">
          {t('statusFilter')}
        </label>
        <Select
          id="users-status"
          className="sm:w-auto"
          value={status}
          onChange={(event) => {
            setPage(1);
            setStatus(event.target.value as '' | 'enabled' | 'disabled');
          }}
        >
          <option value="">{t('allStatuses')}</option>
          <option value="enabled">{t('state.enabled', { ns: 'common' })}</option>
          <option value="disabled">{t('state.disabled', { ns: 'common' })}</option>
        </Select>
      </div>
      <DataTable
        caption={t('caption')}
        columns={columns}
        rows={list.data?.items}
        rowKey={(user) => user.id}
        loading={list.isPending}
        error={list.error}
        onRetry={() => void list.refetch()}
        empty={t('empty')}
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
        <UserDialog
          user={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onCreated={(username, password) => password && setRevealed({ username, password })}
        />
      )}
      {resetting && (
        <ResetPasswordDialog
          user={resetting}
          onClose={() => setResetting(null)}
          onGenerated={(password) => setRevealed({ username: resetting.username, password })}
        />
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
            {t('deleteConfirm', { name: deleting?.username ?? '' })}
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
      {revealed && (
        <Dialog
          open
          onOpenChange={(open) => !open && setRevealed(null)}
          title={t('password.generatedTitle', { name: revealed.username })}
          footer={
            <Button variant="primary" onClick={() => setRevealed(null)}>
              {t('password.done')}
            </Button>
          }
        >
          <p className="mb-3 text-warning">{t('password.generated')}</p>
          <div className="flex flex-wrap items-center gap-2">
            <code
              data-testid="generated-password"
              className="rounded border border-border bg-surface-2 px-2 py-1 font-mono break-all"
            >
              {revealed.password}
            </code>
            <CopyButton value={revealed.password} label={t('password.copy')} />
          </div>
        </Dialog>
      )}
    </div>
  );
}

function FormError({ errors }: { errors: FormErrors }) {
  return errors.form ? (
    <p role="alert" className="rounded-md border border-danger/40 bg-danger/10 p-2 text-danger">
      {errors.form}
    </p>
  ) : null;
}

/** Create a user (username, role, password, caps) or edit one (role, disabled, caps). */
function UserDialog({
  user,
  onClose,
  onCreated,
}: {
  user: User | null;
  onClose: () => void;
  onCreated: (username: string, generatedPassword: string | undefined) => void;
}) {
  const { t } = useTranslation('users');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [username, setUsername] = useState('');
  const [role, setRole] = useState<Role>(user?.role ?? 'user');
  const [password, setPassword] = useState('');
  const [disabled, setDisabled] = useState(user?.disabled ?? false);
  const [caps, setCaps] = useState<CapsDraft>(() => draftOf(user?.caps));

  const save = useMutation({
    mutationFn: async () => {
      if (user) {
        return unwrap(
          await api.PATCH('/admin/api/users/{id}', {
            params: { path: { id: user.id } },
            body: {
              ...(role !== user.role ? { role } : {}),
              ...(disabled !== user.disabled ? { disabled } : {}),
              caps: capsOf(caps, 'update'),
            },
          }),
        );
      }
      return unwrap(
        await api.POST('/admin/api/users', {
          body: {
            username: username.trim(),
            role,
            ...(password ? { password } : {}),
            caps: capsOf(caps, 'create'),
          },
        }),
      );
    },
    onSuccess: async (saved) => {
      toast('success', user ? t('updated') : t('created'));
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      onClose();
      if (!user)
        onCreated(
          saved.username,
          (saved as Schemas['UserWithPasswordResponseDto']).generatedPassword,
        );
    },
  });
  const errors = errorsByField(save.error, FIELDS, { USERNAME_TAKEN: 'username' });
  const err = (field: string) => errors.fields[field];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };

  return (
    <Dialog
      open
      wide
      onOpenChange={(open) => !open && onClose()}
      title={user ? t('form.editTitle', { name: user.username }) : t('form.createTitle')}
      footer={
        <>
          <Button onClick={onClose}>{t('actions.cancel', { ns: 'common' })}</Button>
          <Button variant="primary" type="submit" form="user-form" loading={save.isPending}>
            {user ? t('actions.save', { ns: 'common' }) : t('actions.create', { ns: 'common' })}
          </Button>
        </>
      }
    >
      <form id="user-form" onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <FormError errors={errors} />
        <div className="grid gap-3 sm:grid-cols-2">
          {!user && (
            <Field
              label={t('form.username')}
              hint={t('form.usernameHint')}
              error={err('username')}
              required
            >
              {(props) => (
                <Input
                  {...props}
                  autoComplete="off"
                  value={username}
                  onChange={(event) => setUsername(event.target.value)}
                />
              )}
            </Field>
          )}
          <Field label={t('form.role')} error={err('role')}>
            {(props) => (
              <Select
                {...props}
                value={role}
                onChange={(event) => setRole(event.target.value as Role)}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {t(`roles.${r}`, { ns: 'common' })}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          {!user && (
            <Field label={t('form.password')} hint={t('form.passwordHint')} error={err('password')}>
              {(props) => (
                <Input
                  {...props}
                  type="password"
                  autoComplete="new-password"
                  value={password}
                  onChange={(event) => setPassword(event.target.value)}
                />
              )}
            </Field>
          )}
          {user && (
            <div className="flex items-end pb-1.5">
              <Checkbox
                label={t('form.disabled')}
                checked={disabled}
                onChange={(event) => setDisabled(event.target.checked)}
              />
            </div>
          )}
        </div>
        {!user && <p className="text-[13px] text-muted">{t('form.ldapNote')}</p>}
        {user?.authSource === 'ldap' && (
          <p className="text-[13px] text-muted">{t('sourceHint.ldap')}</p>
        )}
        <fieldset className="rounded-md border border-border p-3">
          <legend className="px-1 font-medium">{t('form.caps')}</legend>
          <p className="mb-3 text-[13px] text-muted">{t('form.capsHint')}</p>
          {err('caps') && (
            <p role="alert" className="mb-2 text-[13px] text-danger">
              {err('caps')}
            </p>
          )}
          <div className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
            <Field label={t('form.maxKeys')} error={err('caps.maxKeys')}>
              {(props) => (
                <Input
                  {...props}
                  type="number"
                  min={0}
                  max={1000}
                  value={caps.maxKeys}
                  onChange={(event) => setCaps({ ...caps, maxKeys: event.target.value })}
                />
              )}
            </Field>
            {LIMITS.map(({ key, money, label }) => (
              <Field
                key={key}
                label={t(`form.${label}`)}
                hint={key === 'windowMinutes' ? t('form.windowMinutesHint') : undefined}
                error={err(`caps.limits.${key}`)}
              >
                {(props) => (
                  <Input
                    {...props}
                    type="number"
                    min={0}
                    step={money ? 0.01 : 1}
                    placeholder={t('state.unlimited', { ns: 'common' })}
                    value={caps.limits[key]}
                    onChange={(event) =>
                      setCaps({ ...caps, limits: { ...caps.limits, [key]: event.target.value } })
                    }
                  />
                )}
              </Field>
            ))}
          </div>
          <div className="mt-3 grid gap-3 sm:grid-cols-2">
            <Field label={t('form.models')} hint={t('form.modelsHint')} error={err('caps.models')}>
              {(props) => (
                <Textarea
                  {...props}
                  rows={3}
                  value={caps.models}
                  onChange={(event) => setCaps({ ...caps, models: event.target.value })}
                />
              )}
            </Field>
            <fieldset>
              <legend className="mb-1 font-medium">{t('form.platforms')}</legend>
              <div className="flex flex-wrap gap-3">
                {PLATFORMS.map((platform) => (
                  <Checkbox
                    key={platform}
                    label={platform}
                    checked={caps.platforms.includes(platform)}
                    onChange={(event) =>
                      setCaps({
                        ...caps,
                        platforms: event.target.checked
                          ? [...caps.platforms, platform]
                          : caps.platforms.filter((p) => p !== platform),
                      })
                    }
                  />
                ))}
              </div>
              {err('caps.platforms') ? (
                <p role="alert" className="mt-1 text-[13px] text-danger">
                  {err('caps.platforms')}
                </p>
              ) : (
                <p className="mt-1 text-[13px] text-muted">{t('form.platformsHint')}</p>
              )}
            </fieldset>
          </div>
        </fieldset>
      </form>
    </Dialog>
  );
}

function ResetPasswordDialog({
  user,
  onClose,
  onGenerated,
}: {
  user: User;
  onClose: () => void;
  onGenerated: (password: string) => void;
}) {
  const { t } = useTranslation('users');
  const toast = useToast();
  const queryClient = useQueryClient();
  const [password, setPassword] = useState('');
  const reset = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/admin/api/users/{id}/reset-password', {
          params: { path: { id: user.id } },
          body: password ? { password } : {},
        }),
      ),
    onSuccess: async (result) => {
      await queryClient.invalidateQueries({ queryKey: ['users'] });
      onClose();
      if (result.generatedPassword) onGenerated(result.generatedPassword);
      else toast('success', t('password.set'));
    },
  });
  const errors = errorsByField(reset.error, ['password']);
  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={t('password.title', { name: user.username })}
      description={t('password.explain')}
      footer={
        <>
          <Button onClick={onClose}>{t('actions.cancel', { ns: 'common' })}</Button>
          <Button variant="danger" type="submit" form="reset-form" loading={reset.isPending}>
            {t('password.submit')}
          </Button>
        </>
      }
    >
      <form
        id="reset-form"
        className="flex flex-col gap-3"
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          reset.mutate();
        }}
      >
        <FormError errors={errors} />
        <Field
          label={t('password.custom')}
          hint={t('password.customHint')}
          error={errors.fields.password}
        >
          {(props) => (
            <Input
              {...props}
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          )}
        </Field>
      </form>
    </Dialog>
  );
}
