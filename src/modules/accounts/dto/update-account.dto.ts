import { OmitType, PartialType } from '@nestjs/swagger';
import { CreateAccountDto } from './create-account.dto';

/**
 * Changes to an account; omitted fields stay. `null` clears baseUrl, proxy, models,
 * concurrencyLimit and subscription. Credentials merge into the stored ones (`null` removes an
 * optional field such as refreshToken). The type cannot change: create a new account instead.
 */
export interface UpdateAccountInput {
  name?: string;
  credentials?: Record<string, unknown>;
  baseUrl?: string | null;
  priority?: number;
  weight?: number;
  enabled?: boolean;
  schedulable?: boolean;
  models?: unknown;
  proxy?: string | null;
  concurrencyLimit?: number | null;
  subscription?: Record<string, unknown> | null;
  groupIds?: string[];
}

/** Every create field but `type`, each optional; validation rules come from CreateAccountDto. */
export class UpdateAccountDto
  extends PartialType(OmitType(CreateAccountDto, ['type'] as const))
  implements UpdateAccountInput {}
