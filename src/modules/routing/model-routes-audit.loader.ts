import {
  AuditTargetLoaderProvider,
  nullWhenNotFound,
  type AuditTargetLoader,
} from 'src/modules/audit/audit-target-loader.port';
import type { ModelRouteResponseDto } from './dto/model-route.dto';
import { ModelRoutesService } from './model-routes.service';

/** A model route as the admin API shows it, for the audit trail's before/after. */
@AuditTargetLoaderProvider()
export class ModelRoutesAuditLoader implements AuditTargetLoader {
  readonly targetType = 'model-routes';

  constructor(private readonly routes: ModelRoutesService) {}

  load(id: string): Promise<ModelRouteResponseDto | null> {
    return nullWhenNotFound(this.routes.get(id));
  }
}
