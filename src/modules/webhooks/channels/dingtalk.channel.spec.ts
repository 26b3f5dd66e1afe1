import { dingtalkChannel, dingtalkSign } from './dingtalk.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const URL = 'https://oapi.dingtalk.com/robot/send?access_token=0123abcdSECRET';
// Computed outside this code with the Python sample of DingTalk's 加签 section:
// quote_plus(base64(hmac.new(secret, f'{timestamp}\n{secret}', sha256))).
const VECTOR = {
  timestamp: 1700000000000,
  secret: 'SEC0123456789abcdef',
  sign: 'TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk=',
  encoded: 'TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D',
};

describe('dingtalkChannel', () => {
  it('should keep the webhook URL and the signing secret secret', () => {
    expect(dingtalkChannel.secretFields).toEqual(['webhookUrl', 'secret']);
    expect(dingtalkChannel.urlField).toBe('webhookUrl');
  });

  describe('validate', () => {
    it('should accept a webhook with an optional secret', () => {
      expect(dingtalkChannel.validate({ webhookUrl: URL, secret: VECTOR.secret })).toEqual({
        ok: true,
        config: { webhookUrl: URL, secret: VECTOR.secret },
      });
    });

    it('should name the field when the URL is missing', () => {
      expect(dingtalkChannel.validate({ secret: 'SECx' })).toEqual({
        ok: false,
        errors: ['webhookUrl is required'],
      });
    });
  });

  describe('dingtalkSign', () => {
    it('should match the vector computed with the platform sample', () => {
      expect(dingtalkSign(VECTOR.timestamp, VECTOR.secret)).toBe(VECTOR.sign);
    });
  });

  describe('build', () => {
    it('should append timestamp (ms) and the url-encoded sign and post markdown', () => {
      const delivery = dingtalkChannel.build(
        notificationMessage(),
        { webhookUrl: URL, secret: VECTOR.secret },
        VECTOR.timestamp,
      );

      expect(delivery.url).toBe(`${URL}&timestamp=1700000000000&sign=${VECTOR.encoded}`);
      expect(new globalThis.URL(delivery.url).searchParams.get('sign')).toBe(VECTOR.sign);
      expect(delivery.method).toBe('POST');
      expect(delivery.headers).toEqual({ 'content-type': 'application/json; charset=utf-8' });
      expect(jsonBody(delivery.body)).toEqual({
        msgtype: 'markdown',
        markdown: {
          title: '[Critical] Account "team‹1›" failed authentication',
          text: [
            '### [Critical] Account "team‹1›" failed authentication',
            'Upstream answered 401 & the token was refused. *Check* _it_ ‹@everyone›',
            [
              '- **account**: team‹1› (acc-1)',
              '- **status**: 401',
              '- **reason**: invalid_grant & revoked',
              '- **platform**: claude',
              '- **until**: -',
            ].join('\n'),
            '> account.auth_failed · 2026-01-02T03:04:05.000Z',
          ].join('\n\n'),
        },
      });
    });

    it('should leave the URL untouched without a secret', () => {
      const delivery = dingtalkChannel.build(
        notificationMessage(),
        { webhookUrl: URL, secret: '' },
        VECTOR.timestamp,
      );
      expect(delivery.url).toBe(URL);
    });
  });

  describe('verdict', () => {
    it('should accept errcode 0', () => {
      expect(dingtalkChannel.verdict(200, '{"errcode":0,"errmsg":"ok"}')).toEqual({ ok: true });
    });

    it('should retry the per-minute rate limit and "system busy" sent with HTTP 200', () => {
      expect(
        dingtalkChannel.verdict(
          200,
          '{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}',
        ),
      ).toEqual({
        ok: false,
        error: 'DingTalk errcode 130101: send too fast, exceed 20 times per minute',
        retryable: true,
      });
      expect(dingtalkChannel.verdict(200, '{"errcode":410100,"errmsg":"limited"}')).toMatchObject({
        retryable: true,
      });
      expect(dingtalkChannel.verdict(200, '{"errcode":-1,"errmsg":"系统繁忙"}')).toMatchObject({
        retryable: true,
      });
    });

    it('should not retry a signature mismatch or a token that does not exist', () => {
      expect(dingtalkChannel.verdict(200, '{"errcode":310000,"errmsg":"sign not match"}')).toEqual({
        ok: false,
        error: 'DingTalk errcode 310000: sign not match',
        retryable: false,
      });
      expect(
        dingtalkChannel.verdict(200, '{"errcode":300005,"errmsg":"token is not exist"}'),
      ).toMatchObject({ ok: false, retryable: false });
    });

    it('should fall back to the HTTP status when the body is not JSON', () => {
      expect(dingtalkChannel.verdict(502, 'Bad Gateway')).toEqual({
        ok: false,
        error: 'DingTalk answered HTTP 502: Bad Gateway',
        retryable: true,
      });
    });
  });
});
