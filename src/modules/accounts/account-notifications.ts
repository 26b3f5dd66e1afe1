import type { NotificationEventInput } from 'src/infra/outbox/outbox.types';
import type { AccountStatus } from './account.types';

/** Who the notification is about. */
export interface NotifiedAccount {
  id: string;
  name?: string;
  platform?: string;
  type?: string;
}

function subject(account: NotifiedAccount): NotificationEventInput['subject'] {
  return {
    kind: 'account',
    id: account.id,
    ...(account.name !== undefined && { name: account.name }),
  };
}

function label(account: NotifiedAccount): string {
  return `Account "${account.name ?? account.id}"`;
}

function facts(account: NotifiedAccount): Record<string, string> {
  return {
    ...(account.platform !== undefined && { platform: account.platform }),
    ...(account.type !== undefined && { accountType: account.type }),
  };
}

/**
 * The notification of a persistent status (auth_failed, blocked). Raised only on the SQL
 * transition (see AccountHealthService.markStatus), so it needs no dedupe key: a burst of 401s,
 * on any number of instances, changes the row once.
 */
export function statusNotification(
  account: NotifiedAccount,
  status: Exclude<AccountStatus, 'active'>,
  reason: string,
  at: number,
): NotificationEventInput {
  const auth = status === 'auth_failed';
  return {
    type: auth ? 'account.auth_failed' : 'account.blocked',
    severity: 'critical',
    title: auth
      ? `${label(account)} failed authentication`
      : `${label(account)} was blocked by its upstream`,
    message:
      `${label(account)} takes no requests until an admin enters new credentials or resets ` +
      `its health. Reason: ${reason}`,
    subject: subject(account),
    data: { status, reason, ...facts(account) },
    at,
  };
}

/**
 * The notification of an account-wide cooldown or rate limit. One per episode: the dedupe key
 * names the minute the state ends, which every instance that enters the same episode computes
 * alike (a rate limit's reset comes from the upstream; a cooldown starts within the same burst).
 */
export function timedNotification(
  account: NotifiedAccount,
  state: 'cooling' | 'rate_limited',
  until: number,
  reason: string,
  at: number,
): NotificationEventInput {
  const limited = state === 'rate_limited';
  const untilIso = new Date(until).toISOString();
  return {
    type: limited ? 'account.rate_limited' : 'account.cooling',
    severity: 'warning',
    title: limited
      ? `${label(account)} is rate limited until ${untilIso}`
      : `${label(account)} is cooling down until ${untilIso}`,
    message: `${label(account)} takes no requests until ${untilIso}. Reason: ${reason}`,
    subject: subject(account),
    data: { state, until, reason, ...facts(account) },
    dedupeKey: `account.${state}:${account.id}:${Math.floor(until / 60_000)}`,
    at,
  };
}

/**
 * The notification of an account back to ok. `episode` names what ended (a timed state's
 * `until`) so instances that observe the same recovery raise it once; omitted for a transition
 * guarded by SQL (an admin reset, new credentials).
 */
export function recoveredNotification(
  account: NotifiedAccount,
  from: string,
  reason: string,
  at: number,
  episode?: { state: string; until: number },
): NotificationEventInput {
  return {
    type: 'account.recovered',
    severity: 'info',
    title: `${label(account)} recovered`,
    message: `${label(account)} takes requests again (${reason}).`,
    subject: subject(account),
    data: { from, reason, ...facts(account) },
    ...(episode !== undefined && {
      dedupeKey: `account.recovered:${account.id}:${episode.state}:${episode.until}`,
    }),
    at,
  };
}
