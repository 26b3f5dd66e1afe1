import {
  AuditTargetLoaderProvider,
  nullWhenNotFound,
  type AuditTargetLoader,
} from 'src/modules/audit/audit-target-loader.port';
import type { RoutingRuleResponseDto } from './dto/routing-rule.dto';
import { RoutingRulesService } from './routing-rules.service';

/** A routing rule as the admin API shows it, for the audit trail's before/after. */
@AuditTargetLoaderProvider()
export class RoutingRulesAuditLoader implements AuditTargetLoader {
  readonly targetType = 'routing-rules';

  constructor(private readonly rules: RoutingRulesService) {}

  load(id: string): Promise<RoutingRuleResponseDto | null> {
    return nullWhenNotFound(this.rules.get(id));
  }
}
