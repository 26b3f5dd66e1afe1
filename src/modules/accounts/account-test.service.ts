import { Inject, Injectable, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { AccountCodec } from './account-codec';
import { ACCOUNT_TESTER, type AccountTester, type AccountTestResult } from './account-tester';
import { AccountsException, AccountsExceptionCode } from './accounts.exception';
import { AccountsService } from './accounts.service';

/**
 * "Test this account": one small real request through it, sent by the AccountTester the relay
 * provides. The tester is injected when its module is global; otherwise it is looked up in the
 * whole application at call time, so the accounts module never imports the relay.
 */
@Injectable()
export class AccountTestService {
  constructor(
    private readonly accounts: AccountsService,
    private readonly moduleRef: ModuleRef,
    @Optional() @Inject(ACCOUNT_TESTER) private readonly tester?: AccountTester,
  ) {}

  get available(): boolean {
    return this.resolveTester() !== undefined;
  }

  async test(idOrName: string): Promise<AccountTestResult> {
    const tester = this.resolveTester();
    const record = await this.accounts.resolve(idOrName);
    if (tester === undefined) {
      throw new AccountsException(
        AccountsExceptionCode.TESTER_UNAVAILABLE,
        'account tests need the relay module, which is not loaded in this process',
      );
    }
    const account = await this.accounts.routableAccount(record.id);
    if (AccountCodec.isUnreadable(account)) {
      return {
        ok: false,
        status: null,
        latencyMs: 0,
        model: null,
        message: `${account.statusReason ?? 'secrets cannot be decrypted'}: enter them again`,
      };
    }
    if (AccountCodec.isRefused(account) || AccountCodec.isUnknownType(account)) {
      // Never send the credentials to a host the policy refuses, nor as another type's.
      return {
        ok: false,
        status: null,
        latencyMs: 0,
        model: null,
        message: account.statusReason ?? 'upstream refused by policy',
      };
    }
    return tester.test(account);
  }

  private resolveTester(): AccountTester | undefined {
    if (this.tester !== undefined) return this.tester;
    try {
      return this.moduleRef.get<AccountTester>(ACCOUNT_TESTER, { strict: false });
    } catch {
      return undefined;
    }
  }
}
