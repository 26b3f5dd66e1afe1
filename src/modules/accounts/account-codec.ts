import { Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { ConfigService } from 'src/config/config.service';
import { secretContext, SecretBox } from 'src/infra/crypto/secret-box';
import {
  upstreamHostPolicyFrom,
  type UpstreamHostPolicy,
} from 'src/infra/http/upstream-host-policy';
import {
  ACCOUNT_STATUSES,
  ACCOUNT_TYPES,
  type AccountCredentials,
  type AccountModels,
  type AccountStatus,
  type AccountSubscription,
  type AccountType,
  type RoutableAccount,
} from './account.types';
import type { AccountRecord } from './accounts.repository';
import { descriptorOf, findDescriptor, isAccountType } from './types/account-types.registry';
import type { CredentialValue } from './types/credential-fields';

export const UNREADABLE_CREDENTIALS_REASON = 'credentials cannot be decrypted';
export const UNREADABLE_PROXY_REASON = 'proxy cannot be decrypted';
/** Prefix of the status reason of an account whose type this version does not know. */
export const UNKNOWN_TYPE_REASON = 'unknown account type';
/** Prefix of the status reason of an account whose base URL or proxy the host policy refuses. */
export const REFUSED_UPSTREAM_REASON = 'upstream refused by policy';

/** The associated data of an account's sealed field: a ciphertext only opens in its own row. */
export function accountSecretContext(accountId: string, field: 'credentials' | 'proxy'): string {
  return secretContext('accounts', accountId, field);
}

/**
 * Stand-in credentials of an account whose stored ones cannot be read; never sent anywhere (the
 * account is marked unusable). Required fields hold empty values of their kind.
 */
function placeholderCredentials(type: AccountType): AccountCredentials {
  const credentials: Record<string, CredentialValue> = { type };
  for (const field of descriptorOf(type).credentialFields) {
    if (!field.required) continue;
    credentials[field.name] =
      field.kind === 'timestamp'
        ? 0
        : field.kind === 'enum'
          ? (field.values?.[0] ?? '')
          : field.kind === 'map'
            ? {}
            : '';
  }
  return credentials as unknown as AccountCredentials;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/**
 * Turns stored rows into what the hot path uses (decrypting credentials and proxy) and seals
 * secrets for storage. The one place that knows the at-rest format of an account.
 */
@Injectable()
export class AccountCodec {
  readonly hostPolicy: UpstreamHostPolicy;

  constructor(
    private readonly secretBox: SecretBox,
    private readonly config: ConfigService,
  ) {
    this.hostPolicy = upstreamHostPolicyFrom(config);
  }

  /** Seals credentials for the row of accountId (they decrypt in no other row). */
  sealCredentials(accountId: string, credentials: AccountCredentials): string {
    return this.secretBox.encrypt(
      JSON.stringify(credentials),
      accountSecretContext(accountId, 'credentials'),
    );
  }

  sealProxy(accountId: string, proxyUrl: string | null): string | null {
    return proxyUrl === null
      ? null
      : this.secretBox.encrypt(proxyUrl, accountSecretContext(accountId, 'proxy'));
  }

  /** Whether a sealed value is in an old format or under an old key (rotation rewrites it). */
  needsRotation(sealed: string): boolean {
    return this.secretBox.needsRotation(sealed);
  }

  /**
   * Decrypted credentials, or null when they cannot be read (wrong key, tampered, sealed for
   * another row, bad shape).
   */
  openCredentials(record: AccountRecord): AccountCredentials | null {
    const descriptor = findDescriptor(record.type);
    if (descriptor === undefined) return null;
    try {
      return descriptor.parseCredentials(
        JSON.parse(
          this.secretBox.decrypt(
            record.credentials,
            accountSecretContext(record.id, 'credentials'),
          ),
        ),
      );
    } catch {
      return null;
    }
  }

  /** Decrypted proxy URL; undefined when it cannot be read. */
  openProxy(record: AccountRecord): string | null | undefined {
    if (record.proxy === null) return null;
    try {
      return this.secretBox.decrypt(record.proxy, accountSecretContext(record.id, 'proxy'));
    } catch {
      return undefined;
    }
  }

  /** The effective base URL: the account's own, else the provider default; no trailing slash. */
  effectiveBaseUrl(type: AccountType, baseUrl: string | null): string {
    return (baseUrl ?? this.defaultBaseUrl(type) ?? '').replace(/\/+$/, '');
  }

  /** Why the host policy refuses this base URL or proxy, or null when both may be used. */
  upstreamRefusal(baseUrl: string, proxyUrl: string | null): string | null {
    return (
      (baseUrl === '' ? null : this.hostPolicy.refusal(baseUrl, 'baseUrl')) ??
      (proxyUrl === null ? null : this.hostPolicy.refusal(proxyUrl, 'proxy'))
    );
  }

  /** The type's default (its descriptor names the setting) when the account names none. */
  defaultBaseUrl(type: AccountType): string | null {
    const setting = descriptorOf(type).defaultBaseUrlSetting;
    return setting === null ? null : this.config.env[setting].replace(/\/+$/, '');
  }

  models(record: AccountRecord): AccountModels {
    return parseJson<AccountModels>(record.models, null);
  }

  subscription(record: AccountRecord): AccountSubscription | null {
    return parseJson<AccountSubscription | null>(record.subscription, null);
  }

  /** Whether toRoutable marked the account unusable because a secret cannot be decrypted. */
  static isUnreadable(account: RoutableAccount): boolean {
    return (
      account.statusReason === UNREADABLE_CREDENTIALS_REASON ||
      account.statusReason === UNREADABLE_PROXY_REASON
    );
  }

  /** Whether toRoutable marked the account unusable because the host policy refuses its upstream. */
  static isRefused(account: RoutableAccount): boolean {
    return account.statusReason?.startsWith(REFUSED_UPSTREAM_REASON) ?? false;
  }

  /** Whether toRoutable marked the account unusable because its type is unknown here. */
  static isUnknownType(account: RoutableAccount): boolean {
    return account.statusReason?.startsWith(UNKNOWN_TYPE_REASON) ?? false;
  }

  /**
   * The in-memory account. An account whose credentials or proxy cannot be decrypted stays
   * visible (so admins see why) but is marked auth_failed in memory only, so it is never routed:
   * sending its requests without the proxy it was configured with would expose the relay's IP.
   */
  toRoutable(record: AccountRecord, groupIds: string[]): RoutableAccount {
    // A row of a type this version does not know (written by a newer one) is shown, never
    // routed: read as another type, its credentials could go to that type's upstream.
    const recordType = record.type;
    const knownType = isAccountType(recordType);
    const type: AccountType = knownType ? recordType : ACCOUNT_TYPES[0];
    const credentials = this.openCredentials(record);
    const proxyUrl = this.openProxy(record);
    let status: AccountStatus = (ACCOUNT_STATUSES as readonly string[]).includes(record.status)
      ? (record.status as AccountStatus)
      : 'active';
    let statusReason = record.status_reason;
    const baseUrl = this.effectiveBaseUrl(type, record.base_url);
    const refusal = this.upstreamRefusal(baseUrl, proxyUrl ?? null);
    if (!knownType) {
      status = 'blocked';
      statusReason = `${UNKNOWN_TYPE_REASON} ${JSON.stringify(recordType)}`;
    } else if (credentials === null || proxyUrl === undefined) {
      status = 'auth_failed';
      statusReason = credentials === null ? UNREADABLE_CREDENTIALS_REASON : UNREADABLE_PROXY_REASON;
    } else if (refusal !== null) {
      // Stored before the policy was configured (or tightened): kept visible, never routed.
      status = 'blocked';
      statusReason = `${REFUSED_UPSTREAM_REASON}: ${refusal}`;
    }
    return {
      id: record.id,
      name: record.name,
      platform: record.platform as Platform,
      type,
      baseUrl,
      priority: record.priority,
      weight: record.weight,
      enabled: record.enabled === 1,
      schedulable: record.schedulable === 1,
      models: this.models(record),
      credentials: credentials ?? placeholderCredentials(type),
      proxyUrl: proxyUrl ?? null,
      concurrencyLimit: record.concurrency_limit,
      status,
      statusReason: status === 'active' ? null : (statusReason ?? null),
      subscription: this.subscription(record),
      groupIds,
      lastUsedAt: record.last_used_at,
    };
  }
}
