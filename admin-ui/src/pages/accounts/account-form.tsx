import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate, useParams, useSearchParams } from 'react-router';
import { LogIn } from 'lucide-react';
import { Button } from '@/components/ui/button';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { LinkButton } from '@/components/ui/link-button';
import { Card, ErrorState, PageHeader, Spinner } from '@/components/ui/misc';
import { useToast } from '@/components/ui/toast';
import { plainText } from '@/lib/format';
import {
  useAccount,
  useAccountTypes,
  useGroups,
  useSaveAccount,
  type Account,
  type AccountGroup,
  type AccountType,
  type CreateAccountBody,
  type CredentialField,
  type UpdateAccountBody,
} from './api';
import { accountFieldErrors } from './field-errors';
import { objectFromPairs, PairsEditor, pairsFromObject, type Pair } from './pairs-editor';

/** The OAuth wizard of a type that has one. */
export const WIZARD_OF_TYPE: Partial<Record<AccountType['type'], 'claude' | 'codex' | 'google'>> = {
  'claude-oauth': 'claude',
  'codex-oauth': 'codex',
  'gemini-oauth': 'google',
};

type CredentialValue = string | Pair[];
type ModelsMode = 'all' | 'list' | 'map';
const SUBSCRIPTION_FIELDS = ['plan', 'email', 'organizationName'] as const;

interface FormState {
  name: string;
  baseUrl: string;
  priority: string;
  weight: string;
  concurrencyLimit: string;
  proxy: string;
  enabled: boolean;
  schedulable: boolean;
  groupIds: string[];
  modelsMode: ModelsMode;
  modelList: string;
  modelMap: Pair[];
  credentials: Record<string, CredentialValue>;
  subscription: Record<(typeof SUBSCRIPTION_FIELDS)[number], string>;
}

function emptyCredential(field: CredentialField): CredentialValue {
  return field.kind === 'map' ? [] : '';
}

function initialState(type: AccountType, account?: Account): FormState {
  const summary = (account?.credentials ?? {}) as Record<string, unknown>;
  const credentials: Record<string, CredentialValue> = {};
  for (const field of type.credentialFields) {
    const current = field.secret ? undefined : summary[field.name];
    if (current === undefined || current === null) credentials[field.name] = emptyCredential(field);
    else if (field.kind === 'map')
      credentials[field.name] = pairsFromObject(current as Record<string, unknown>);
    else if (field.kind === 'object') credentials[field.name] = JSON.stringify(current, null, 2);
    else credentials[field.name] = plainText(current);
  }
  const models = account?.models ?? null;
  return {
    name: account?.name ?? '',
    baseUrl: account?.baseUrl ?? '',
    priority: String(account?.priority ?? 50),
    weight: String(account?.weight ?? 1),
    concurrencyLimit: account?.concurrencyLimit == null ? '' : String(account.concurrencyLimit),
    proxy: account?.proxy ?? '',
    enabled: account?.enabled ?? true,
    schedulable: account?.schedulable ?? true,
    groupIds: account?.groupIds ?? [],
    modelsMode: models === null ? 'all' : Array.isArray(models) ? 'list' : 'map',
    modelList: Array.isArray(models) ? models.join('\n') : '',
    modelMap: models !== null && !Array.isArray(models) ? pairsFromObject(models) : [],
    credentials,
    subscription: {
      plan: account?.subscription?.plan ?? '',
      email: account?.subscription?.email ?? '',
      organizationName: account?.subscription?.organizationName ?? '',
    },
  };
}

const number = (text: string): number | string =>
  /^-?\d+$/.test(text.trim()) ? Number(text) : text;

/** The credentials to send; `blank` says what an empty field means (omit, or null to remove it). */
function credentialsBody(
  type: AccountType,
  state: FormState,
  editing: boolean,
  localErrors: Record<string, string>,
  invalidJson: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.credentialFields) {
    const value = state.credentials[field.name] ?? emptyCredential(field);
    const key = `credentials.${field.name}`;
    if (Array.isArray(value)) {
      const map = objectFromPairs(value);
      if (Object.keys(map).length > 0) out[field.name] = map;
      else if (editing && !field.required) out[field.name] = null;
      continue;
    }
    const text = value.trim();
    if (text === '') {
      // A blank secret keeps the stored one; a blank optional field removes it.
      if (editing && !field.secret && !field.required) out[field.name] = null;
      continue;
    }
    if (field.kind === 'timestamp') out[field.name] = number(text);
    else if (field.kind === 'object') {
      try {
        const parsed: unknown = JSON.parse(text);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error();
        out[field.name] = parsed;
      } catch {
        localErrors[key] = invalidJson;
      }
    } else out[field.name] = text;
  }
  return out;
}

/** The fields every type shares, as the API takes them. */
function commonBody(type: AccountType, state: FormState): Record<string, unknown> {
  const models =
    state.modelsMode === 'all'
      ? null
      : state.modelsMode === 'list'
        ? state.modelList
            .split(/[\n,]/)
            .map((name) => name.trim())
            .filter(Boolean)
        : objectFromPairs(state.modelMap);
  const body: Record<string, unknown> = {
    name: state.name.trim(),
    baseUrl: state.baseUrl.trim() === '' ? null : state.baseUrl.trim(),
    priority: number(state.priority),
    weight: number(state.weight),
    concurrencyLimit: state.concurrencyLimit.trim() === '' ? null : number(state.concurrencyLimit),
    proxy: state.proxy.trim() === '' ? null : state.proxy.trim(),
    enabled: state.enabled,
    schedulable: state.schedulable,
    groupIds: state.groupIds,
    models,
  };
  if (type.supportsSubscription) {
    const facts = Object.fromEntries(
      SUBSCRIPTION_FIELDS.map((key) => [key, state.subscription[key].trim()] as const).filter(
        ([, value]) => value !== '',
      ),
    );
    body.subscription = Object.keys(facts).length === 0 ? null : facts;
  }
  return body;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Create (`/admin/accounts/new?type=…`) or edit (`/admin/accounts/:id/edit`) an account. */
export function AccountFormPage({ mode }: { mode: 'create' | 'edit' }) {
  const { t } = useTranslation('accounts');
  const { id = '' } = useParams();
  const types = useAccountTypes();
  const account = useAccount(id, mode === 'edit');
  const editing = mode === 'edit';

  const title = editing
    ? t('form.editTitle', { name: account.data?.name ?? '' })
    : t('form.createTitle');
  if (types.error || (editing && account.error)) {
    return (
      <>
        <PageHeader title={title} />
        <ErrorState
          error={types.error ?? account.error}
          onRetry={() => void (types.error ? types.refetch() : account.refetch())}
        />
      </>
    );
  }
  if (!types.data || (editing && !account.data)) return <Spinner />;
  return (
    <>
      <PageHeader title={title} />
      <AccountForm
        key={editing ? account.data?.id : 'new'}
        types={types.data}
        account={editing ? account.data : undefined}
      />
    </>
  );
}

function AccountForm({ types, account }: { types: AccountType[]; account?: Account }) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const navigate = useNavigate();
  const toast = useToast();
  const [params, setParams] = useSearchParams();
  const groups = useGroups();
  const save = useSaveAccount();
  const editing = account !== undefined;

  const typeId = account?.type ?? params.get('type') ?? '';
  const type = types.find((candidate) => candidate.type === typeId);
  const initial = useMemo(() => (type ? initialState(type, account) : null), [type, account]);
  const [state, setState] = useState<FormState | null>(initial);
  const [dirtyCredentials, setDirtyCredentials] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});

  const chooseType = (next: string) => {
    setParams(next ? { type: next } : {}, { replace: true });
    const nextType = types.find((candidate) => candidate.type === next);
    setState(nextType ? initialState(nextType) : null);
    setErrors({});
    setDirtyCredentials(false);
  };

  const known = useMemo(
    () => [
      'name',
      'type',
      'baseUrl',
      'priority',
      'weight',
      'concurrencyLimit',
      'proxy',
      'enabled',
      'schedulable',
      'groupIds',
      'models',
      'credentials',
      'subscription',
      ...SUBSCRIPTION_FIELDS.map((key) => `subscription.${key}`),
      ...(type?.credentialFields ?? []).map((field) => `credentials.${field.name}`),
    ],
    [type],
  );

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!type || !state || !initial) return;
    const local: Record<string, string> = {};
    const credentials = credentialsBody(type, state, editing, local, t('form.invalidJson'));
    if (Object.keys(local).length > 0) {
      setErrors(local);
      return;
    }
    const common = commonBody(type, state);
    let request: { id: string; body: UpdateAccountBody } | { body: CreateAccountBody };
    if (account) {
      // Only what changed: the proxy comes back masked, and an untouched one must not be re-sent.
      const before = commonBody(type, initial);
      const body: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(common)) {
        if (!same(value, before[key])) body[key] = value;
      }
      if (dirtyCredentials) body.credentials = credentials;
      request = { id: account.id, body: body as UpdateAccountBody };
    } else {
      const body: Record<string, unknown> = { ...common, type: type.type, credentials };
      for (const key of ['baseUrl', 'concurrencyLimit', 'proxy', 'subscription'] as const) {
        if (body[key] === null) delete body[key];
      }
      request = { body: body as CreateAccountBody };
    }
    setErrors({});
    save.mutate(request, {
      onSuccess: (saved) => {
        toast('success', editing ? tc('state.saved') : t('form.created', { name: saved.name }));
        void navigate(`/admin/accounts/${saved.id}`);
      },
      onError: (error) => setErrors(accountFieldErrors(error, known)),
    });
  };

  const set = <K extends keyof FormState>(key: K, value: FormState[K]) =>
    setState((current) => (current ? { ...current, [key]: value } : current));
  const setCredential = (name: string, value: CredentialValue) => {
    setDirtyCredentials(true);
    setState((current) =>
      current ? { ...current, credentials: { ...current.credentials, [name]: value } } : current,
    );
  };

  const wizard = type ? WIZARD_OF_TYPE[type.type] : undefined;
  const platformGroups = (groups.data ?? []).filter((group) => group.platform === type?.platform);
  const summary = (account?.credentials ?? {}) as Record<string, unknown>;

  return (
    <form onSubmit={submit} noValidate className="flex max-w-3xl flex-col gap-4">
      <Card>
        <Field label={t('fields.type')} required={!editing}>
          {(props) => (
            <Select
              {...props}
              data-testid="account-type-select"
              value={typeId}
              disabled={editing}
              onChange={(event) => chooseType(event.target.value)}
            >
              <option value="">{t('form.chooseType')}</option>
              {types.map((candidate) => (
                <option key={candidate.type} value={candidate.type}>
                  {candidate.label} ({candidate.type})
                </option>
              ))}
            </Select>
          )}
        </Field>
        {wizard && !editing && (
          <div className="mt-3 flex flex-wrap items-center gap-3 rounded-md border border-info/40 bg-info/10 p-3">
            <p className="flex-1">{t(`form.wizardHint.${wizard}`)}</p>
            <LinkButton to={`/admin/accounts/oauth/${wizard}`} variant="primary" size="sm">
              <LogIn className="size-4" aria-hidden />
              {t(`oauth.start.${wizard}`)}
            </LinkButton>
          </div>
        )}
      </Card>

      {type && state && (
        <>
          {errors[''] && (
            <p
              role="alert"
              className="rounded-md border border-danger/40 bg-danger/10 p-3 text-danger"
            >
              {errors['']}
            </p>
          )}
          <Card title={t('form.general')}>
            <div className="grid grid-cols-1 gap-3 sm:grid-cols-2">
              <Field
                label={t('fields.name')}
                required
                error={errors.name}
                className="sm:col-span-2"
              >
                {(props) => (
                  <Input
                    {...props}
                    name="name"
                    autoComplete="off"
                    value={state.name}
                    onChange={(event) => set('name', event.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('fields.baseUrl')}
                required={type.defaultBaseUrl === null}
                error={errors.baseUrl}
                className="sm:col-span-2"
                hint={
                  type.defaultBaseUrl
                    ? t('form.baseUrlDefault', { url: type.defaultBaseUrl })
                    : t('form.baseUrlRequired')
                }
              >
                {(props) => (
                  <Input
                    {...props}
                    name="baseUrl"
                    type="url"
                    inputMode="url"
                    placeholder={type.defaultBaseUrl ?? 'https://'}
                    value={state.baseUrl}
                    onChange={(event) => set('baseUrl', event.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('fields.priority')}
                hint={t('form.priorityHint')}
                error={errors.priority}
              >
                {(props) => (
                  <Input
                    {...props}
                    name="priority"
                    type="number"
                    min={0}
                    max={1000}
                    value={state.priority}
                    onChange={(event) => set('priority', event.target.value)}
                  />
                )}
              </Field>
              <Field label={t('fields.weight')} hint={t('form.weightHint')} error={errors.weight}>
                {(props) => (
                  <Input
                    {...props}
                    name="weight"
                    type="number"
                    min={1}
                    max={1000}
                    value={state.weight}
                    onChange={(event) => set('weight', event.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('fields.proxy')}
                hint={editing && account?.proxy ? t('form.proxyMasked') : t('form.proxyHint')}
                error={errors.proxy}
              >
                {(props) => (
                  <Input
                    {...props}
                    name="proxy"
                    placeholder="socks5://user:pass@host:1080"
                    autoComplete="off"
                    value={state.proxy}
                    onChange={(event) => set('proxy', event.target.value)}
                  />
                )}
              </Field>
              <Field
                label={t('fields.concurrencyLimit')}
                hint={t('form.concurrencyHint')}
                error={errors.concurrencyLimit}
              >
                {(props) => (
                  <Input
                    {...props}
                    name="concurrencyLimit"
                    type="number"
                    min={1}
                    value={state.concurrencyLimit}
                    onChange={(event) => set('concurrencyLimit', event.target.value)}
                  />
                )}
              </Field>
              <div className="flex flex-wrap gap-4 sm:col-span-2">
                <Checkbox
                  label={t('fields.enabled')}
                  checked={state.enabled}
                  onChange={(event) => set('enabled', event.target.checked)}
                />
                <Checkbox
                  label={t('fields.schedulable')}
                  checked={state.schedulable}
                  onChange={(event) => set('schedulable', event.target.checked)}
                />
              </div>
            </div>
          </Card>

          <Card title={t('form.credentials')}>
            {editing && <p className="mb-3 text-[13px] text-muted">{t('form.secretsKeep')}</p>}
            {errors.credentials && (
              <p role="alert" className="mb-3 text-[13px] text-danger">
                {errors.credentials}
              </p>
            )}
            <div className="grid grid-cols-1 gap-3">
              {type.credentialFields.map((field) => (
                <CredentialInput
                  key={field.name}
                  field={field}
                  value={state.credentials[field.name] ?? emptyCredential(field)}
                  onChange={(value) => setCredential(field.name, value)}
                  error={errors[`credentials.${field.name}`]}
                  editing={editing}
                  current={currentHint(field, summary)}
                />
              ))}
            </div>
          </Card>

          <Card title={t('fields.models')}>
            <ModelsEditor state={state} set={set} error={errors.models} />
          </Card>

          <Card title={t('fields.groups')}>
            <GroupPicker
              groups={platformGroups}
              value={state.groupIds}
              onChange={(groupIds) => set('groupIds', groupIds)}
              error={errors.groupIds}
              platform={type.platform}
            />
          </Card>

          {type.supportsSubscription && (
            <Card title={t('form.subscription')}>
              <p className="mb-3 text-[13px] text-muted">{t('form.subscriptionHint')}</p>
              {errors.subscription && (
                <p role="alert" className="mb-3 text-[13px] text-danger">
                  {errors.subscription}
                </p>
              )}
              <div className="grid grid-cols-1 gap-3 sm:grid-cols-3">
                {SUBSCRIPTION_FIELDS.map((key) => (
                  <Field key={key} label={t(`detail.${key}`)} error={errors[`subscription.${key}`]}>
                    {(props) => (
                      <Input
                        {...props}
                        value={state.subscription[key]}
                        onChange={(event) =>
                          set('subscription', { ...state.subscription, [key]: event.target.value })
                        }
                      />
                    )}
                  </Field>
                ))}
              </div>
            </Card>
          )}

          <div className="flex flex-wrap justify-end gap-2">
            <Button
              onClick={() =>
                void navigate(account ? `/admin/accounts/${account.id}` : '/admin/accounts')
              }
            >
              {tc('actions.cancel')}
            </Button>
            <Button
              type="submit"
              variant="primary"
              loading={save.isPending}
              data-testid="account-save"
            >
              {editing ? tc('actions.save') : tc('actions.create')}
            </Button>
          </div>
        </>
      )}
    </form>
  );
}

/** What the server shows of a stored credential: its masked hint, or whether it is set. */
function currentHint(field: CredentialField, summary: Record<string, unknown>): string | null {
  const hint = summary[`${field.name}Hint`];
  if (typeof hint === 'string') return hint;
  const flag = summary[`has${field.name[0]?.toUpperCase()}${field.name.slice(1)}`];
  if (typeof flag === 'boolean') return flag ? '••••' : null;
  return null;
}

function CredentialInput({
  field,
  value,
  onChange,
  error,
  editing,
  current,
}: {
  field: CredentialField;
  value: CredentialValue;
  onChange: (value: CredentialValue) => void;
  error?: string;
  editing: boolean;
  current: string | null;
}) {
  const { t } = useTranslation('accounts');
  const hint: ReactNode = (
    <>
      {field.description}
      {field.secret && editing && (
        <span className="block">
          {current ? t('form.secretCurrent', { hint: current }) : t('form.secretNotSet')}
        </span>
      )}
      {field.kind === 'timestamp' && <span className="block">{t('form.timestampHint')}</span>}
    </>
  );
  return (
    <Field
      label={<span className="font-mono">{field.name}</span>}
      required={field.required && !(editing && field.secret)}
      hint={hint}
      error={error}
    >
      {(props) => {
        if (field.kind === 'map') {
          return (
            <PairsEditor
              label={field.name}
              value={value as Pair[]}
              onChange={onChange}
              fromLabel={t('form.mapFrom')}
              toLabel={t('form.mapTo')}
              invalid={props['aria-invalid']}
              describedBy={props['aria-describedby']}
            />
          );
        }
        const text = value as string;
        if (field.kind === 'enum') {
          return (
            <Select
              {...props}
              name={`credentials.${field.name}`}
              value={text}
              onChange={(event) => onChange(event.target.value)}
            >
              <option value="">{field.required ? t('form.choose') : t('form.default')}</option>
              {(field.values ?? []).map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </Select>
          );
        }
        if (field.kind === 'object') {
          return (
            <Textarea
              {...props}
              name={`credentials.${field.name}`}
              placeholder="{ }"
              value={text}
              onChange={(event) => onChange(event.target.value)}
            />
          );
        }
        return (
          <Input
            {...props}
            name={`credentials.${field.name}`}
            type={field.secret ? 'password' : 'text'}
            autoComplete={field.secret ? 'new-password' : 'off'}
            spellCheck={false}
            className="font-mono text-[13px]"
            placeholder={
              field.secret && editing
                ? t('form.secretPlaceholder')
                : field.kind === 'timestamp'
                  ? '2026-01-01T00:00:00Z'
                  : undefined
            }
            value={text}
            onChange={(event) => onChange(event.target.value)}
          />
        );
      }}
    </Field>
  );
}

function ModelsEditor({
  state,
  set,
  error,
}: {
  state: FormState;
  set: <K extends keyof FormState>(key: K, value: FormState[K]) => void;
  error?: string;
}) {
  const { t } = useTranslation('accounts');
  const modes: ModelsMode[] = ['all', 'list', 'map'];
  return (
    <fieldset className="flex flex-col gap-3">
      <legend className="sr-only">{t('fields.models')}</legend>
      <div className="flex flex-wrap gap-4" role="radiogroup" aria-label={t('fields.models')}>
        {modes.map((mode) => (
          <label key={mode} className="inline-flex items-center gap-2">
            <input
              type="radio"
              name="modelsMode"
              className="size-4 accent-primary"
              checked={state.modelsMode === mode}
              onChange={() => set('modelsMode', mode)}
            />
            {t(`form.models.${mode}`)}
          </label>
        ))}
      </div>
      {state.modelsMode === 'list' && (
        <Field label={t('form.models.listLabel')} hint={t('form.models.listHint')} error={error}>
          {(props) => (
            <Textarea
              {...props}
              name="models"
              value={state.modelList}
              placeholder={'claude-sonnet-4-*\nclaude-opus-4-1'}
              onChange={(event) => set('modelList', event.target.value)}
            />
          )}
        </Field>
      )}
      {state.modelsMode === 'map' && (
        <Field label={t('form.models.mapLabel')} hint={t('form.models.mapHint')} error={error}>
          {(props) => (
            <PairsEditor
              label={t('form.models.mapLabel')}
              value={state.modelMap}
              onChange={(pairs) => set('modelMap', pairs)}
              fromLabel={t('form.models.requested')}
              toLabel={t('form.models.upstream')}
              invalid={props['aria-invalid']}
              describedBy={props['aria-describedby']}
            />
          )}
        </Field>
      )}
      {state.modelsMode === 'all' && error && (
        <p role="alert" className="text-[13px] text-danger">
          {error}
        </p>
      )}
    </fieldset>
  );
}

function GroupPicker({
  groups,
  value,
  onChange,
  error,
  platform,
}: {
  groups: AccountGroup[];
  value: string[];
  onChange: (value: string[]) => void;
  error?: string;
  platform: string;
}) {
  const { t } = useTranslation('accounts');
  return (
    <fieldset className="flex flex-col gap-2">
      <legend className="sr-only">{t('fields.groups')}</legend>
      {groups.length === 0 ? (
        <p className="text-muted">{t('form.noGroups', { platform })}</p>
      ) : (
        <div className="flex flex-wrap gap-x-4 gap-y-2">
          {groups.map((group) => (
            <Checkbox
              key={group.id}
              label={group.name}
              checked={value.includes(group.id)}
              onChange={(event) =>
                onChange(
                  event.target.checked
                    ? [...value, group.id]
                    : value.filter((candidate) => candidate !== group.id),
                )
              }
            />
          ))}
        </div>
      )}
      {error && (
        <p role="alert" className="text-[13px] text-danger">
          {error}
        </p>
      )}
    </fieldset>
  );
}
