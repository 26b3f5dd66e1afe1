import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { RotateCcw } from 'lucide-react';
import { api, unwrap } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Checkbox, Field, Input, Textarea } from '@/components/ui/form';
import { Badge, ErrorState, Spinner } from '@/components/ui/misc';
import { useToast } from '@/components/ui/toast';
import { errorsByField } from '@/lib/field-errors';
import { formatDate, formatDuration, formatNumber, plainText } from '@/lib/format';
import type { en } from './messages';

/** A runtime setting as `GET /admin/api/settings` answers it (src/modules/settings/dto). */
export interface Setting {
  key: string;
  type: 'integer' | 'boolean' | 'key-limits';
  value: unknown;
  default: unknown;
  source: 'env' | 'database';
  envVariable: string | null;
  description: string;
  bounds: { min: number; max: number } | null;
  unit: string | null;
  updatedAt: string | null;
}

interface SettingsAnswer {
  items: Setting[];
}

type LabelKey = keyof typeof en.labels;

/** A value as the form holds it: numbers and JSON as text, booleans as they are. */
function draftOf(setting: Setting): string | boolean {
  if (setting.type === 'boolean') return setting.value === true;
  if (setting.type === 'key-limits') return JSON.stringify(setting.value ?? {}, null, 2);
  return plainText(setting.value);
}

/** A value in words: durations for ms / seconds, numbers grouped, JSON compact. */
export function ValueText({ setting, value }: { setting: Setting; value: unknown }) {
  const { t } = useTranslation('settings');
  if (setting.type === 'boolean') return <>{value === true ? t('on') : t('off')}</>;
  if (setting.type === 'key-limits') {
    return <code className="font-mono text-[12.5px] break-all">{JSON.stringify(value)}</code>;
  }
  if (typeof value !== 'number') return <>{String(value)}</>;
  if (setting.unit === 'ms') return <>{value === 0 ? '0' : formatDuration(value)}</>;
  if (setting.unit === 'seconds') return <>{formatDuration(value * 1000)}</>;
  const unit = setting.unit && t(`units.${setting.unit as 'ms'}`, { defaultValue: setting.unit });
  return (
    <>
      {formatNumber(value)}
      {unit ? ` ${unit}` : ''}
    </>
  );
}

function SettingRow({ setting, canChange }: { setting: Setting; canChange: boolean }) {
  const { t } = useTranslation('settings');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<string | boolean>(() => draftOf(setting));
  const [localError, setLocalError] = useState<string | undefined>();
  const label = t(`labels.${setting.key as LabelKey}`, { defaultValue: setting.key });

  const done = (answer: SettingsAnswer, message: string) => {
    queryClient.setQueryData(['settings'], answer);
    const next = answer.items.find((item) => item.key === setting.key);
    if (next) setDraft(draftOf(next));
    toast('success', message);
  };
  const save = useMutation({
    mutationFn: async (value: unknown) =>
      (await unwrap(
        await api.PUT('/admin/api/settings', { body: { values: { [setting.key]: value } } }),
      )) as unknown as SettingsAnswer,
    onSuccess: (answer) => done(answer, t('saved', { key: label })),
  });
  const reset = useMutation({
    mutationFn: async () =>
      (await unwrap(
        await api.DELETE('/admin/api/settings/{key}', { params: { path: { key: setting.key } } }),
      )) as unknown as SettingsAnswer,
    onSuccess: (answer) => {
      save.reset();
      done(answer, t('resetDone', { key: label }));
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(undefined);
    let value: unknown = draft;
    if (setting.type === 'integer') value = draft === '' ? NaN : Number(draft);
    if (setting.type === 'key-limits') {
      try {
        value = JSON.parse(String(draft));
      } catch (error) {
        setLocalError(t('badJson', { message: (error as Error).message }));
        return;
      }
    }
    save.mutate(value);
  };

  const errors = errorsByField(save.error ?? reset.error, [setting.key]);
  const error = localError ?? errors.fields[setting.key] ?? errors.form;
  const id = `setting-${setting.key}`;
  const dirty = draft !== draftOf(setting);

  return (
    <form
      onSubmit={submit}
      aria-labelledby={`${id}-title`}
      className="grid gap-3 border-t border-border p-4 first:border-t-0 lg:grid-cols-[minmax(0,1fr)_minmax(0,22rem)]"
      noValidate
    >
      <div className="min-w-0">
        <div className="flex flex-wrap items-center gap-2">
          <h2 id={`${id}-title`} className="font-semibold">
            {label}
          </h2>
          <code className="text-[12px] text-muted">{setting.key}</code>
          {setting.source === 'database' ? (
            <Badge tone="info">{t('source.database')}</Badge>
          ) : (
            <Badge>{t('source.env')}</Badge>
          )}
        </div>
        <p className="mt-1 text-muted">
          {t(`descriptions.${setting.key as LabelKey}`, { defaultValue: setting.description })}
        </p>
        <p className="mt-1 text-[13px] text-muted">
          {t('current')}:{' '}
          <span className="text-fg">
            <ValueText setting={setting} value={setting.value} />
          </span>
          {' · '}
          {t('default')}:{' '}
          <span className="text-fg">
            <ValueText setting={setting} value={setting.default} />
          </span>{' '}
          ({setting.envVariable ? t('envFrom', { variable: setting.envVariable }) : t('builtIn')})
          {setting.updatedAt && <> · {t('updatedAt', { when: formatDate(setting.updatedAt) })}</>}
        </p>
      </div>
      <div className="flex min-w-0 flex-col gap-2">
        {setting.type === 'boolean' ? (
          <div>
            <Checkbox
              label={t('on')}
              aria-label={label}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? `${id}-error` : undefined}
              checked={draft === true}
              disabled={!canChange}
              onChange={(event) => setDraft(event.target.checked)}
            />
            {error && (
              <p id={`${id}-error`} role="alert" className="mt-1 text-[13px] text-danger">
                {error}
              </p>
            )}
          </div>
        ) : (
          <Field
            label={<span className="sr-only">{label}</span>}
            error={error}
            hint={
              setting.type === 'key-limits'
                ? t('limitsHint')
                : setting.bounds
                  ? `${formatNumber(setting.bounds.min)}–${formatNumber(setting.bounds.max)}${
                      setting.unit === 'days' ? ` · ${t('forever')}` : ''
                    }`
                  : undefined
            }
          >
            {(props) =>
              setting.type === 'key-limits' ? (
                <Textarea
                  {...props}
                  rows={4}
                  readOnly={!canChange}
                  value={String(draft)}
                  onChange={(event) => setDraft(event.target.value)}
                />
              ) : (
                <div className="flex items-center gap-2">
                  <Input
                    {...props}
                    type="number"
                    inputMode="numeric"
                    min={setting.bounds?.min}
                    max={setting.bounds?.max}
                    step={1}
                    readOnly={!canChange}
                    value={String(draft)}
                    onChange={(event) => setDraft(event.target.value)}
                  />
                  {setting.unit && (
                    <span className="shrink-0 text-muted">
                      {t(`units.${setting.unit as 'ms'}`, { defaultValue: setting.unit })}
                    </span>
                  )}
                </div>
              )
            }
          </Field>
        )}
        {canChange && (
          <div className="flex flex-wrap gap-2">
            <Button
              type="submit"
              variant="primary"
              size="sm"
              disabled={!dirty}
              loading={save.isPending}
            >
              {t('actions.save', { ns: 'common' })}
            </Button>
            {setting.source === 'database' && (
              <Button size="sm" loading={reset.isPending} onClick={() => reset.mutate()}>
                <RotateCcw className="size-3.5" aria-hidden />
                {t('resetToDefault')}
              </Button>
            )}
          </div>
        )}
      </div>
    </form>
  );
}

/** The runtime settings catalogue: one form per setting, saved and reset one at a time. */
export function RuntimeSettings({ canChange }: { canChange: boolean }) {
  const list = useQuery({
    queryKey: ['settings'],
    queryFn: async () =>
      (await unwrap(await api.GET('/admin/api/settings'))) as unknown as SettingsAnswer,
  });
  if (list.error) return <ErrorState error={list.error} onRetry={() => void list.refetch()} />;
  if (!list.data) return <Spinner />;
  return (
    <div className="rounded-lg border border-border bg-surface">
      {list.data.items.map((setting) => (
        <SettingRow
          // A new server value (after a save or reset elsewhere) restarts the row's draft.
          key={`${setting.key}:${setting.source}:${setting.updatedAt ?? ''}`}
          setting={setting}
          canChange={canChange}
        />
      ))}
    </div>
  );
}
