import type { Platform } from 'src/common/platform';
import type { AccountType } from '../account.types';
import type { ProviderId } from '../types/account-type.descriptor';

export class CredentialFieldDto {
  /** The key in `credentials` (create and update requests). */
  name!: string;
  required!: boolean;
  /** Encrypted at rest, shown only as a hint: a form should use a password input. */
  secret!: boolean;
  /**
   * 'timestamp': epoch milliseconds or an ISO 8601 date; 'enum': one of `values`; 'map': an
   * object of strings to strings (e.g. model → Azure deployment); 'object': a JSON object
   * (openai-compatible's extra body fields and quirks).
   */
  kind!: 'string' | 'timestamp' | 'enum' | 'map' | 'object';
  values?: string[];
  description!: string;
}

/** One account type as the admin UI needs it to offer and validate a create form. */
export class AccountTypeResponseDto {
  type!: AccountType;
  platform!: Platform;
  label!: string;
  /** The relay provider (wire family) that serves the type. */
  provider!: ProviderId;
  credentialFields!: CredentialFieldDto[];
  /** Whether accounts of this type take `subscription` facts. */
  supportsSubscription!: boolean;
  /** Whether Switchyard renews this type's credentials itself (OAuth refresh). */
  hasRefresher!: boolean;
  /** Where an account without a base URL of its own goes; null: `baseUrl` is required. */
  defaultBaseUrl!: string | null;
  /** The configuration variable that sets defaultBaseUrl; null when there is none. */
  defaultBaseUrlSetting!: string | null;
  /** The model the account test asks for when the account's models name no usable one. */
  testModel!: string;
}

export class AccountTypeListResponseDto {
  items!: AccountTypeResponseDto[];
}
