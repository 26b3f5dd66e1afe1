import {
  AuditTargetLoaderProvider,
  type AuditTargetLoader,
} from 'src/modules/audit/audit-target-loader.port';
import type { PriceOverrideDto } from './dto/pricing.dto';
import { PricingService } from './pricing.service';

/**
 * A model's price override (the `pricing` routes' target is `overrides/:model`) as the admin API
 * shows it, for the audit trail's before/after; null when the model has none.
 */
@AuditTargetLoaderProvider()
export class PricingAuditLoader implements AuditTargetLoader {
  readonly targetType = 'pricing';

  constructor(private readonly pricing: PricingService) {}

  async load(model: string): Promise<PriceOverrideDto | null> {
    return this.pricing.findOverride(model);
  }
}
