import { Injectable } from '@nestjs/common';
import type { Platform } from 'src/common/platform';
import { ConfigService } from 'src/config/config.service';
import { SecretBox } from 'src/infra/crypto/secret-box';
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
import { parseCredentials } from './account-validation';
import type { AccountRecord } from './accounts.repository';

export const UNREADABLE_CREDENTIALS_REASON = 'credentials cannot be decrypted';
export const UNREADABLE_PROXY_REASON = 'proxy cannot be decrypted';

/** Stand-in credentials of an account whose stored ones cannot be read; never sent anywhere. */
function placeholderCredentials(type: AccountType): AccountCredentials {
  return type === 'claude-oauth' ? { type, accessToken: '' } : { type, apiKey: '' };
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
  constructor(
    private readonly secretBox: SecretBox,
    private readonly config: ConfigService,
  ) {}

  sealCredentials(credentials: AccountCredentials): string {
    return this.secretBox.encrypt(JSON.stringify(credentials));
  }

  sealProxy(proxyUrl: string | null): string | null {
    return proxyUrl === null ? null : this.secretBox.encrypt(proxyUrl);
  }

  /** Decrypted credentials, or null when they cannot be read (wrong key, tampered, bad shape). */
  openCredentials(record: AccountRecord): AccountCredentials | null {
    try {
      return parseCredentials(
        record.type as AccountType,
        JSON.parse(this.secretBox.decrypt(record.credentials)),
      );
    } catch {
      return null;
    }
  }

  /** Decrypted proxy URL; undefined when it cannot be read. */
  openProxy(record: AccountRecord): string | null | undefined {
    if (record.proxy === null) return null;
    try {
      return this.secretBox.decrypt(record.proxy);
    } catch {
      return undefined;
    }
  }

  /** The provider default when the account names no base URL of its own. */
  defaultBaseUrl(type: AccountType): string | null {
    switch (type) {
      case 'claude-oauth':
      case 'claude-console':
        return this.config.env.ANTHROPIC_BASE_URL.replace(/\/+$/, '');
      case 'ccr':
        return null;
    }
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

  /**
   * The in-memory account. An account whose credentials or proxy cannot be decrypted stays
   * visible (so admins see why) but is marked auth_failed in memory only, so it is never routed:
   * sending its requests without the proxy it was configured with would expose the relay's IP.
   */
  toRoutable(record: AccountRecord, groupIds: string[]): RoutableAccount {
    const type = (ACCOUNT_TYPES as readonly string[]).includes(record.type)
      ? (record.type as AccountType)
      : 'claude-console';
    const credentials = this.openCredentials(record);
    const proxyUrl = this.openProxy(record);
    let status: AccountStatus = (ACCOUNT_STATUSES as readonly string[]).includes(record.status)
      ? (record.status as AccountStatus)
      : 'active';
    let statusReason = record.status_reason;
    if (credentials === null || proxyUrl === undefined) {
      status = 'auth_failed';
      statusReason = credentials === null ? UNREADABLE_CREDENTIALS_REASON : UNREADABLE_PROXY_REASON;
    }
    return {
      id: record.id,
      name: record.name,
      platform: record.platform as Platform,
      type,
      baseUrl: (record.base_url ?? this.defaultBaseUrl(type) ?? '').replace(/\/+$/, ''),
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
