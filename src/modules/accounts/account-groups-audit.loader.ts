import {
  AuditTargetLoaderProvider,
  nullWhenNotFound,
  type AuditTargetLoader,
} from 'src/modules/audit/audit-target-loader.port';
import { AccountGroupsService } from './account-groups.service';
import type { AccountGroupResponseDto } from './dto/account-group.dto';

/** An account group as the admin API shows it, for the audit trail's before/after. */
@AuditTargetLoaderProvider()
export class AccountGroupsAuditLoader implements AuditTargetLoader {
  readonly targetType = 'account-groups';

  constructor(private readonly groups: AccountGroupsService) {}

  load(id: string): Promise<AccountGroupResponseDto | null> {
    return nullWhenNotFound(this.groups.get(id));
  }
}
