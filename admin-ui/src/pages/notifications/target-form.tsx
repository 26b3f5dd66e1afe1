import { useState, type FormEvent } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap, type Schemas } from '@/api/client';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { Badge, ErrorState, Spinner } from '@/components/ui/misc';
import { useToast } from '@/components/ui/toast';
import { errorsByField, type FormErrors } from '@/lib/field-errors';
import {
  DESTINATION_FIELD,
  FIELD_KEYS,
  KINDS,
  configOf,
  draftOf,
  fieldsOf,
  isKind,
  type ConfigDraft,
  type EventTypeInfo,
  type KindField,
  type Removals,
  type Target,
} from './kinds';
import type { en } from './messages';
import { useEventTypes } from './queries';

type HintKey = keyof typeof en.hints;
type CreateBody = Schemas['CreateNotificationTargetDto'];
type UpdateBody = Schemas['UpdateNotificationTargetDto'];

/** The hint under a field, by kind where the same key means different things. */
function hintKey(kind: string, field: KindField): HintKey | undefined {
  if (field.key === 'secret') return kind === 'webhook' ? 'webhookSecret' : 'signSecret';
  if (field.key === 'url' || field.key === 'to' || field.key === 'username') return field.key;
  if (field.key === 'webhookUrl' || field.key === 'botToken' || field.key === 'chatId') {
    return field.key;
  }
  if (field.key === 'deviceKey') return 'deviceKey';
  return undefined;
}

export const SEVERITY_TONE = { info: 'info', warning: 'warning', critical: 'danger' } as const;

export function SeverityBadge({ severity }: { severity: string }) {
  const { t } = useTranslation('notifications');
  const known = severity === 'info' || severity === 'warning' || severity === 'critical';
  return (
    <Badge tone={known ? SEVERITY_TONE[severity] : 'neutral'}>
      {known ? t(`severity.${severity}`) : severity}
    </Badge>
  );
}

/** Server errors at the form's fields: `config.url` (details.fields) and `url` land on `url`. */
function formErrors(error: unknown, kind: string): FormErrors {
  const known = ['name', 'kind', 'enabled', 'events', 'config', ...FIELD_KEYS];
  const byCode: Record<string, string> = { TARGET_NAME_TAKEN: 'name', UNKNOWN_TARGET_KIND: 'kind' };
  if (isKind(kind)) byCode.TARGET_NOT_ALLOWED = DESTINATION_FIELD[kind];
  const errors = errorsByField(error, known, byCode);
  const fields: Record<string, string> = {};
  for (const [key, message] of Object.entries(errors.fields)) {
    const bare = key.startsWith('config.') ? key.slice('config.'.length) : key;
    fields[bare] = fields[bare] ? `${fields[bare]}; ${message}` : message;
  }
  return { fields, form: errors.form };
}

export function TargetForm({ target, onClose }: { target?: Target; onClose: () => void }) {
  const { t } = useTranslation('notifications');
  const { t: tc } = useTranslation();
  const queryClient = useQueryClient();
  const toast = useToast();
  const eventTypes = useEventTypes();

  const [name, setName] = useState(target?.name ?? '');
  const [kind, setKind] = useState<string>(target?.kind ?? 'webhook');
  const [enabled, setEnabled] = useState(target?.enabled ?? true);
  const [allEvents, setAllEvents] = useState(target ? target.events === null : true);
  const [chosen, setChosen] = useState<string[]>(target?.events ?? []);
  const [draft, setDraft] = useState<ConfigDraft>(() => draftOf(target?.kind ?? 'webhook', target));
  const [removals, setRemovals] = useState<Removals>({});
  const [localError, setLocalError] = useState<string | undefined>();

  const save = useMutation({
    mutationFn: async () => {
      // The generated enums list what this build's server knows; the form offers every kind.
      const events = (allEvents ? null : chosen) as CreateBody['events'];
      if (!target) {
        return unwrap(
          await api.POST('/admin/api/notifications/targets', {
            body: {
              name: name.trim(),
              kind: kind as CreateBody['kind'],
              enabled,
              events,
              config: configOf(kind, draft) ?? {},
            },
          }),
        );
      }
      const body: UpdateBody = {};
      if (name.trim() !== target.name) body.name = name.trim();
      if (enabled !== target.enabled) body.enabled = enabled;
      if (JSON.stringify(events) !== JSON.stringify(target.events)) body.events = events;
      const config = configOf(kind, draft, target, removals);
      if (config) body.config = config;
      return unwrap(
        await api.PATCH('/admin/api/notifications/targets/{id}', {
          params: { path: { id: target.id } },
          body,
        }),
      );
    },
    onSuccess: async () => {
      toast('success', target ? t('updated') : t('created'));
      await queryClient.invalidateQueries({ queryKey: ['notifications', 'targets'] });
      onClose();
    },
  });

  const errors = formErrors(save.error, kind);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setLocalError(undefined);
    if (!allEvents && chosen.length === 0) {
      setLocalError(t('form.eventsNone'));
      return;
    }
    save.mutate();
  };

  const chooseKind = (next: string) => {
    setKind(next);
    setDraft(draftOf(next));
    save.reset();
  };

  const toggleEvent = (type: string, on: boolean) =>
    setChosen((list) => (on ? [...list, type] : list.filter((item) => item !== type)));

  return (
    <Dialog
      open
      wide
      onOpenChange={(open) => !open && onClose()}
      title={target ? t('form.editTitle', { name: target.name }) : t('form.createTitle')}
      footer={
        <>
          <Button onClick={onClose}>{tc('actions.cancel')}</Button>
          <Button
            variant="primary"
            type="submit"
            form="notification-target-form"
            loading={save.isPending}
          >
            {target ? tc('actions.save') : tc('actions.create')}
          </Button>
        </>
      }
    >
      <form
        id="notification-target-form"
        onSubmit={submit}
        noValidate
        className="flex flex-col gap-4"
      >
        {errors.form && <ErrorState error={new Error(errors.form)} />}
        <div className="grid gap-3 sm:grid-cols-2">
          <Field label={t('form.name')} required error={errors.fields.name}>
            {(props) => (
              <Input
                {...props}
                value={name}
                maxLength={100}
                autoComplete="off"
                onChange={(event) => setName(event.target.value)}
              />
            )}
          </Field>
          <Field
            label={t('form.kind')}
            hint={target ? t('form.kindFixed') : undefined}
            error={errors.fields.kind}
          >
            {(props) => (
              <Select
                {...props}
                value={kind}
                disabled={target !== undefined}
                onChange={(event) => chooseKind(event.target.value)}
              >
                {KINDS.map((k) => (
                  <option key={k} value={k}>
                    {t(`kinds.${k}`)}
                  </option>
                ))}
                {!isKind(kind) && <option value={kind}>{kind}</option>}
              </Select>
            )}
          </Field>
        </div>
        <Checkbox
          label={t('form.enabled')}
          checked={enabled}
          onChange={(event) => setEnabled(event.target.checked)}
        />

        <fieldset className="flex flex-col gap-3 rounded-md border border-border p-3">
          <legend className="px-1 font-medium">
            {t('form.settings')} · {isKind(kind) ? t(`kinds.${kind}`) : kind}
          </legend>
          {target && !target.secretsReadable && (
            <p role="alert" className="text-[13px] text-danger">
              {t('secretsUnreadable')}
            </p>
          )}
          {errors.fields.config && (
            <p role="alert" className="text-[13px] text-danger">
              {errors.fields.config}
            </p>
          )}
          <div className="grid gap-3 sm:grid-cols-2">
            {fieldsOf(kind).map((field) => (
              <KindInput
                key={`${kind}-${field.key}`}
                kind={kind}
                field={field}
                target={target}
                value={draft[field.key]}
                onChange={(value) => setDraft((current) => ({ ...current, [field.key]: value }))}
                removal={removals[field.key] === true}
                onRemovalChange={(on) =>
                  setRemovals((current) => ({ ...current, [field.key]: on }))
                }
                error={errors.fields[field.key]}
              />
            ))}
          </div>
        </fieldset>

        <fieldset className="flex flex-col gap-2 rounded-md border border-border p-3">
          <legend className="px-1 font-medium">{t('form.events')}</legend>
          <label className="inline-flex items-center gap-2">
            <input
              type="radio"
              name="events-mode"
              className="size-4 accent-primary"
              checked={allEvents}
              onChange={() => setAllEvents(true)}
            />
            {t('form.eventsAll')}
          </label>
          <label className="inline-flex items-center gap-2">
            <input
              type="radio"
              name="events-mode"
              className="size-4 accent-primary"
              checked={!allEvents}
              onChange={() => setAllEvents(false)}
            />
            {t('form.eventsChosen')}
          </label>
          {(localError ?? errors.fields.events) && (
            <p role="alert" className="text-[13px] text-danger">
              {localError ?? errors.fields.events}
            </p>
          )}
          {!allEvents && (
            <EventChoices
              types={eventTypes.data?.items}
              loading={eventTypes.isPending}
              error={eventTypes.error}
              chosen={chosen}
              onToggle={toggleEvent}
            />
          )}
        </fieldset>
      </form>
    </Dialog>
  );
}

function EventChoices({
  types,
  loading,
  error,
  chosen,
  onToggle,
}: {
  types: EventTypeInfo[] | undefined;
  loading: boolean;
  error: unknown;
  chosen: string[];
  onToggle: (type: string, on: boolean) => void;
}) {
  if (error) return <ErrorState error={error} />;
  if (loading || !types) return <Spinner />;
  return (
    <ul className="flex flex-col gap-2 pl-1" data-testid="event-choices">
      {types.map((type) => (
        <li key={type.type} className="flex items-start gap-2">
          <input
            id={`event-${type.type}`}
            type="checkbox"
            className="mt-0.5 size-4 shrink-0 accent-primary"
            checked={chosen.includes(type.type)}
            onChange={(event) => onToggle(type.type, event.target.checked)}
            aria-describedby={`event-${type.type}-description`}
          />
          <div className="min-w-0">
            <label htmlFor={`event-${type.type}`} className="flex flex-wrap items-center gap-2">
              <code className="font-mono text-[13px]">{type.type}</code>
              <SeverityBadge severity={type.severity} />
            </label>
            <p id={`event-${type.type}-description`} className="text-[13px] text-muted">
              {type.description}
            </p>
          </div>
        </li>
      ))}
    </ul>
  );
}

function KindInput({
  kind,
  field,
  target,
  value,
  onChange,
  removal,
  onRemovalChange,
  error,
}: {
  kind: string;
  field: KindField;
  target?: Target;
  value: string | boolean | undefined;
  onChange: (value: string | boolean) => void;
  removal: boolean;
  onRemovalChange: (on: boolean) => void;
  error?: string;
}) {
  const { t } = useTranslation('notifications');
  const label = t(`fields.${field.key}`);
  if (field.type === 'boolean') {
    return (
      <div className="flex flex-col gap-1 sm:col-span-2">
        <Checkbox
          label={label}
          checked={value === true}
          onChange={(event) => onChange(event.target.checked)}
        />
        {error && (
          <p role="alert" className="text-[13px] text-danger">
            {error}
          </p>
        )}
      </div>
    );
  }
  const stored = field.type === 'secret' && target?.secretsSet.includes(field.key) === true;
  const key = hintKey(kind, field);
  const hints = [
    key ? t(`hints.${key}`) : undefined,
    field.placeholder && !field.required && field.type !== 'secret'
      ? t('form.defaultIs', { value: field.placeholder })
      : undefined,
  ].filter(Boolean);
  const text = typeof value === 'string' ? value : '';
  const wide = field.type === 'list' || field.type === 'url' || field.key === 'webhookUrl';
  return (
    <div className={wide ? 'sm:col-span-2' : undefined}>
      <Field
        label={
          <>
            {label}
            {!field.required && (
              <span className="font-normal text-muted"> ({t('form.optional')})</span>
            )}
          </>
        }
        required={field.required && !(target && field.type === 'secret')}
        hint={hints.length > 0 ? hints.join(' ') : undefined}
        error={error}
      >
        {(props) =>
          field.type === 'list' ? (
            <Textarea
              {...props}
              rows={3}
              value={text}
              placeholder={field.placeholder}
              onChange={(event) => onChange(event.target.value)}
            />
          ) : (
            <Input
              {...props}
              data-testid={`field-${field.key}`}
              type={
                field.type === 'secret' ? 'password' : field.type === 'number' ? 'number' : 'text'
              }
              inputMode={field.type === 'url' ? 'url' : undefined}
              autoComplete={field.type === 'secret' ? 'new-password' : 'off'}
              value={text}
              disabled={removal}
              placeholder={
                field.type === 'secret'
                  ? target
                    ? stored
                      ? t('form.storedSecret')
                      : t('form.notStored')
                    : undefined
                  : field.placeholder
              }
              onChange={(event) => onChange(event.target.value)}
            />
          )
        }
      </Field>
      {stored && !field.required && (
        <Checkbox
          className="mt-1 text-[13px]"
          label={t('form.removeStored')}
          checked={removal}
          onChange={(event) => onRemovalChange(event.target.checked)}
        />
      )}
    </div>
  );
}
