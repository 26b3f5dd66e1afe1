import { useTranslation } from 'react-i18next';
import { Badge } from '@/components/ui/misc';
import { formatDate } from '@/lib/format';
import { formatShortDate } from '@/lib/format';
import type { Account, HealthState } from './api';

export type StateKind =
  | 'ok'
  | 'disabled'
  | 'unschedulable'
  | 'auth_failed'
  | 'blocked'
  | 'cooling'
  | 'rate_limited'
  | 'limited_models';

const TONE = {
  ok: 'success',
  disabled: 'neutral',
  unschedulable: 'neutral',
  auth_failed: 'danger',
  blocked: 'danger',
  cooling: 'warning',
  rate_limited: 'warning',
  limited_models: 'info',
} as const;

export interface AccountState {
  kind: StateKind;
  /** The server's words for the state (its reason), null when there is nothing to say. */
  reason: string | null;
  until: string | null;
  /** The model family a rate limit is for ('account' for all models). */
  scope: string | null;
}

/**
 * The one state a row shows: what keeps the account from serving, the worst first (disabled by an
 * admin, persistent failures, account-wide cooldowns and rate limits), else a limit on some
 * model families only, else ok. `healthStates` carries reasons and ends.
 */
export function accountState(account: Account): AccountState {
  if (!account.enabled) return { kind: 'disabled', reason: null, until: null, scope: null };
  const states = account.healthStates;
  const persistent = states.find((s) => s.state === 'auth_failed' || s.state === 'blocked');
  if (persistent) return fromHealth(persistent);
  if (account.status !== 'active') {
    return { kind: account.status, reason: account.statusReason, until: null, scope: null };
  }
  const whole = states
    .filter((s) => s.scope === 'account')
    .sort((a, b) => (b.until ?? '').localeCompare(a.until ?? ''))[0];
  if (whole) return fromHealth(whole);
  if (!account.schedulable)
    return { kind: 'unschedulable', reason: null, until: null, scope: null };
  const partial = states[0];
  if (partial) return { ...fromHealth(partial), kind: 'limited_models' };
  return { kind: 'ok', reason: null, until: null, scope: null };
}

function fromHealth(state: HealthState): AccountState {
  return { kind: state.state, reason: state.reason, until: state.until, scope: state.scope };
}

/** The state's name as a badge, with its reason and end beside it (`data-testid="account-state"`). */
export function StateBadge({ account, compact = false }: { account: Account; compact?: boolean }) {
  const { t } = useTranslation('accounts');
  const state = accountState(account);
  return (
    <div
      data-testid="account-state"
      data-state={state.kind}
      className="flex min-w-0 flex-col items-start gap-0.5"
    >
      <Badge tone={TONE[state.kind]}>{t(`state.${state.kind}`)}</Badge>
      {state.reason && (
        <span
          data-testid="account-state-reason"
          className={
            compact ? 'max-w-44 truncate text-[12px] text-muted' : 'text-[13px] text-muted'
          }
          title={state.reason}
        >
          {state.scope && state.scope !== 'account'
            ? t('state.scoped', { reason: state.reason, scope: state.scope })
            : state.reason}
        </span>
      )}
      {state.until && (
        <span data-testid="account-state-until" className="text-[12px] text-muted">
          {t('state.until', {
            when: compact ? formatShortDate(state.until) : formatDate(state.until),
          })}
        </span>
      )}
    </div>
  );
}

/** A health state or history event as a small badge. */
export function HealthBadge({ state }: { state: HealthState['state'] | 'ok' }) {
  const { t } = useTranslation('accounts');
  return <Badge tone={TONE[state]}>{t(`state.${state}`)}</Badge>;
}
