/**
 * The one place that spells coordination keys and channels (see docs: Redis key catalogue).
 *
 * Everything about one API key carries the hash tag `{<keyId>}`, so a single admit script can
 * touch its windows, budgets and lease in one Redis Cluster slot. Account keys carry
 * `{<accountId>}`; an admit must not mix the two tags.
 */

/** Ids go inside `{...}`; a brace in an id would move the hash tag and split the slot. */
function tag(id: string): string {
  if (id.length === 0 || id.includes('{') || id.includes('}')) {
    throw new RangeError(`Invalid coordination id ${JSON.stringify(id)}`);
  }
  return `{${id}}`;
}

/**
 * Where a counter's seed generation is kept (see Coordinator.seedCounter): beside the counter,
 * in its hash-tag slot. Internal to the coordinator implementations.
 */
export function seedKey(counterKey: string): string {
  return `${counterKey}:seed`;
}

export const coordinationKeys = {
  /** Fixed-window counter of one metric (requests, tokens) for an API key. */
  keyWindow: (keyId: string, metric: string): string => `k:${tag(keyId)}:win:${metric}`,
  /** Spend counter of an API key for one budget period (e.g. `daily`, `2025-01-31`). */
  keyBudget: (keyId: string, period: string, periodId: string): string =>
    `k:${tag(keyId)}:budget:${period}:${periodId}`,
  /** Concurrency leases of an API key. */
  keyLease: (keyId: string): string => `k:${tag(keyId)}:lease`,
  /** Concurrency leases of an upstream account. */
  accountLease: (accountId: string): string => `a:${tag(accountId)}:lease`,
  /** Account pinned to a conversation of an API key. */
  sticky: (keyId: string, sessionHash: string): string => `k:${tag(keyId)}:sticky:${sessionHash}`,
  /** Health / cooldown state of an upstream account. */
  accountHealth: (accountId: string): string => `a:${tag(accountId)}:health`,
  /** Named mutex (e.g. one token refresh per account across instances). */
  lock: (name: string): string => `lock:${tag(name)}`,
  /**
   * Admin login throttle state of one subject (`u:<digest>` a username, `a:<digest>` a source
   * address). Every login key shares the `{login}` tag so one admit checks username and address.
   */
  loginFailures: (subject: string): string => `login:{login}:fail:${subject}`,
  loginLock: (subject: string): string => `login:{login}:lock:${subject}`,
  loginStrikes: (subject: string): string => `login:{login}:strikes:${subject}`,
  channels: {
    keyInvalidation: 'ch:key-invalidation',
    accountInvalidation: 'ch:account-invalidation',
    /** A user id whose session state (token version, disabled, role) changed. */
    userInvalidation: 'ch:user-invalidation',
  },
} as const;
