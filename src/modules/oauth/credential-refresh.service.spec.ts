import { appLogger } from 'src/common/logging/app-logger';
import type { AccountType, RoutableAccount } from 'src/modules/accounts/account.types';
import type { AccountPool } from 'src/modules/accounts/account-pool.service';
import { AccountsException, AccountsExceptionCode } from 'src/modules/accounts/accounts.exception';
import { accountTypeDescriptors } from 'src/modules/accounts/types/account-types.registry';
import type { AccountsService } from 'src/modules/accounts/accounts.service';
import type { AccountRecord } from 'src/modules/accounts/accounts.repository';
import { routableAccount } from '../../../test/factories/account.factory';
import { CredentialRefreshService } from './credential-refresh.service';
import type {
  CredentialRefresher,
  RefreshJobSummary,
  RefreshResult,
} from './credential-refresher.port';

class FakeRefresher implements CredentialRefresher {
  readonly calls: string[] = [];
  result: RefreshResult = { ok: true, expiresAt: null };
  job: () => Promise<RefreshJobSummary> = async () => ({ refreshed: [], failed: [] });
  jobRuns = 0;

  constructor(readonly accountType: AccountType) {}

  async refreshWithResult(accountId: string): Promise<RefreshResult> {
    this.calls.push(accountId);
    return this.result;
  }

  async runRefreshJob(): Promise<RefreshJobSummary> {
    this.jobRuns += 1;
    return this.job();
  }
}

const oauthAccount = (): RoutableAccount =>
  routableAccount({
    id: 'oauth-1',
    type: 'claude-oauth',
    credentials: { type: 'claude-oauth', accessToken: 'at-old' },
  });

/**
 * The service with these refreshers, plus an idle fake for every other type whose descriptor
 * announces a refresher (the service refuses to start without them).
 */
function service(
  refreshers: CredentialRefresher[],
  pooled: RoutableAccount[] = [],
  records: Partial<AccountRecord>[] = [],
): CredentialRefreshService {
  const others = accountTypeDescriptors()
    .filter((d) => d.hasRefresher && !refreshers.some((r) => r.accountType === d.type))
    .map((d) => new FakeRefresher(d.type));
  return bareService([...refreshers, ...others], pooled, records);
}

/** The service with exactly these refreshers. */
function bareService(
  refreshers: CredentialRefresher[],
  pooled: RoutableAccount[] = [],
  records: Partial<AccountRecord>[] = [],
): CredentialRefreshService {
  const pool = { get: (id: string) => pooled.find((a) => a.id === id) } as unknown as AccountPool;
  const accounts = {
    resolve: async (idOrName: string) => {
      const record = records.find((r) => r.id === idOrName || r.name === idOrName);
      if (record === undefined)
        throw new AccountsException(AccountsExceptionCode.ACCOUNT_NOT_FOUND, 'no');
      return record;
    },
  } as unknown as AccountsService;
  return new CredentialRefreshService(refreshers, pool, accounts);
}

describe(CredentialRefreshService.name, () => {
  describe('constructor', () => {
    it('should refuse two refreshers for one type', () => {
      expect(() =>
        bareService([new FakeRefresher('claude-oauth'), new FakeRefresher('claude-oauth')]),
      ).toThrow('two credential refreshers for claude-oauth accounts');
    });

    it("should refuse a refresher the type's descriptor does not announce", () => {
      expect(() =>
        bareService([new FakeRefresher('claude-oauth'), new FakeRefresher('claude-console')]),
      ).toThrow('the claude-console descriptor says hasRefresher: false');
    });

    it('should refuse a missing refresher for a type whose descriptor announces one', () => {
      expect(() => bareService([])).toThrow('the claude-oauth descriptor says hasRefresher: true');
    });
  });

  describe('refreshAfterAuthFailure', () => {
    it('should answer the account as the pool holds it when the refresh succeeds', async () => {
      const refresher = new FakeRefresher('claude-oauth');
      const renewed = {
        ...oauthAccount(),
        credentials: { type: 'claude-oauth' as const, accessToken: 'at-new' },
      };
      const subject = service([refresher], [renewed]);

      await expect(subject.refreshAfterAuthFailure(oauthAccount())).resolves.toBe(renewed);
      expect(refresher.calls).toEqual(['oauth-1']);
    });

    it('should answer null when the refresh fails', async () => {
      const refresher = new FakeRefresher('claude-oauth');
      refresher.result = { ok: false, reason: 'refused', detail: 'invalid_grant', status: 400 };
      const subject = service([refresher], [oauthAccount()]);

      await expect(subject.refreshAfterAuthFailure(oauthAccount())).resolves.toBeNull();
    });

    it('should answer null without a refresh when the type has no refresher', async () => {
      const refresher = new FakeRefresher('claude-oauth');
      const console = routableAccount({ id: 'console-1' });
      const subject = service([refresher], [console]);

      await expect(subject.refreshAfterAuthFailure(console)).resolves.toBeNull();
      expect(refresher.calls).toEqual([]);
      expect(subject.hasRefresher('claude-console')).toBe(false);
      expect(subject.hasRefresher('claude-oauth')).toBe(true);
    });

    it('should answer null when the account left the pool during the refresh', async () => {
      const subject = service([new FakeRefresher('claude-oauth')], []);

      await expect(subject.refreshAfterAuthFailure(oauthAccount())).resolves.toBeNull();
    });

    it('should answer null and log when a refresher throws', async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      const refresher = new FakeRefresher('claude-oauth');
      refresher.refreshWithResult = async () => {
        throw new Error('bug');
      };
      const subject = service([refresher], [oauthAccount()]);

      await expect(subject.refreshAfterAuthFailure(oauthAccount())).resolves.toBeNull();
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ accountId: 'oauth-1' }),
        'credential refresh threw',
      );
      error.mockRestore();
    });
  });

  describe('refresh', () => {
    it("should dispatch to the refresher of the account's type by id or name", async () => {
      const refresher = new FakeRefresher('claude-oauth');
      refresher.result = { ok: true, expiresAt: 1_900_000_000_000 };
      const subject = service(
        [refresher],
        [],
        [{ id: 'oauth-1', name: 'max', type: 'claude-oauth' }],
      );

      await expect(subject.refresh('max')).resolves.toEqual({
        ok: true,
        expiresAt: 1_900_000_000_000,
      });
      expect(refresher.calls).toEqual(['oauth-1']);
    });

    it('should answer no_refresher when the type has none', async () => {
      const subject = service(
        [new FakeRefresher('claude-oauth')],
        [],
        [{ id: 'k-1', name: 'key', type: 'claude-console' }],
      );

      await expect(subject.refresh('k-1')).resolves.toEqual({
        ok: false,
        reason: 'no_refresher',
        detail: 'claude-console accounts have no credentials Switchyard can refresh',
      });
    });

    it('should throw the accounts error when there is no such account', async () => {
      const subject = service([new FakeRefresher('claude-oauth')]);

      await expect(subject.refresh('nope')).rejects.toBeInstanceOf(AccountsException);
    });
  });

  describe('refreshExpiring', () => {
    it('should run every refresher job and log a job that fails', async () => {
      const error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
      const refresher = new FakeRefresher('claude-oauth');
      refresher.job = async () => {
        throw new Error('coordinator down');
      };
      const subject = service([refresher]);

      await expect(subject.refreshExpiring()).resolves.toBeUndefined();
      expect(refresher.jobRuns).toBe(1);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ accountType: 'claude-oauth' }),
        'credential refresh job failed',
      );
      error.mockRestore();
    });
  });
});
