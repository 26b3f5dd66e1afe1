import { Inject, Injectable } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { appLogger } from 'src/common/logging/app-logger';
import type { AccountType, RoutableAccount } from 'src/modules/accounts/account.types';
import { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsService } from 'src/modules/accounts/accounts.service';
import {
  accountTypeDescriptors,
  isAccountType,
} from 'src/modules/accounts/types/account-types.registry';
import {
  CREDENTIAL_REFRESHERS,
  REFRESH_JOB_INTERVAL_MS,
  type CredentialRefresher,
  type RefreshResult,
} from './credential-refresher.port';

/**
 * The one entry to credential refreshes: dispatches by account type to the registered
 * CredentialRefresher, so the relay, the admin API and the CLI never name a type. Also runs
 * every refresher's refresh-ahead job.
 */
@Injectable()
export class CredentialRefreshService {
  private readonly byType: ReadonlyMap<AccountType, CredentialRefresher>;

  constructor(
    @Inject(CREDENTIAL_REFRESHERS) refreshers: readonly CredentialRefresher[],
    private readonly pool: AccountPool,
    private readonly accounts: AccountsService,
  ) {
    const byType = new Map<AccountType, CredentialRefresher>();
    for (const refresher of refreshers) {
      if (byType.has(refresher.accountType)) {
        throw new Error(`two credential refreshers for ${refresher.accountType} accounts`);
      }
      byType.set(refresher.accountType, refresher);
    }
    // The descriptors tell the admin UI which types refresh: keep that true to what runs.
    for (const descriptor of accountTypeDescriptors()) {
      if (descriptor.hasRefresher !== byType.has(descriptor.type)) {
        throw new Error(
          `the ${descriptor.type} descriptor says hasRefresher: ${descriptor.hasRefresher}, ` +
            `but ${byType.has(descriptor.type) ? 'a' : 'no'} refresher is registered`,
        );
      }
    }
    this.byType = byType;
  }

  hasRefresher(type: AccountType): boolean {
    return this.byType.has(type);
  }

  /**
   * One refresh after the upstream refused the account's credentials (a 401). The account as the
   * pool now holds it, with the new credentials, to retry with; null when its type has no
   * refresher or the refresh failed (the caller then records the auth failure).
   */
  async refreshAfterAuthFailure(account: RoutableAccount): Promise<RoutableAccount | null> {
    const refresher = this.byType.get(account.type);
    if (refresher === undefined) return null;
    let result: RefreshResult;
    try {
      result = await refresher.refreshWithResult(account.id);
    } catch (error) {
      // Refreshers answer failures as results; a throw is a bug, and must not fail the request.
      appLogger.error({ err: error, accountId: account.id }, 'credential refresh threw');
      return null;
    }
    // Gone from the pool meanwhile (deleted): nothing to retry with.
    return result.ok ? (this.pool.get(account.id) ?? null) : null;
  }

  /**
   * Refreshes an account's credentials now (admin API, CLI), by id or name. Throws an
   * AccountsException when there is no such account; a type without a refresher is a result.
   */
  async refresh(idOrName: string): Promise<RefreshResult> {
    const record = await this.accounts.resolve(idOrName);
    const type = record.type;
    const refresher = isAccountType(type) ? this.byType.get(type) : undefined;
    if (refresher === undefined) {
      return {
        ok: false,
        reason: 'no_refresher',
        detail: `${type} accounts have no credentials Switchyard can refresh`,
      };
    }
    return refresher.refreshWithResult(record.id);
  }

  /** Every refresher's refresh-ahead job; one failing job does not hold up the others. */
  @Interval(REFRESH_JOB_INTERVAL_MS)
  async refreshExpiring(): Promise<void> {
    for (const refresher of this.byType.values()) {
      try {
        await refresher.runRefreshJob();
      } catch (error) {
        appLogger.error(
          { err: error, accountType: refresher.accountType },
          'credential refresh job failed',
        );
      }
    }
  }
}
