import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { FlaskConical, Pencil, Power, PowerOff, RotateCcw, Trash2 } from 'lucide-react';
import { ApiError } from '@/api/client';
import { Button } from '@/components/ui/button';
import { ConfirmDialog, Dialog } from '@/components/ui/dialog';
import { LinkButton } from '@/components/ui/link-button';
import { useToast } from '@/components/ui/toast';
import { formatDuration } from '@/lib/format';
import { cn } from '@/lib/cn';
import { useAccountAction, useAccountTest, type Account, type TestResult } from './api';

type Action = 'enable' | 'disable' | 'reset-health' | 'delete';

function errorText(error: unknown, fallback: string): string {
  return error instanceof ApiError ? error.message : fallback;
}

/**
 * An account's actions (enable or disable, reset health, test, edit, delete with a confirmation)
 * as icon buttons in a table row, or labelled buttons in the detail page's header. Only for roles
 * that may change accounts: the caller decides.
 */
export function AccountActions({
  account,
  variant,
  onTest,
}: {
  account: Account;
  variant: 'row' | 'header';
  /** The detail page shows the result itself; rows open a dialog. */
  onTest?: () => void;
}) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const navigate = useNavigate();
  const action = useAccountAction();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [testing, setTesting] = useState(false);

  const run = (kind: Action) =>
    action.mutate(
      { id: account.id, action: kind },
      {
        onSuccess: () => {
          toast('success', t(`actions.done.${kind}`, { name: account.name }));
          if (kind === 'delete') {
            setConfirmDelete(false);
            if (variant === 'header') void navigate('/admin/accounts');
          }
        },
        onError: (error) => toast('error', errorText(error, tc('state.error'))),
      },
    );

  const unhealthy = account.healthStates.length > 0 || account.status !== 'active';
  const row = variant === 'row';
  const size = 'sm' as const;
  const label = (text: string) => (row ? { 'aria-label': text, title: text } : {});
  const busy = (kind: Action) => action.isPending && action.variables?.action === kind;

  return (
    <div className={cn('flex items-center gap-1', row ? 'flex-nowrap' : 'flex-wrap')}>
      <Button
        size={size}
        data-testid="account-test"
        {...label(t('actions.test'))}
        onClick={() => (onTest ? onTest() : setTesting(true))}
      >
        <FlaskConical className="size-4" aria-hidden />
        {!row && t('actions.test')}
      </Button>
      <LinkButton
        size={size}
        to={`/admin/accounts/${account.id}/edit`}
        data-testid="account-edit"
        {...label(tc('actions.edit'))}
      >
        <Pencil className="size-4" aria-hidden />
        {!row && tc('actions.edit')}
      </LinkButton>
      {!row &&
        (account.enabled ? (
          <Button
            size={size}
            data-testid="account-disable"
            loading={busy('disable')}
            {...label(tc('actions.disable'))}
            onClick={() => run('disable')}
          >
            <PowerOff className="size-4" aria-hidden />
            {tc('actions.disable')}
          </Button>
        ) : (
          <Button
            size={size}
            data-testid="account-enable"
            loading={busy('enable')}
            {...label(tc('actions.enable'))}
            onClick={() => run('enable')}
          >
            <Power className="size-4" aria-hidden />
            {tc('actions.enable')}
          </Button>
        ))}
      <Button
        size={size}
        data-testid="account-reset-health"
        disabled={!unhealthy}
        loading={busy('reset-health')}
        {...label(t('actions.resetHealth'))}
        onClick={() => run('reset-health')}
      >
        <RotateCcw className="size-4" aria-hidden />
        {!row && t('actions.resetHealth')}
      </Button>
      <Button
        size={size}
        variant={row ? 'ghost' : 'secondary'}
        className="text-danger"
        data-testid="account-delete"
        {...label(tc('actions.delete'))}
        onClick={() => setConfirmDelete(true)}
      >
        <Trash2 className="size-4" aria-hidden />
        {!row && tc('actions.delete')}
      </Button>
      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        message={tc('confirm.delete', { name: account.name })}
        confirmLabel={tc('actions.delete')}
        pending={busy('delete')}
        onConfirm={() => run('delete')}
      />
      {testing && <TestDialog account={account} onClose={() => setTesting(false)} />}
    </div>
  );
}

/** A row's enabled switch: flips the account on or off at once (admins and operators). */
export function EnabledToggle({ account }: { account: Account }) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  const toast = useToast();
  const action = useAccountAction();
  return (
    <label
      className="inline-flex cursor-pointer items-center"
      title={account.enabled ? tc('state.enabled') : tc('state.disabled')}
    >
      <input
        type="checkbox"
        role="switch"
        data-testid="account-enabled"
        className="peer sr-only"
        checked={account.enabled}
        disabled={action.isPending}
        aria-label={t('list.enabledSwitch', { name: account.name })}
        onChange={(event) =>
          action.mutate(
            { id: account.id, action: event.target.checked ? 'enable' : 'disable' },
            {
              onSuccess: (_data, variables) =>
                toast('success', t(`actions.done.${variables.action}`, { name: account.name })),
              onError: (error) => toast('error', errorText(error, tc('state.error'))),
            },
          )
        }
      />
      <span
        aria-hidden
        className="relative h-5 w-9 rounded-full border border-border bg-surface-2 transition-colors peer-checked:border-transparent peer-checked:bg-primary peer-focus-visible:outline-2 peer-focus-visible:outline-primary after:absolute after:top-0.5 after:left-0.5 after:size-3.5 after:rounded-full after:bg-muted after:transition-transform peer-checked:after:translate-x-4 peer-checked:after:bg-white"
      />
    </label>
  );
}

/** Runs the account test once when opened and shows its result. */
function TestDialog({ account, onClose }: { account: Account; onClose: () => void }) {
  const { t } = useTranslation('accounts');
  const test = useAccountTest();
  const started = useRef(false);
  const { mutate } = test;
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    mutate(account.id);
  }, [mutate, account.id]);
  return (
    <Dialog
      open
      onOpenChange={(open) => !open && onClose()}
      title={t('test.title', { name: account.name })}
    >
      <TestOutcome pending={test.isPending} result={test.data} error={test.error} />
      <div className="mt-3 flex justify-end gap-2">
        <Button onClick={() => test.mutate(account.id)} loading={test.isPending}>
          {t('test.again')}
        </Button>
        <Link className="self-center text-primary underline" to={`/admin/accounts/${account.id}`}>
          {t('test.openAccount')}
        </Link>
      </div>
    </Dialog>
  );
}

/** A test's result in words: ok with latency and model, or the upstream's refusal. */
export function TestOutcome({
  pending,
  result,
  error,
}: {
  pending: boolean;
  result: TestResult | undefined;
  error: unknown;
}) {
  const { t } = useTranslation('accounts');
  const { t: tc } = useTranslation();
  if (pending) {
    return (
      <p role="status" data-testid="account-test-result" data-ok="pending" className="text-muted">
        {t('test.running')}
      </p>
    );
  }
  if (error) {
    return (
      <p
        role="alert"
        data-testid="account-test-result"
        data-ok="false"
        className="rounded-md border border-danger/40 bg-danger/10 p-3 text-danger"
      >
        {t('test.couldNotRun')}: {errorText(error, tc('errors.network'))}
      </p>
    );
  }
  if (!result) return null;
  return (
    <div
      role="status"
      data-testid="account-test-result"
      data-ok={String(result.ok)}
      className={cn(
        'rounded-md border p-3',
        result.ok
          ? 'border-success/40 bg-success/10 text-success'
          : 'border-danger/40 bg-danger/10 text-danger',
      )}
    >
      <p className="font-medium">{result.ok ? t('test.ok') : t('test.failed')}</p>
      <dl className="mt-1 grid grid-cols-[auto_1fr] gap-x-3 gap-y-0.5 text-[13px] text-fg">
        <dt className="text-muted">{t('test.latency')}</dt>
        <dd>{formatDuration(result.latencyMs)}</dd>
        <dt className="text-muted">{t('test.model')}</dt>
        <dd className="font-mono">{result.model ?? '—'}</dd>
        <dt className="text-muted">{t('test.status')}</dt>
        <dd>{result.status ?? t('test.noResponse')}</dd>
        <dt className="text-muted">{t('test.message')}</dt>
        <dd className="break-words">{result.message}</dd>
      </dl>
    </div>
  );
}
