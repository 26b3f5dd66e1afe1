import type { Platform } from 'src/common/platform';
import type { AccountCredentials, AccountType } from './types/account-types.registry';

// The types and their credentials come from the descriptors (types/account-types.registry.ts).
export { ACCOUNT_TYPES } from './types/account-types.registry';
export type { AccountCredentials, AccountType } from './types/account-types.registry';

/** null = every model; a list = these names; a mapping = these names, renamed upstream. */
export type AccountModels = null | string[] | Record<string, string>;

/** Persistent status: states that do not recover by the passing of time. */
export const ACCOUNT_STATUSES = ['active', 'auth_failed', 'blocked'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Subscription facts of an OAuth account (not secret; shown to admins as they are). */
export interface AccountSubscription {
  /** The plan as the provider names it: pro, max, team, enterprise … */
  plan?: string;
  email?: string;
  organizationName?: string;
  organizationUuid?: string;
  accountUuid?: string;
  scopes?: string[];
}

/** What the scheduler and the relay see of an account: everything decrypted, in memory. */
export interface RoutableAccount {
  id: string;
  name: string;
  platform: Platform;
  type: AccountType;
  /** Effective base URL (the account's own, else the provider default), no trailing slash. */
  baseUrl: string;
  priority: number;
  weight: number;
  enabled: boolean;
  schedulable: boolean;
  models: AccountModels;
  credentials: AccountCredentials;
  /** Decrypted proxy URL: http://, https:// or socks5:// with optional user:pass. */
  proxyUrl: string | null;
  concurrencyLimit: number | null;
  status: AccountStatus;
  /** Why status is not active (e.g. 'credentials cannot be decrypted'); null when active. */
  statusReason?: string | null;
  subscription?: AccountSubscription | null;
  groupIds: string[];
  lastUsedAt: number | null;
}

/** Health as the scheduler sees it: ok, or not routable until / because of something. */
export type HealthState =
  | { state: 'ok' }
  | { state: 'cooling'; until: number; reason: string }
  | { state: 'rate_limited'; until: number; scope: string; reason: string }
  | { state: 'auth_failed'; reason: string }
  | { state: 'blocked'; reason: string };

/** What happened on one upstream attempt, as the relay reports it to the health machine. */
export type UpstreamOutcome =
  | { kind: 'success' }
  | { kind: 'overloaded'; status: number }
  | { kind: 'server_error'; status: number }
  | { kind: 'timeout'; phase: 'connect' | 'first_byte' }
  | { kind: 'connect_error'; code: string }
  /**
   * resetAt: epoch ms from the upstream's headers (see parseRateLimitReset), null when it named
   * none; scope: 'account', or a model family ('opus' | 'sonnet' | 'haiku' | 'other'), or 'model'
   * to derive the family from the model passed to record().
   */
  | { kind: 'rate_limited'; resetAt: number | null; scope: string }
  | { kind: 'auth_failed'; status: number }
  | { kind: 'blocked'; message: string };

export interface HealthEvent {
  at: number;
  /** 'ok' marks a recovery or an admin reset. */
  state: HealthState['state'];
  scope: string | null;
  until: number | null;
  reason: string;
}
