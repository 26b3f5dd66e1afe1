import { AuditTargetLoaderProvider } from 'src/modules/audit/audit-target-loader.port';
import type { AuditTargetLoader } from 'src/modules/audit/audit-target-loader.port';
import type { NotificationTargetResponseDto } from './dto/notification-target.dto';
import { NotificationTargetsRepository } from './notification-targets.repository';
import { NotificationsService } from './notifications.service';

/** A notification target as the admin API shows it (no secret), for the audit trail. */
@AuditTargetLoaderProvider()
export class NotificationsAuditLoader implements AuditTargetLoader {
  readonly targetType = 'notifications';

  constructor(
    private readonly notifications: NotificationsService,
    private readonly repository: NotificationTargetsRepository,
  ) {}

  async load(id: string): Promise<NotificationTargetResponseDto | null> {
    const record = await this.repository.findById(id);
    return record === undefined ? null : this.notifications.toResponse(record);
  }
}
