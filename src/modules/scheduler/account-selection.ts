import type { AccountModels, RoutableAccount } from 'src/modules/accounts/account.types';
import { accountServesModel, upstreamModelName } from 'src/modules/accounts/account-models';

/** The upstream model name for a requested model, or null when the account does not serve it. */
export function upstreamModelFor(models: AccountModels, model: string): string | null {
  return accountServesModel(models, model) ? upstreamModelName(models, model) : null;
}

/** Enabled, schedulable and not persistently failed: may be routed to when healthy. */
export function isSchedulable(account: RoutableAccount): boolean {
  return account.enabled && account.schedulable && account.status === 'active';
}

/**
 * Orders healthy, capable candidates: the best (lowest) priority tier only; inside it fewest
 * in-flight requests, then higher weight, then least recently used.
 */
export function rankCandidates(
  candidates: RoutableAccount[],
  inFlight: (accountId: string) => number,
): RoutableAccount[] {
  if (candidates.length === 0) return [];
  const best = Math.min(...candidates.map((a) => a.priority));
  return candidates
    .filter((a) => a.priority === best)
    .sort(
      (a, b) =>
        inFlight(a.id) - inFlight(b.id) ||
        b.weight - a.weight ||
        (a.lastUsedAt ?? 0) - (b.lastUsedAt ?? 0) ||
        a.id.localeCompare(b.id),
    );
}
