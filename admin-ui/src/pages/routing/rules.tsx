import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Pencil, Plus, Search, Trash2 } from 'lucide-react';
import { api, unwrap, type Schemas } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { Checkbox, Field, Input, Select, Textarea } from '@/components/ui/form';
import { Badge, Card, ErrorState } from '@/components/ui/misc';
import { DataTable, Pagination, type Column } from '@/components/ui/table';
import { useToast } from '@/components/ui/toast';
import { errorsByField } from '@/lib/field-errors';
import { formatNumber } from '@/lib/format';
import { FormAlert, SCENARIOS, useGroups, useKeyNames, type Scenario } from './shared';

export type Rule = Schemas['RoutingRuleResponseDto'];
type Format = NonNullable<Schemas['ResolveRoutingRuleDto']['format']>;
const FORMATS: Format[] = [
  'anthropic-messages',
  'openai-chat',
  'openai-responses',
  'gemini',
  'code-assist',
];

const FIELDS = [
  'name',
  'apiKeyId',
  'priority',
  'scenario',
  'modelPattern',
  'longContextThreshold',
  'targetModel',
  'targetGroupId',
  'enabled',
  'note',
];

/** Routing rules: the list (in evaluation order), their form, and the resolve tester. */
export function RoutingRules({ canChange }: { canChange: boolean }) {
  const { t } = useTranslation('routing');
  const queryClient = useQueryClient();
  const toast = useToast();
  const keys = useKeyNames();
  const groups = useGroups();
  const [searchDraft, setSearchDraft] = useState('');
  const [search, setSearch] = useState('');
  const [scenario, setScenario] = useState<Scenario | ''>('');
  const [state, setState] = useState<'' | 'true' | 'false'>('');
  const [page, setPage] = useState(1);
  const [pageSize, setPageSize] = useState(50);
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);

  const query = {
    page,
    pageSize,
    sortBy: 'evaluation' as const,
    sortOrder: 'asc' as const,
    ...(search ? { search } : {}),
    ...(scenario ? { scenario } : {}),
    ...(state ? { enabled: state === 'true' } : {}),
  };
  const list = useQuery({
    queryKey: ['routing-rules', query],
    queryFn: async () => unwrap(await api.GET('/admin/api/routing-rules', { params: { query } })),
  });
  const remove = useMutation({
    mutationFn: async (rule: Rule) =>
      unwrap(
        await api.DELETE('/admin/api/routing-rules/{id}', { params: { path: { id: rule.id } } }),
      ),
    onSuccess: async () => {
      setDeleting(null);
      toast('success', t('rules.deleted'));
      await queryClient.invalidateQueries({ queryKey: ['routing-rules'] });
    },
  });

  const keyName = (id: string) => keys.data?.find((key) => key.id === id)?.name ?? id.slice(0, 8);
  const groupName = (id: string) => groups.data?.find((g) => g.id === id)?.name ?? id.slice(0, 8);

  const columns: Column<Rule>[] = [
    {
      key: 'priority',
      header: t('rules.col.priority'),
      className: 'tabular-nums',
      cell: (rule) => rule.priority,
    },
    {
      key: 'name',
      header: t('rules.col.name'),
      cell: (rule) => (
        <div>
          <span className="font-medium">{rule.name}</span>
          {rule.note && <div className="text-[12px] text-muted">{rule.note}</div>}
        </div>
      ),
    },
    {
      key: 'scope',
      header: t('rules.col.scope'),
      cell: (rule) =>
        rule.apiKeyId ? (
          <Badge tone="info">{t('rules.key', { name: keyName(rule.apiKeyId) })}</Badge>
        ) : (
          <Badge>{t('rules.global')}</Badge>
        ),
    },
    {
      key: 'condition',
      header: t('rules.col.condition'),
      cell: (rule) => (
        <div className="flex flex-wrap items-center gap-1">
          {rule.scenario && (
            <Badge tone="warning">
              {t(`scenarios.${rule.scenario}`)}
              {rule.longContextThreshold
                ? ` · ${t('rules.above', { tokens: formatNumber(rule.longContextThreshold) })}`
                : ''}
            </Badge>
          )}
          {rule.modelPattern && (
            <span className="text-[13px]">
              {t('rules.modelMatches', { pattern: '' })}
              <code className="font-mono">{rule.modelPattern}</code>
            </span>
          )}
        </div>
      ),
    },
    {
      key: 'target',
      header: t('rules.col.target'),
      cell: (rule) => (
        <div>
          <code className="font-mono text-[13px]">{rule.targetModel}</code>
          {rule.targetGroupId && (
            <div className="text-[12px] text-muted">
              {t('rules.group', { name: groupName(rule.targetGroupId) })}
            </div>
          )}
        </div>
      ),
    },
    {
      key: 'state',
      header: t('rules.col.state'),
      cell: (rule) =>
        rule.enabled ? (
          <Badge tone="success">{t('enabled')}</Badge>
        ) : (
          <Badge>{t('disabled')}</Badge>
        ),
    },
  ];
  if (canChange) {
    columns.push({
      key: 'actions',
      header: <span className="sr-only">{t('rules.col.actions')}</span>,
      cell: (rule) => (
        <div className="flex justify-end gap-1">
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('rules.edit', { name: rule.name })}
            title={t('rules.edit', { name: rule.name })}
            onClick={() => setEditing(rule)}
          >
            <Pencil className="size-4" aria-hidden />
          </Button>
          <Button
            size="sm"
            variant="ghost"
            aria-label={t('rules.delete', { name: rule.name })}
            title={t('rules.delete', { name: rule.name })}
            onClick={() => setDeleting(rule)}
          >
            <Trash2 className="size-4 text-danger" aria-hidden />
          </Button>
        </div>
      ),
    });
  }

  return (
    <div className="flex flex-col gap-4">
      <p className="text-muted">{t('rules.intro')}</p>
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
          <label htmlFor="rules-search" className="sr-only">
            {t('rules.searchLabel')}
          </label>
          <Input
            id="rules-search"
            className="sm:w-64"
            placeholder={t('rules.searchPlaceholder')}
            value={searchDraft}
            onChange={(event) => setSearchDraft(event.target.value)}
          />
          <Button type="submit" aria-label={t('actions.search', { ns: 'common' })}>
            <Search className="size-4" aria-hidden />
          </Button>
        </form>
        <label htmlFor="rules-scenario" className="sr-only">
          {t('rules.scenarioFilter')}
        </label>
        <Select
          id="rules-scenario"
          className="sm:w-auto"
          value={scenario}
          onChange={(event) => {
            setPage(1);
            setScenario(event.target.value as Scenario | '');
          }}
        >
          <option value="">{t('rules.anyScenario')}</option>
          {SCENARIOS.map((s) => (
            <option key={s} value={s}>
              {t(`scenarios.${s}`)}
            </option>
          ))}
        </Select>
        <label htmlFor="rules-state" className="sr-only">
          {t('rules.stateFilter')}
        </label>
        <Select
          id="rules-state"
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
            {t('rules.newRule')}
          </Button>
        )}
      </div>
      <div>
        <DataTable
          caption={t('rules.caption')}
          columns={columns}
          rows={list.data?.items}
          rowKey={(rule) => rule.id}
          loading={list.isPending}
          error={list.error}
          onRetry={() => void list.refetch()}
          empty={t('rules.empty')}
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
      <RuleTester keys={keys.data ?? []} groupName={groupName} />
      {editing && (
        <RuleDialog
          rule={editing === 'new' ? null : editing}
          keys={keys.data ?? []}
          groups={groups.data ?? []}
          onClose={() => setEditing(null)}
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
            {t('rules.deleteConfirm', { name: deleting?.name ?? '' })}
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

type Option = { id: string; name: string };

function RuleDialog({
  rule,
  keys,
  groups,
  onClose,
}: {
  rule: Rule | null;
  keys: Option[];
  groups: Array<Option & { platform: string }>;
  onClose: () => void;
}) {
  const { t } = useTranslation('routing');
  const queryClient = useQueryClient();
  const toast = useToast();
  const [form, setForm] = useState({
    name: rule?.name ?? '',
    apiKeyId: rule?.apiKeyId ?? '',
    priority: rule ? String(rule.priority) : '',
    scenario: rule?.scenario ?? ('' as const),
    modelPattern: rule?.modelPattern ?? '',
    longContextThreshold: rule?.longContextThreshold ? String(rule.longContextThreshold) : '',
    targetModel: rule?.targetModel ?? '',
    targetGroupId: rule?.targetGroupId ?? '',
    enabled: rule?.enabled ?? true,
    note: rule?.note ?? '',
  });
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm({ ...form, [key]: event.target.value });

  const save = useMutation({
    mutationFn: async () => {
      const text = (value: string) => (value.trim() === '' ? null : value.trim());
      const num = (value: string) => (value.trim() === '' ? null : Number(value));
      const common = {
        name: form.name.trim(),
        scenario: form.scenario || null,
        modelPattern: text(form.modelPattern),
        longContextThreshold:
          form.scenario === 'long_context' ? num(form.longContextThreshold) : null,
        targetModel: form.targetModel.trim(),
        targetGroupId: form.targetGroupId || null,
        enabled: form.enabled,
        note: text(form.note),
        ...(num(form.priority) !== null ? { priority: num(form.priority) as number } : {}),
      };
      if (rule) {
        return unwrap(
          await api.PATCH('/admin/api/routing-rules/{id}', {
            params: { path: { id: rule.id } },
            body: common,
          }),
        );
      }
      // On create, what is empty is left out (the server's defaults apply).
      const body = Object.fromEntries(
        Object.entries({ ...common, apiKeyId: form.apiKeyId || null }).filter(
          ([, value]) => value !== null,
        ),
      ) as Schemas['CreateRoutingRuleDto'];
      return unwrap(await api.POST('/admin/api/routing-rules', { body }));
    },
    onSuccess: async () => {
      toast('success', t('rules.saved'));
      await queryClient.invalidateQueries({ queryKey: ['routing-rules'] });
      onClose();
    },
  });
  const errors = errorsByField(save.error, FIELDS);
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
      title={rule ? t('rules.form.editTitle', { name: rule.name }) : t('rules.form.createTitle')}
      footer={
        <>
          <Button onClick={onClose}>{t('actions.cancel', { ns: 'common' })}</Button>
          <Button variant="primary" type="submit" form="rule-form" loading={save.isPending}>
            {rule ? t('actions.save', { ns: 'common' }) : t('actions.create', { ns: 'common' })}
          </Button>
        </>
      }
    >
      <form id="rule-form" onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <FormAlert>{errors.form}</FormAlert>
        </div>
        <Field label={t('rules.form.name')} error={err('name')} required>
          {(props) => <Input {...props} value={form.name} onChange={set('name')} />}
        </Field>
        <Field
          label={t('rules.form.apiKeyId')}
          hint={t('rules.form.apiKeyHint')}
          error={err('apiKeyId')}
        >
          {(props) => (
            <Select {...props} value={form.apiKeyId} onChange={set('apiKeyId')} disabled={!!rule}>
              <option value="">{t('rules.form.global')}</option>
              {keys.map((key) => (
                <option key={key.id} value={key.id}>
                  {key.name}
                </option>
              ))}
              {form.apiKeyId && !keys.some((key) => key.id === form.apiKeyId) && (
                <option value={form.apiKeyId}>{form.apiKeyId}</option>
              )}
            </Select>
          )}
        </Field>
        <Field label={t('rules.form.scenario')} error={err('scenario')}>
          {(props) => (
            <Select {...props} value={form.scenario} onChange={set('scenario')}>
              <option value="">{t('rules.form.noScenario')}</option>
              {SCENARIOS.map((s) => (
                <option key={s} value={s}>
                  {t(`scenarios.${s}`)}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          label={t('rules.form.modelPattern')}
          hint={
            form.scenario ? t(`scenarioHints.${form.scenario}`) : t('rules.form.modelPatternHint')
          }
          error={err('modelPattern')}
        >
          {(props) => (
            <Input
              {...props}
              placeholder="claude-opus-*"
              value={form.modelPattern}
              onChange={set('modelPattern')}
            />
          )}
        </Field>
        {form.scenario === 'long_context' && (
          <Field
            label={t('rules.form.longContextThreshold')}
            hint={t('rules.form.longContextHint')}
            error={err('longContextThreshold')}
          >
            {(props) => (
              <Input
                {...props}
                type="number"
                min={1}
                value={form.longContextThreshold}
                onChange={set('longContextThreshold')}
              />
            )}
          </Field>
        )}
        <Field
          label={t('rules.form.targetModel')}
          hint={t('rules.form.targetModelHint')}
          error={err('targetModel')}
          required
        >
          {(props) => <Input {...props} value={form.targetModel} onChange={set('targetModel')} />}
        </Field>
        <Field label={t('rules.form.targetGroupId')} error={err('targetGroupId')}>
          {(props) => (
            <Select {...props} value={form.targetGroupId} onChange={set('targetGroupId')}>
              <option value="">{t('rules.form.noGroup')}</option>
              {groups.map((group) => (
                <option key={group.id} value={group.id}>
                  {group.name} ({group.platform})
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          label={t('rules.form.priority')}
          hint={t('rules.form.priorityHint')}
          error={err('priority')}
        >
          {(props) => (
            <Input
              {...props}
              type="number"
              min={0}
              value={form.priority}
              onChange={set('priority')}
            />
          )}
        </Field>
        <Field className="sm:col-span-2" label={t('rules.form.note')} error={err('note')}>
          {(props) => <Input {...props} value={form.note} onChange={set('note')} />}
        </Field>
        <Checkbox
          label={t('rules.form.enabled')}
          checked={form.enabled}
          onChange={(event) => setForm({ ...form, enabled: event.target.checked })}
        />
      </form>
    </Dialog>
  );
}

/** Sends a sample request to the resolve route and says which rule and model it takes. */
function RuleTester({ keys, groupName }: { keys: Option[]; groupName: (id: string) => string }) {
  const { t } = useTranslation('routing');
  const [model, setModel] = useState('claude-sonnet-4-5');
  const [apiKeyId, setApiKeyId] = useState('');
  const [format, setFormat] = useState<Format>('anthropic-messages');
  const [body, setBody] = useState('');
  const [bodyError, setBodyError] = useState<string>();
  const resolve = useMutation({
    mutationFn: async (sample: Record<string, unknown> | undefined) =>
      unwrap(
        await api.POST('/admin/api/routing-rules/resolve', {
          body: {
            model: model.trim(),
            format,
            ...(apiKeyId ? { apiKeyId } : {}),
            ...(sample ? { body: sample } : {}),
          },
        }),
      ),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setBodyError(undefined);
    let sample: Record<string, unknown> | undefined;
    if (body.trim()) {
      try {
        sample = JSON.parse(body) as Record<string, unknown>;
      } catch (error) {
        setBodyError((error as Error).message);
        return;
      }
    }
    resolve.mutate(sample);
  };
  const errors = errorsByField(resolve.error, ['model', 'apiKeyId', 'format', 'body']);
  const result = resolve.data;
  const decision = result?.decision;
  return (
    <Card title={t('rules.tester.title')}>
      <p className="mb-3 text-muted">{t('rules.tester.intro')}</p>
      <form onSubmit={submit} noValidate className="grid gap-3 sm:grid-cols-3">
        <Field label={t('rules.tester.model')} error={errors.fields.model}>
          {(props) => (
            <Input {...props} value={model} onChange={(event) => setModel(event.target.value)} />
          )}
        </Field>
        <Field label={t('rules.tester.apiKeyId')} error={errors.fields.apiKeyId}>
          {(props) => (
            <Select
              {...props}
              value={apiKeyId}
              onChange={(event) => setApiKeyId(event.target.value)}
            >
              <option value="">{t('rules.tester.noKey')}</option>
              {keys.map((key) => (
                <option key={key.id} value={key.id}>
                  {key.name}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field label={t('rules.tester.format')} error={errors.fields.format}>
          {(props) => (
            <Select
              {...props}
              value={format}
              onChange={(event) => setFormat(event.target.value as Format)}
            >
              {FORMATS.map((f) => (
                <option key={f} value={f}>
                  {f}
                </option>
              ))}
            </Select>
          )}
        </Field>
        <Field
          className="sm:col-span-3"
          label={t('rules.tester.body')}
          hint={t('rules.tester.bodyHint')}
          error={bodyError ?? errors.fields.body}
        >
          {(props) => (
            <Textarea
              {...props}
              rows={3}
              value={body}
              onChange={(event) => setBody(event.target.value)}
            />
          )}
        </Field>
        <div className="flex flex-wrap items-center gap-3 sm:col-span-3">
          <Button type="submit" variant="primary" loading={resolve.isPending}>
            {t('rules.tester.submit')}
          </Button>
          {errors.form && <span className="text-danger">{errors.form}</span>}
        </div>
      </form>
      {result && (
        <div
          data-testid="rule-resolution"
          role="status"
          className="mt-3 rounded-md border border-border bg-surface-2 p-3"
        >
          {result.error ? (
            <p className="text-danger">{result.error}</p>
          ) : decision ? (
            <>
              <p className="font-medium">
                {decision.override
                  ? t('rules.tester.override', { model: decision.model })
                  : t('rules.tester.picked', { rule: decision.ruleName, model: decision.model })}
              </p>
              <p className="text-muted">
                {[
                  decision.platform && t('rules.tester.platform', { platform: decision.platform }),
                  decision.groupId &&
                    t('rules.tester.group', { group: groupName(decision.groupId) }),
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </p>
            </>
          ) : (
            <p>{t('rules.tester.noRule', { model: model.trim() })}</p>
          )}
          <p className="text-[13px] text-muted">
            {t('rules.tester.estimated', { tokens: formatNumber(result.estimatedInputTokens) })}
          </p>
        </div>
      )}
    </Card>
  );
}
