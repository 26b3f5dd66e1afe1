import type {
  NotificationEventType,
  NotificationSeverity,
  NotificationSubject,
} from 'src/infra/outbox/outbox.types';

/**
 * The notification target port: one `HttpChannel` per chat/push platform that takes an HTTP
 * request (custom webhook, Slack, Discord, Telegram, Feishu, DingTalk, WeCom, Bark). Email over
 * SMTP is its own sender (nodemailer), outside this port. A channel is pure: it validates its
 * configuration and turns a message into the exact request; the dispatcher sends it (undici, the
 * upstream host policy), times it out, retries with backoff and logs the delivery.
 */
export type ChannelKind =
  'webhook' | 'slack' | 'discord' | 'telegram' | 'feishu' | 'dingtalk' | 'wecom' | 'bark' | 'email';

export type HttpChannelKind = Exclude<ChannelKind, 'email'>;

/** One notification as every target sees it. */
export interface NotificationMessage {
  /** The outbox event id (stable across retries: receivers dedupe on it). */
  eventId: string;
  /** `notification.test` for the admin API's test button. */
  type: NotificationEventType | 'notification.test';
  /** ISO 8601. */
  occurredAt: string;
  severity: NotificationSeverity;
  title: string;
  message: string;
  subject: NotificationSubject;
  data: Record<string, string | number | boolean | null>;
}

/** The request a channel wants sent. */
export interface HttpDelivery {
  url: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

/** What a platform's answer meant: several answer 200 with an error code in the body. */
export type DeliveryVerdict = { ok: true } | { ok: false; error: string; retryable: boolean };

export type ConfigCheck<Config> = { ok: true; config: Config } | { ok: false; errors: string[] };

export interface HttpChannel<Config = Record<string, string>> {
  kind: HttpChannelKind;
  /**
   * Checks a target's configuration (from the admin API, already merged with its stored
   * secrets); each error names the field, e.g. `url must be an https URL`. URLs are also checked
   * by the dispatcher's host policy, as account base URLs are.
   */
  validate(config: unknown): ConfigCheck<Config>;
  /** Fields of Config that are secrets: encrypted at rest, never returned by the admin API. */
  secretFields: readonly string[];
  /** The field holding the URL the request goes to (checked by the host policy). */
  urlField: string;
  /** The request for one message; `now` is epoch ms (signatures that carry a timestamp). */
  build(message: NotificationMessage, config: Config, now: number): HttpDelivery;
  /** Reads the platform's answer: HTTP status and body text. */
  verdict(status: number, body: string): DeliveryVerdict;
}
