import type { AuditTargetLoader } from 'src/modules/audit/audit-target-loader.port';
import { AuditTargetLoaderProvider } from 'src/modules/audit/audit-target-loader.port';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';
import type { AccountResponseDto } from './dto/account.response.dto';

/**
 * An account as the admin API shows it (credentials and proxy masked), for the audit trail's
 * before/after. Without what moves on its own (last use, usage windows, time-bound health), so a diff shows what
 * the change did.
 */
@AuditTargetLoaderProvider()
export class AccountsAuditLoader implements AuditTargetLoader {
  readonly targetType = 'accounts';

  constructor(
    private readonly accounts: AccountsService,
    private readonly repository: AccountsRepository,
  ) {}

  async load(
    id: string,
  ): Promise<Omit<AccountResponseDto, 'lastUsedAt' | 'usageWindows' | 'healthStates'> | null> {
    const record = await this.repository.findById(id);
    if (record === undefined) return null;
    const groupIds = (await this.repository.groupIdsByAccount([id])).get(id) ?? [];
    const {
      lastUsedAt: _lastUsedAt,
      usageWindows: _usageWindows,
      healthStates: _healthStates,
      ...view
    } = this.accounts.toResponse(record, groupIds);
    return view;
  }
}
