import { discordChannel, escapeDiscord } from './discord.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const URL = 'https://discord.com/api/webhooks/123456789012345678/SECRET-token';

describe('discordChannel', () => {
  it('should keep the whole webhook URL secret and send to it', () => {
    expect(discordChannel.secretFields).toEqual(['webhookUrl']);
    expect(discordChannel.urlField).toBe('webhookUrl');
  });

  describe('validate', () => {
    it('should accept an https webhook URL', () => {
      expect(discordChannel.validate({ webhookUrl: URL })).toEqual({
        ok: true,
        config: { webhookUrl: URL },
      });
    });

    it('should name the field when the URL is not a URL', () => {
      expect(discordChannel.validate({ webhookUrl: 'discord.com/api/webhooks/1/x' })).toEqual({
        ok: false,
        errors: ['webhookUrl must be an http(s) URL'],
      });
      expect(discordChannel.validate({ webhookUrl: 42 })).toEqual({
        ok: false,
        errors: ['webhookUrl must be a string'],
      });
    });
  });

  describe('build', () => {
    it('should post one embed coloured by severity with mentions disabled', () => {
      const delivery = discordChannel.build(notificationMessage(), { webhookUrl: URL }, 0);

      expect(delivery).toMatchObject({
        url: URL,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
      });
      expect(jsonBody(delivery.body)).toEqual({
        embeds: [
          {
            title: 'Account "team<1>" failed authentication',
            description:
              'Upstream answered 401 & the token was refused. \\*Check\\* \\_it\\_ \\<@everyone\\>',
            color: 0xd93025,
            fields: [
              { name: 'account', value: 'team\\<1\\> \\(acc-1\\)', inline: true },
              { name: 'status', value: '401', inline: true },
              { name: 'reason', value: 'invalid\\_grant & revoked', inline: true },
              { name: 'platform', value: 'claude', inline: true },
              { name: 'until', value: '-', inline: true },
            ],
            footer: { text: 'account.auth_failed · critical' },
            timestamp: '2026-01-02T03:04:05.000Z',
          },
        ],
        allowed_mentions: { parse: [] },
      });
    });

    it('should cut a long message to the embed description limit', () => {
      const body = jsonBody(
        discordChannel.build(
          notificationMessage({ message: 'x'.repeat(5000) }),
          { webhookUrl: URL },
          0,
        ).body,
      );
      const [embed] = body.embeds as Array<{ description: string }>;
      expect(embed.description).toHaveLength(4096);
      expect(embed.description.endsWith('…')).toBe(true);
    });
  });

  describe('escapeDiscord', () => {
    it('should backslash-escape markdown so data reads literally', () => {
      expect(escapeDiscord('**bold** `code` ||spoiler|| [a](b) # h')).toBe(
        '\\*\\*bold\\*\\* \\`code\\` \\|\\|spoiler\\|\\| \\[a\\]\\(b\\) \\# h',
      );
    });
  });

  describe('verdict', () => {
    it('should accept 204 No Content', () => {
      expect(discordChannel.verdict(204, '')).toEqual({ ok: true });
    });

    it('should retry a rate limit and report its retry_after', () => {
      expect(
        discordChannel.verdict(429, '{"message":"You are being rate limited.","retry_after":1.5}'),
      ).toEqual({ ok: false, error: 'Discord rate limit: retry after 1.5s', retryable: true });
      expect(discordChannel.verdict(502, 'bad gateway')).toMatchObject({ retryable: true });
    });

    it('should not retry an unknown webhook, a bad token or a bad body', () => {
      expect(discordChannel.verdict(404, '{"message":"Unknown Webhook","code":10015}')).toEqual({
        ok: false,
        error: 'Discord answered HTTP 404: {"message":"Unknown Webhook","code":10015}',
        retryable: false,
      });
      expect(discordChannel.verdict(401, '{"code":50027}')).toMatchObject({ retryable: false });
      expect(discordChannel.verdict(400, '{"code":50035}')).toMatchObject({ retryable: false });
    });
  });
});
