import { CHAT_CHANNELS } from './chat-channels';
import { notificationMessage } from './testing/notification-message.fixture';

/** A valid configuration per kind, with secrets that must never show up in errors. */
const VALID: Record<string, Record<string, string>> = {
  slack: { webhookUrl: 'https://hooks.slack.com/services/T/B/SECRET1' },
  discord: { webhookUrl: 'https://discord.com/api/webhooks/1/SECRET2' },
  telegram: { botToken: '1234:SECRET3SECRET3SECRET3SECRET3', chatId: '42' },
  feishu: { webhookUrl: 'https://open.feishu.cn/open-apis/bot/v2/hook/SECRET4', secret: 'S4' },
  dingtalk: {
    webhookUrl: 'https://oapi.dingtalk.com/robot/send?access_token=SECRET5',
    secret: 'S5',
  },
  wecom: { webhookUrl: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=SECRET6' },
  bark: { deviceKey: 'SECRET7' },
};

describe('CHAT_CHANNELS', () => {
  it('should hold the seven chat and push platforms once each', () => {
    expect(CHAT_CHANNELS.map((channel) => channel.kind)).toEqual([
      'slack',
      'discord',
      'telegram',
      'feishu',
      'dingtalk',
      'wecom',
      'bark',
    ]);
  });

  it.each(CHAT_CHANNELS.map((channel) => [channel.kind, channel] as const))(
    'should validate, build a POST to an http(s) URL and read a 5xx as retryable for %s',
    (kind, channel) => {
      const check = channel.validate(VALID[kind]);
      if (!check.ok) throw new Error(check.errors.join('; '));
      expect(check.config).toHaveProperty(channel.urlField);
      for (const field of channel.secretFields) expect(check.config).toHaveProperty(field);

      const delivery = channel.build(notificationMessage(), check.config, 1_700_000_000_000);
      expect(delivery.method).toBe('POST');
      expect(new URL(delivery.url).protocol).toBe('https:');
      expect(() => JSON.parse(delivery.body ?? '') as unknown).not.toThrow();

      expect(channel.verdict(503, 'down')).toMatchObject({ ok: false, retryable: true });
      expect(channel.verdict(403, 'forbidden')).toMatchObject({ ok: false, retryable: false });
    },
  );

  it.each(CHAT_CHANNELS.map((channel) => [channel.kind, channel] as const))(
    'should reject an empty configuration for %s naming fields, never a value',
    (_kind, channel) => {
      const check = channel.validate({});
      expect(check.ok).toBe(false);
      if (!check.ok) expect(check.errors.join(' ')).toMatch(/is required/);
    },
  );
});
