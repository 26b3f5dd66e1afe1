import { createHmac } from 'node:crypto';
import type {
  ConfigCheck,
  DeliveryVerdict,
  HttpChannel,
  HttpDelivery,
  NotificationMessage,
} from './channel.types';

export interface WebhookConfig {
  /** Where the JSON is POSTed (http:// only to loopback unless ALLOW_INSECURE_UPSTREAMS). */
  url: string;
  /** The HMAC-SHA256 key of `x-switchyard-signature`; a secret. */
  secret: string;
}

export const WEBHOOK_SECRET_MIN_LENGTH = 16;

/**
 * `x-switchyard-signature`: `sha256=` + hex HMAC-SHA256, keyed with the target's secret, of
 * `<timestamp>.<body>` where timestamp is `x-switchyard-timestamp` (epoch seconds) and body the
 * exact request body bytes. Binding the timestamp lets receivers refuse replays.
 */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

function isHttpUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * The custom webhook (docs/notifications.md): the NotificationMessage as the JSON body, signed.
 * Any 2xx is delivered; 408, 425, 429 and 5xx are retried; any other answer is final.
 */
export const WEBHOOK_CHANNEL: HttpChannel<WebhookConfig> = {
  kind: 'webhook',
  secretFields: ['secret'],
  urlField: 'url',

  validate(config: unknown): ConfigCheck<WebhookConfig> {
    const errors: string[] = [];
    const c = (typeof config === 'object' && config !== null ? config : {}) as Record<
      string,
      unknown
    >;
    if (!isHttpUrl(c.url)) errors.push('url must be an http(s) URL');
    if (typeof c.secret !== 'string' || c.secret.length < WEBHOOK_SECRET_MIN_LENGTH) {
      errors.push(`secret must be a string of at least ${WEBHOOK_SECRET_MIN_LENGTH} characters`);
    }
    for (const key of Object.keys(c)) {
      if (key !== 'url' && key !== 'secret') errors.push(`${key} is not a webhook setting`);
    }
    if (errors.length > 0) return { ok: false, errors };
    return { ok: true, config: { url: c.url as string, secret: c.secret as string } };
  },

  build(message: NotificationMessage, config: WebhookConfig, now: number): HttpDelivery {
    const body = JSON.stringify(message);
    const timestamp = String(Math.floor(now / 1000));
    return {
      url: config.url,
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Switchyard-Notifications',
        'x-switchyard-event': message.type,
        'x-switchyard-delivery': message.eventId,
        'x-switchyard-timestamp': timestamp,
        'x-switchyard-signature': webhookSignature(config.secret, timestamp, body),
      },
      body,
    };
  },

  verdict(status: number): DeliveryVerdict {
    if (status >= 200 && status < 300) return { ok: true };
    const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
    return { ok: false, error: `HTTP ${status}`, retryable };
  },
};
