import type { Platform } from 'src/common/platform';
import type { AccountType } from 'src/modules/accounts/account.types';

/** Response headers as Node gives them (lower-case names). */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** The relay provider (wire family) that serves an account type; see relay/providers/. */
export type ProviderId = 'anthropic';

/**
 * How an account type's upstream says it is limited, banned or unauthorised. Pure readings of a
 * response; no I/O, no clock but the `now` passed in.
 */
export interface HealthRules {
  /** When a 429'd account may be used again (epoch ms), or null when the response does not say. */
  rateLimitReset(headers: ResponseHeaders, now: number): number | null;
  /** 'account', or a model family when the upstream names a per-family limit. */
  rateLimitScope(headers: ResponseHeaders): string;
  /** The organisation or account behind the credentials is disabled or banned (final). */
  isBlocked(status: number, bodyText: string): boolean;
  /** The credentials were refused (a refresh may help where the type has a refresher). */
  isAuthFailed(status: number, bodyText: string): boolean;
}

/** One credential field as the admin API and UI describe it. */
export interface CredentialField {
  name: string;
  required: boolean;
  /** Secret fields are encrypted at rest and only ever shown masked. */
  secret: boolean;
  kind: 'string' | 'timestamp' | 'enum';
  /** For kind 'enum'. */
  values?: readonly string[];
  description: string;
}

/**
 * Everything Switchyard knows about one account type, in one place: adding a type means a
 * descriptor, its provider folder and one registry line.
 */
export interface AccountTypeDescriptor {
  readonly type: AccountType;
  readonly platform: Platform;
  /** Human name for admin screens ("Claude subscription (OAuth)"). */
  readonly label: string;
  readonly provider: ProviderId;
  readonly credentialFields: readonly CredentialField[];
  readonly health: HealthRules;
  /** The model family limits apply to (Anthropic: opus, sonnet, haiku, other). */
  modelFamily(model: string): string;
}
