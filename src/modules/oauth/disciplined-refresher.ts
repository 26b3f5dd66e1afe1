import type { OnModuleDestroy } from '@nestjs/common';
import type { AccountType } from 'src/modules/accounts/account.types';
import type {
  CredentialRefresher,
  RefreshJobSummary,
  RefreshResult,
} from './credential-refresher.port';
import {
  RefreshDiscipline,
  type RefreshableCredentials,
  type RefreshDisciplineSetup,
  type RefreshSubject,
} from './refresh-discipline';

/**
 * Base of the OAuth refreshers (Claude, Codex, Google): the CredentialRefresher port on top of
 * the shared RefreshDiscipline, so a refresher only says how its provider renews a token
 * (`renew`: the token call, the refreshed credentials, commitRefreshed).
 */
export abstract class DisciplinedRefresher<C extends RefreshableCredentials>
  implements CredentialRefresher, OnModuleDestroy
{
  abstract readonly accountType: AccountType;
  /** The lock and save-with-retry discipline shared with the other refreshers. */
  protected readonly discipline: RefreshDiscipline<C>;

  protected constructor(setup: RefreshDisciplineSetup<C>) {
    this.discipline = new RefreshDiscipline<C>(setup);
  }

  refreshWithResult(accountId: string): Promise<RefreshResult> {
    return this.discipline.refresh(accountId, (subject) => this.renew(subject));
  }

  /**
   * One run of the refresh-ahead job (CredentialRefreshService runs it every minute): refreshes
   * tokens that expire within five minutes, on one instance; an account whose refresh is refused
   * is marked auth_failed (its refresh token is dead).
   */
  runRefreshJob(): Promise<RefreshJobSummary> {
    return this.discipline.runRefreshJob((accountId) => this.refreshWithResult(accountId));
  }

  /** Saves can still be pending at shutdown: one last attempt each, loudly if it fails. */
  onModuleDestroy(): Promise<void> {
    return this.discipline.flush();
  }

  /** Tokens refreshed but not yet saved to SQL (held in memory, save retried with backoff). */
  get unsavedAccountIds(): string[] {
    return this.discipline.unsavedAccountIds;
  }

  /** One refresh with the account's lock held: the provider's token call, then the commit. */
  protected abstract renew(subject: RefreshSubject<C>): Promise<RefreshResult>;
}
