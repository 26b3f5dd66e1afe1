import { feishuChannel, feishuSign } from './feishu.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const URL = 'https://open.feishu.cn/open-apis/bot/v2/hook/00000000-aaaa-bbbb-cccc-SECRET';
// Computed outside this code with the Python sample of Feishu's 签名校验 section:
// hmac.new(f'{timestamp}\n{secret}'.encode(), b'', sha256), base64.
const VECTOR = {
  timestamp: 1599360473,
  secret: 'feishu-demo-secret',
  sign: 'I5jz7Cfcugta/fTJjB9Y40aXqJJ1rdfJLYaLpemt2YI=',
};

describe('feishuChannel', () => {
  it('should keep the webhook URL and the signing secret secret', () => {
    expect(feishuChannel.secretFields).toEqual(['webhookUrl', 'secret']);
    expect(feishuChannel.urlField).toBe('webhookUrl');
  });

  describe('validate', () => {
    it('should accept a webhook with and without a signing secret', () => {
      expect(feishuChannel.validate({ webhookUrl: URL })).toEqual({
        ok: true,
        config: { webhookUrl: URL, secret: '' },
      });
      expect(feishuChannel.validate({ webhookUrl: URL, secret: 'abc' })).toMatchObject({
        ok: true,
        config: { secret: 'abc' },
      });
    });

    it('should name each bad field', () => {
      expect(feishuChannel.validate({ webhookUrl: 'javascript:alert(1)', secret: 7 })).toEqual({
        ok: false,
        errors: ['webhookUrl must be an http(s) URL', 'secret must be a string'],
      });
    });
  });

  describe('feishuSign', () => {
    it('should match the vector computed with the platform sample', () => {
      expect(feishuSign(VECTOR.timestamp, VECTOR.secret)).toBe(VECTOR.sign);
    });
  });

  describe('build', () => {
    it('should post an interactive card with timestamp (seconds) and sign in the body', () => {
      const delivery = feishuChannel.build(
        notificationMessage(),
        { webhookUrl: URL, secret: VECTOR.secret },
        VECTOR.timestamp * 1000 + 999,
      );

      expect(delivery).toMatchObject({
        url: URL,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(jsonBody(delivery.body)).toEqual({
        timestamp: '1599360473',
        sign: VECTOR.sign,
        msg_type: 'interactive',
        card: {
          config: { wide_screen_mode: true },
          header: {
            template: 'red',
            title: {
              tag: 'plain_text',
              content: '[Critical] Account "team<1>" failed authentication',
            },
          },
          elements: [
            {
              tag: 'div',
              text: {
                tag: 'plain_text',
                content: 'Upstream answered 401 & the token was refused. *Check* _it_ <@everyone>',
              },
            },
            {
              tag: 'div',
              fields: [
                {
                  is_short: true,
                  text: { tag: 'plain_text', content: 'account: team<1> (acc-1)' },
                },
                { is_short: true, text: { tag: 'plain_text', content: 'status: 401' } },
                {
                  is_short: true,
                  text: { tag: 'plain_text', content: 'reason: invalid_grant & revoked' },
                },
                { is_short: true, text: { tag: 'plain_text', content: 'platform: claude' } },
                { is_short: true, text: { tag: 'plain_text', content: 'until: -' } },
              ],
            },
            {
              tag: 'note',
              elements: [
                { tag: 'plain_text', content: 'account.auth_failed · 2026-01-02T03:04:05.000Z' },
              ],
            },
          ],
        },
      });
    });

    it('should leave timestamp and sign out without a secret, and colour warnings orange', () => {
      const body = jsonBody(
        feishuChannel.build(
          notificationMessage({ severity: 'warning' }),
          { webhookUrl: URL, secret: '' },
          0,
        ).body,
      );
      expect(body).not.toHaveProperty('timestamp');
      expect(body).not.toHaveProperty('sign');
      expect(body.card).toMatchObject({ header: { template: 'orange' } });
    });
  });

  describe('verdict', () => {
    it('should accept code 0 and the older StatusCode 0', () => {
      expect(feishuChannel.verdict(200, '{"code":0,"data":{},"msg":"success"}')).toEqual({
        ok: true,
      });
      expect(
        feishuChannel.verdict(200, '{"Extra":null,"StatusCode":0,"StatusMessage":"success"}'),
      ).toEqual({ ok: true });
    });

    it('should refuse a bad signature or token sent with HTTP 200, without retrying', () => {
      expect(
        feishuChannel.verdict(
          200,
          '{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}',
        ),
      ).toEqual({
        ok: false,
        error:
          'Feishu code 19021: sign match fail or timestamp is not within one hour from current time',
        retryable: false,
      });
      expect(
        feishuChannel.verdict(
          200,
          '{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}',
        ),
      ).toMatchObject({ ok: false, retryable: false });
      expect(
        feishuChannel.verdict(200, '{"StatusCode":9499,"StatusMessage":"Bad Request"}'),
      ).toEqual({ ok: false, error: 'Feishu code 9499: Bad Request', retryable: false });
    });

    it('should retry the rate limit code and HTTP 429 / 5xx', () => {
      expect(feishuChannel.verdict(400, '{"code":11232,"msg":"frequency limited psm"}')).toEqual({
        ok: false,
        error: 'Feishu code 11232: frequency limited psm',
        retryable: true,
      });
      expect(feishuChannel.verdict(429, '')).toMatchObject({ ok: false, retryable: true });
      expect(feishuChannel.verdict(503, 'unavailable')).toMatchObject({
        ok: false,
        retryable: true,
      });
    });
  });
});
