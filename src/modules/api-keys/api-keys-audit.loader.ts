import {
  AuditTargetLoaderProvider,
  nullWhenNotFound,
  type AuditTargetLoader,
} from 'src/modules/audit/audit-target-loader.port';
import { ApiKeysService } from './api-keys.service';
import type { ApiKeyResponseDto } from './dto/api-key-response.dto';

/**
 * A key as the admin API shows it (its hint, never its secret or digest), for the audit trail's
 * before/after. Without its use times, which move on their own.
 */
@AuditTargetLoaderProvider()
export class ApiKeysAuditLoader implements AuditTargetLoader {
  readonly targetType = 'keys';

  constructor(private readonly keys: ApiKeysService) {}

  async load(id: string): Promise<Omit<ApiKeyResponseDto, 'lastUsedAt' | 'firstUsedAt'> | null> {
    const key = await nullWhenNotFound(this.keys.get(id));
    if (key === null) return null;
    const { lastUsedAt: _lastUsedAt, firstUsedAt: _firstUsedAt, ...view } = key;
    return view;
  }
}
