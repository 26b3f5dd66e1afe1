import { useState, type FormEvent, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { Card, ErrorState } from '@/components/ui/misc';
import { formatCost, formatNumber } from '@/lib/format';
import {
  CLIENT_IDS,
  invalidNumbers,
  LIMIT_FIELDS,
  PLATFORMS,
  toBody,
  type CreateKeyBody,
  type FormScope,
  type KeyFormState,
  type LimitField,
  type Platform,
  type UpdateKeyBody,
} from './key-form-model';

/** A user's caps as GET /admin/api/me/caps answers them (limits by key-limit field). */
export interface UserCaps {
  maxKeys: number;
  limits: Partial<Record<LimitField, number>>;
  models: string[] | null;
  platforms: Platform[] | null;
}

function Section({ title, children }: { title: ReactNode; children: ReactNode }) {
  return (
    <Card title={title}>
      <div className="grid gap-3 sm:grid-cols-2">{children}</div>
    </Card>
  );
}

/** The account and group choices for a binding, read when the section is opened. */
function BindingFields({
  state,
  onChange,
  errors,
}: {
  state: KeyFormState;
  onChange: (next: KeyFormState['bindings']) => void;
  errors: Record<string, string>;
}) {
  const { t } = useTranslation('keys');
  const accounts = useQuery({
    queryKey: ['accounts', 'choices'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/accounts', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' } },
        }),
      ),
  });
  const groups = useQuery({
    queryKey: ['account-groups', 'choices'],
    queryFn: async () =>
      unwrap(
        await api.GET('/admin/api/account-groups', {
          params: { query: { page: 1, pageSize: 200, sortBy: 'name', sortOrder: 'asc' } },
        }),
      ),
  });
  if (accounts.error || groups.error) return <ErrorState error={accounts.error ?? groups.error} />;
  return (
    <>
      {PLATFORMS.map((platform) => {
        const binding = state.bindings[platform];
        const choices =
          binding.kind === 'account'
            ? (accounts.data?.items ?? []).filter((a) => a.platform === platform)
            : (groups.data?.items ?? []).filter((g) => g.platform === platform);
        return (
          <fieldset key={platform} className="flex flex-col gap-2 sm:col-span-2 sm:flex-row">
            <Field
              label={t(`platforms.${platform}`)}
              className="sm:w-1/3"
              error={errors[`bindings.${platform}`]}
            >
              {(props) => (
                <Select
                  {...props}
                  value={binding.kind}
                  onChange={(event) =>
                    onChange({
                      ...state.bindings,
                      [platform]: {
                        kind: event.target.value as typeof binding.kind,
                        id: '',
                      },
                    })
                  }
                >
                  <option value="none">{t('form.bindingNone')}</option>
                  <option value="account">{t('form.bindingAccount')}</option>
                  <option value="group">{t('form.bindingGroup')}</option>
                </Select>
              )}
            </Field>
            {binding.kind !== 'none' && (
              <Field label={t('form.bindingTarget')} className="flex-1">
                {(props) => (
                  <Select
                    {...props}
                    value={binding.id}
                    onChange={(event) =>
                      onChange({
                        ...state.bindings,
                        [platform]: { kind: binding.kind, id: event.target.value },
                      })
                    }
                  >
                    <option value="">—</option>
                    {choices.map((choice) => (
                      <option key={choice.id} value={choice.id}>
                        {choice.name}
                      </option>
                    ))}
                    {binding.id && !choices.some((c) => c.id === binding.id) && (
                      <option value={binding.id}>{binding.id}</option>
                    )}
                  </Select>
                )}
              </Field>
            )}
          </fieldset>
        );
      })}
    </>
  );
}

/** The limits a user's caps bound (windowMinutes only when the caps set a window). */
const CAPPED: LimitField[] = [
  'windowRequests',
  'windowTokens',
  'windowCostMicros',
  'concurrency',
  'dailyCostMicros',
  'weeklyCostMicros',
  'totalCostMicros',
];

function capText(field: LimitField, caps: UserCaps | undefined, unlimited: string): string | null {
  if (!caps) return null;
  const cap = caps.limits[field];
  if (field === 'windowMinutes') return cap === undefined ? null : formatNumber(cap);
  if (!CAPPED.includes(field)) return null;
  if (cap === undefined) return unlimited;
  return field.endsWith('CostMicros') ? formatCost(cap / 1_000_000) : formatNumber(cap);
}

/**
 * Create or edit a key: every field the server takes. `scope: 'self'` is a user's own key (no
 * owner, bindings, price multiplier or reservation policy; the caps shown beside the limits).
 * Server messages appear at their field (`errors`), anything else above the buttons.
 */
export function KeyForm({
  initial,
  mode,
  scope,
  caps,
  pending,
  errors,
  formError,
  onSubmit,
  onCancel,
}: {
  initial: KeyFormState;
  mode: 'create' | 'update';
  scope: FormScope;
  caps?: UserCaps;
  pending: boolean;
  errors: Record<string, string>;
  formError?: ReactNode;
  onSubmit: (body: CreateKeyBody | UpdateKeyBody) => void;
  onCancel: () => void;
}) {
  const { t } = useTranslation('keys');
  const { t: tc } = useTranslation();
  const [state, setState] = useState(initial);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [showBindings, setShowBindings] = useState(
    PLATFORMS.some((p) => initial.bindings[p].kind !== 'none'),
  );
  const set = <K extends keyof KeyFormState>(key: K, value: KeyFormState[K]) =>
    setState((current) => ({ ...current, [key]: value }));
  const allErrors = { ...errors, ...localErrors };
  const error = (field: string) => allErrors[field];

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const bad = invalidNumbers(state);
    if (bad.length > 0) {
      setLocalErrors(Object.fromEntries(bad.map((field) => [field, t('form.invalidNumber')])));
      return;
    }
    setLocalErrors({});
    onSubmit(toBody(state, mode, scope));
  };

  const limitInput = (field: LimitField, label: string, hint?: string) => {
    const unit = LIMIT_FIELDS.find((f) => f.field === field)?.unit;
    const cap = scope === 'self' ? capText(field, caps, tc('state.unlimited')) : null;
    const hintText = [hint, cap === null ? undefined : t('form.capHint', { cap })]
      .filter(Boolean)
      .join(' ');
    return (
      <Field
        key={field}
        label={label}
        hint={hintText || undefined}
        error={error(`limits.${field}`)}
      >
        {(props) =>
          unit === 'day' ? (
            <Select
              {...props}
              name={`limits.${field}`}
              value={state.limits[field]}
              onChange={(event) => set('limits', { ...state.limits, [field]: event.target.value })}
            >
              <option value="">{t('form.dayDefault')}</option>
              {[0, 1, 2, 3, 4, 5, 6].map((day) => (
                <option key={day} value={String(day)}>
                  {t(`form.days.d${day}` as 'form.days.d0')}
                </option>
              ))}
            </Select>
          ) : (
            <Input
              {...props}
              name={`limits.${field}`}
              type="number"
              min={0}
              step={unit === 'usd' ? 'any' : 1}
              inputMode={unit === 'usd' ? 'decimal' : 'numeric'}
              placeholder={
                field === 'weeklyResetHour'
                  ? '0'
                  : field === 'windowMinutes'
                    ? (cap ?? '—')
                    : scope === 'self'
                      ? (cap ?? tc('state.unlimited'))
                      : tc('state.unlimited')
              }
              value={state.limits[field]}
              onChange={(event) => set('limits', { ...state.limits, [field]: event.target.value })}
            />
          )
        }
      </Field>
    );
  };

  const allowedPlatforms = scope === 'self' && caps?.platforms ? caps.platforms : PLATFORMS;

  return (
    <form noValidate onSubmit={submit} className="flex flex-col gap-4">
      <Section title={t('form.sections.general')}>
        <Field label={t('form.name')} required error={error('name')}>
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
        <Field label={t('form.tags')} hint={t('form.tagsHint')} error={error('tags')}>
          {(props) => (
            <Input
              {...props}
              name="tags"
              value={state.tags}
              onChange={(event) => set('tags', event.target.value)}
            />
          )}
        </Field>
        <Field label={t('form.description')} error={error('description')} className="sm:col-span-2">
          {(props) => (
            <Input
              {...props}
              name="description"
              value={state.description}
              onChange={(event) => set('description', event.target.value)}
            />
          )}
        </Field>
        {scope === 'admin' && (
          <Field label={t('form.owner')} hint={t('form.ownerHint')} error={error('owner')}>
            {(props) => (
              <Input
                {...props}
                name="owner"
                value={state.owner}
                onChange={(event) => set('owner', event.target.value)}
              />
            )}
          </Field>
        )}
        <div className="flex items-end pb-2">
          <Checkbox
            label={t('form.enabled')}
            checked={state.enabled}
            onChange={(event) => set('enabled', event.target.checked)}
          />
        </div>
        <Field label={t('form.expiry')}>
          {(props) => (
            <Select
              {...props}
              value={state.expiryMode}
              onChange={(event) =>
                set('expiryMode', event.target.value as KeyFormState['expiryMode'])
              }
            >
              <option value="never">{t('form.expiryNever')}</option>
              <option value="at">{t('form.expiryAt')}</option>
              <option value="afterDays">{t('form.expiryAfterDays')}</option>
            </Select>
          )}
        </Field>
        {state.expiryMode === 'at' && (
          <Field label={t('form.expiresAt')} error={error('expiresAt')}>
            {(props) => (
              <Input
                {...props}
                type="datetime-local"
                value={state.expiresAt}
                onChange={(event) => set('expiresAt', event.target.value)}
              />
            )}
          </Field>
        )}
        {state.expiryMode === 'afterDays' && (
          <Field label={t('form.expiresAfterDays')} error={error('expiresAfterDays')}>
            {(props) => (
              <Input
                {...props}
                type="number"
                min={1}
                max={3650}
                value={state.expiresAfterDays}
                onChange={(event) => set('expiresAfterDays', event.target.value)}
              />
            )}
          </Field>
        )}
      </Section>

      <Section title={t('form.sections.access')}>
        <fieldset className="flex flex-col gap-1">
          <legend className="font-medium">{t('form.permissions')}</legend>
          <div className="flex flex-wrap gap-x-4 gap-y-1">
            {allowedPlatforms.map((platform) => (
              <Checkbox
                key={platform}
                label={t(`platforms.${platform}`)}
                checked={state.permissions.includes(platform)}
                onChange={(event) =>
                  set(
                    'permissions',
                    event.target.checked
                      ? [...state.permissions, platform]
                      : state.permissions.filter((p) => p !== platform),
                  )
                }
              />
            ))}
          </div>
          {error('permissions') ? (
            <p role="alert" className="text-[13px] text-danger">
              {error('permissions')}
            </p>
          ) : (
            <p className="text-[13px] text-muted">{t('form.permissionsHint')}</p>
          )}
        </fieldset>
        <fieldset className="flex flex-col gap-1">
          <legend className="font-medium">{t('form.clients')}</legend>
          <Select
            aria-label={t('form.clients')}
            value={state.clientsMode}
            onChange={(event) =>
              set('clientsMode', event.target.value as KeyFormState['clientsMode'])
            }
          >
            <option value="any">{t('form.clientsAny')}</option>
            <option value="only">{t('form.clientsOnly')}</option>
          </Select>
          {state.clientsMode === 'only' && (
            <div className="flex flex-wrap gap-x-4 gap-y-1">
              {CLIENT_IDS.map((client) => (
                <Checkbox
                  key={client}
                  label={t(`clients.${client}`)}
                  checked={state.clients.includes(client)}
                  onChange={(event) =>
                    set(
                      'clients',
                      event.target.checked
                        ? [...state.clients, client]
                        : state.clients.filter((c) => c !== client),
                    )
                  }
                />
              ))}
            </div>
          )}
          {error('allowedClients') && (
            <p role="alert" className="text-[13px] text-danger">
              {error('allowedClients')}
            </p>
          )}
        </fieldset>
        <Field label={t('form.modelPolicy')}>
          {(props) => (
            <Select
              {...props}
              value={state.modelMode}
              onChange={(event) =>
                set('modelMode', event.target.value as KeyFormState['modelMode'])
              }
            >
              <option value="any">{t('form.modelAny')}</option>
              <option value="allow">{t('form.modelAllow')}</option>
              {/* A user's caps that list models refuse a deny list: the server says so. */}
              <option value="deny">{t('form.modelDeny')}</option>
            </Select>
          )}
        </Field>
        {state.modelMode !== 'any' && (
          <Field
            label={t('form.modelPatterns')}
            hint={
              [
                t('form.modelPatternsHint'),
                scope === 'self' && caps?.models
                  ? t('form.capHint', { cap: caps.models.join(', ') })
                  : '',
              ]
                .filter(Boolean)
                .join(' ') || undefined
            }
            error={error('modelPolicy')}
          >
            {(props) => (
              <Textarea
                {...props}
                name="modelPatterns"
                value={state.modelPatterns}
                onChange={(event) => set('modelPatterns', event.target.value)}
              />
            )}
          </Field>
        )}
      </Section>

      <Section title={t('form.sections.limits')}>
        <p className="text-[13px] text-muted sm:col-span-2">
          {scope === 'self' ? t('form.selfLimitsHint') : t('form.limitsHint')}
        </p>
        {limitInput('windowMinutes', t('form.windowMinutes'), t('form.windowMinutesHint'))}
        {limitInput('windowRequests', t('form.windowRequests'))}
        {limitInput('windowTokens', t('form.windowTokens'))}
        {limitInput('windowCostMicros', t('form.windowCost'))}
        {limitInput('concurrency', t('form.concurrency'))}
      </Section>

      <Section title={t('form.sections.budgets')}>
        {limitInput('dailyCostMicros', t('form.dailyCost'), t('form.dailyCostHint'))}
        {limitInput('totalCostMicros', t('form.totalCost'), t('form.totalCostHint'))}
        {limitInput('weeklyCostMicros', t('form.weeklyCost'))}
        {limitInput('weeklyResetDay', t('form.weeklyResetDay'))}
        {limitInput('weeklyResetHour', t('form.weeklyResetHour'))}
      </Section>

      {scope === 'admin' && (
        <>
          <Card title={t('form.sections.bindings')}>
            <p className="mb-3 text-[13px] text-muted">{t('form.bindingsHint')}</p>
            {showBindings ? (
              <div className="grid gap-3 sm:grid-cols-2">
                <BindingFields
                  state={state}
                  errors={allErrors}
                  onChange={(bindings) => set('bindings', bindings)}
                />
              </div>
            ) : (
              <Button size="sm" onClick={() => setShowBindings(true)}>
                {t('form.bindingsOpen')}
              </Button>
            )}
          </Card>
          <Section title={t('form.sections.billing')}>
            <Field
              label={t('form.priceMultiplier')}
              hint={t('form.priceMultiplierHint')}
              error={error('priceMultiplier')}
            >
              {(props) => (
                <Input
                  {...props}
                  name="priceMultiplier"
                  type="number"
                  min={0}
                  max={100}
                  step="any"
                  value={state.priceMultiplier}
                  onChange={(event) => set('priceMultiplier', event.target.value)}
                />
              )}
            </Field>
            <Field label={t('form.reservationPolicy')} error={error('reservationPolicy')}>
              {(props) => (
                <Select
                  {...props}
                  value={state.reservationPolicy}
                  onChange={(event) =>
                    set(
                      'reservationPolicy',
                      event.target.value as KeyFormState['reservationPolicy'],
                    )
                  }
                >
                  <option value="strict">{t('form.reservationStrict')}</option>
                  <option value="estimate">{t('form.reservationEstimate')}</option>
                </Select>
              )}
            </Field>
          </Section>
        </>
      )}

      {formError}
      <div className="flex flex-wrap justify-end gap-2">
        <Button onClick={onCancel}>{tc('actions.cancel')}</Button>
        <Button type="submit" variant="primary" loading={pending}>
          {mode === 'create' ? tc('actions.create') : tc('actions.save')}
        </Button>
      </div>
    </form>
  );
}
