import { wecomChannel } from './wecom.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const URL = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-SECRET';

describe('wecomChannel', () => {
  it('should keep the whole webhook URL (it carries the key) secret', () => {
    expect(wecomChannel.secretFields).toEqual(['webhookUrl']);
    expect(wecomChannel.urlField).toBe('webhookUrl');
  });

  describe('validate', () => {
    it('should accept the robot webhook URL', () => {
      expect(wecomChannel.validate({ webhookUrl: URL })).toEqual({
        ok: true,
        config: { webhookUrl: URL },
      });
    });

    it('should name the field when the URL is not http(s) or has credentials', () => {
      expect(wecomChannel.validate({ webhookUrl: 'gopher://x' })).toEqual({
        ok: false,
        errors: ['webhookUrl must be an http(s) URL'],
      });
      expect(wecomChannel.validate({ webhookUrl: 'https://u:p@qyapi.weixin.qq.com/x' })).toEqual({
        ok: false,
        errors: ['webhookUrl must not carry a user name or password'],
      });
    });
  });

  describe('build', () => {
    it('should post markdown with the severity in a font colour and data kept out of tags', () => {
      const delivery = wecomChannel.build(notificationMessage(), { webhookUrl: URL }, 0);

      expect(delivery).toMatchObject({
        url: URL,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(jsonBody(delivery.body)).toEqual({
        msgtype: 'markdown',
        markdown: {
          content: [
            '### <font color="warning">Critical</font> Account "team‹1›" failed authentication',
            'Upstream answered 401 & the token was refused. *Check* _it_ ‹@everyone›',
            '> account: <font color="comment">team‹1› (acc-1)</font>',
            '> status: <font color="comment">401</font>',
            '> reason: <font color="comment">invalid_grant & revoked</font>',
            '> platform: <font color="comment">claude</font>',
            '> until: <font color="comment">-</font>',
            '<font color="comment">account.auth_failed · 2026-01-02T03:04:05.000Z</font>',
          ].join('\n'),
        },
      });
    });

    it('should keep the content within 4096 bytes of UTF-8', () => {
      const body = jsonBody(
        wecomChannel.build(
          notificationMessage({ message: '告警'.repeat(2000) }),
          { webhookUrl: URL },
          0,
        ).body,
      );
      const content = (body.markdown as { content: string }).content;
      expect(Buffer.byteLength(content, 'utf8')).toBeLessThanOrEqual(4096);
      expect(content.endsWith('…')).toBe(true);
    });
  });

  describe('verdict', () => {
    it('should accept errcode 0', () => {
      expect(wecomChannel.verdict(200, '{"errcode":0,"errmsg":"ok"}')).toEqual({ ok: true });
    });

    it('should retry "api freq out of limit" sent with HTTP 200', () => {
      expect(
        wecomChannel.verdict(200, '{"errcode":45009,"errmsg":"api freq out of limit"}'),
      ).toEqual({
        ok: false,
        error: 'WeCom errcode 45009: api freq out of limit',
        retryable: true,
      });
    });

    it('should not retry a deleted key', () => {
      expect(
        wecomChannel.verdict(
          200,
          '{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_1_abc]"}',
        ),
      ).toEqual({
        ok: false,
        error: 'WeCom errcode 93000: invalid webhook url, hint: [1700000000_1_abc]',
        retryable: false,
      });
    });
  });
});
