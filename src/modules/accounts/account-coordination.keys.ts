import { coordinationKeys } from 'src/infra/coordination/coordination.keys';

/**
 * Coordination keys the accounts module adds on top of the shared key builder. They extend
 * `coordinationKeys.accountHealth` so every key of one account keeps its `{accountId}` hash tag
 * (one Redis Cluster slot per account). Candidates to move into coordination.keys.ts.
 */
export const accountKeys = {
  /** Time-bound health of an account: scope 'account', or a model family ('opus', …). */
  health: (accountId: string, scope: string): string =>
    scope === 'account'
      ? coordinationKeys.accountHealth(accountId)
      : `${coordinationKeys.accountHealth(accountId)}:${scope}`,
  /**
   * The latest usage windows an account's responses reported (JSON `{at, windows}`), shared so
   * every instance's admin API shows them. Not a health scope: no model family is named so.
   */
  usageWindows: (accountId: string): string =>
    `${coordinationKeys.accountHealth(accountId)}:usage-windows`,
  channels: {
    /** Pool reload: accounts or groups changed in SQL. */
    invalidation: coordinationKeys.channels.accountInvalidation,
    /** Time-bound health transitions, mirrored into every instance's memory. */
    health: 'ch:account-health',
  },
} as const;
