import { createHmac } from 'node:crypto';
import type { NotificationMessage } from './channel.types';
import { WEBHOOK_CHANNEL, webhookSignature } from './webhook.channel';

const MESSAGE: NotificationMessage = {
  eventId: '01900000-0000-7000-8000-000000000001',
  type: 'account.auth_failed',
  occurredAt: '2026-01-01T00:00:00.000Z',
  severity: 'critical',
  title: 'Account "a" failed authentication',
  message: 'reason',
  subject: { kind: 'account', id: 'acc-1', name: 'a' },
  data: { status: 'auth_failed' },
};
const CONFIG = { url: 'https://hooks.example.com/in', secret: 'a-signing-secret-0123' };

describe('WEBHOOK_CHANNEL', () => {
  describe('build', () => {
    it('should POST the message as JSON with the documented headers', () => {
      const delivery = WEBHOOK_CHANNEL.build(MESSAGE, CONFIG, 1_767_225_600_123);
      expect(delivery.url).toBe(CONFIG.url);
      expect(delivery.method).toBe('POST');
      expect(JSON.parse(delivery.body ?? '')).toEqual(MESSAGE);
      expect(delivery.headers).toMatchObject({
        'content-type': 'application/json',
        'x-switchyard-event': 'account.auth_failed',
        'x-switchyard-delivery': MESSAGE.eventId,
        'x-switchyard-timestamp': '1767225600',
      });
    });

    it('should sign "<timestamp>.<body>" with HMAC-SHA256 of the secret, as documented', () => {
      const delivery = WEBHOOK_CHANNEL.build(MESSAGE, CONFIG, 1_767_225_600_000);
      // The receiver's check, as in docs/notifications.md.
      const expected =
        'sha256=' +
        createHmac('sha256', CONFIG.secret)
          .update(`${delivery.headers['x-switchyard-timestamp']}.${delivery.body}`)
          .digest('hex');
      expect(delivery.headers['x-switchyard-signature']).toBe(expected);
      expect(webhookSignature('other-secret-0123456', '1767225600', delivery.body ?? '')).not.toBe(
        expected,
      );
    });
  });

  describe('validate', () => {
    it('should name each bad field', () => {
      const check = WEBHOOK_CHANNEL.validate({ url: 'ftp://x', secret: 'short', extra: 1 });
      expect(check).toEqual({
        ok: false,
        errors: [
          'url must be an http(s) URL',
          'secret must be a string of at least 16 characters',
          'extra is not a webhook setting',
        ],
      });
    });

    it('should accept a URL and a long enough secret', () => {
      expect(WEBHOOK_CHANNEL.validate(CONFIG)).toEqual({ ok: true, config: CONFIG });
    });
  });

  describe('verdict', () => {
    it('should retry overload and server errors and give up on other refusals', () => {
      expect(WEBHOOK_CHANNEL.verdict(204, '')).toEqual({ ok: true });
      expect(WEBHOOK_CHANNEL.verdict(503, '')).toEqual({
        ok: false,
        error: 'HTTP 503',
        retryable: true,
      });
      expect(WEBHOOK_CHANNEL.verdict(429, '')).toMatchObject({ retryable: true });
      expect(WEBHOOK_CHANNEL.verdict(404, '')).toMatchObject({ ok: false, retryable: false });
    });
  });
});
