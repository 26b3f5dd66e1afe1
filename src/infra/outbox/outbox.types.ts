/**
 * The transactional outbox's vocabulary. An event is written in the same transaction (or
 * write-behind batch) as the change that caused it, and handed on later by the topic's consumer:
 * `notification` events by the webhooks dispatcher (src/modules/webhooks), `usage` events by the
 * billing stream publisher (AMQP). Payloads never carry a secret.
 */
export type OutboxTopic = 'notification' | 'usage';

/** The notification events targets can subscribe to. */
export const NOTIFICATION_EVENT_TYPES = [
  'account.auth_failed',
  'account.blocked',
  'account.rate_limited',
  'account.cooling',
  'account.recovered',
  'account.refresh_failed',
  'key.budget_warning',
  'key.budget_exhausted',
  'key.window_limit',
  'auth.login_locked',
  'platform.no_routable_account',
] as const;
export type NotificationEventType = (typeof NOTIFICATION_EVENT_TYPES)[number];

export type NotificationSeverity = 'info' | 'warning' | 'critical';

/** What a notification is about. */
export interface NotificationSubject {
  kind: 'account' | 'api_key' | 'user' | 'platform';
  id: string;
  /** A display name (account name, key name, username, platform). */
  name?: string;
}

/** The stored payload of a `notification` event. */
export interface NotificationPayload {
  severity: NotificationSeverity;
  /** One line, e.g. `Account "team-1" failed authentication`. */
  title: string;
  /** A few lines of detail for people. */
  message: string;
  subject: NotificationSubject;
  /** Flat facts for machines (status, reason, until, percent, platform, …). */
  data: Record<string, string | number | boolean | null>;
}

export interface NotificationEventInput extends NotificationPayload {
  type: NotificationEventType;
  /**
   * At most one event per dedupe key is ever stored, so a condition reached by many requests at
   * once (or by several instances) notifies once: e.g. `key.budget_exhausted:<key id>:<period>`.
   */
  dedupeKey?: string;
  /** Epoch ms; defaults to now. */
  at?: number;
}

export interface OutboxEventInput {
  /** Defaults to a new time-ordered id; usage events use their request id. */
  id?: string;
  topic: OutboxTopic;
  type: string;
  partitionKey?: string | null;
  dedupeKey?: string | null;
  /** Serialized as JSON. */
  payload: unknown;
  createdAt?: number;
}

export interface OutboxEvent {
  id: string;
  topic: OutboxTopic;
  type: string;
  partitionKey: string | null;
  dedupeKey: string | null;
  payload: unknown;
  createdAt: number;
  processedAt: number | null;
}
