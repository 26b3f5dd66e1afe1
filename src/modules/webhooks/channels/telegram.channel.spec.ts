import { escapeTelegramHtml, telegramChannel } from './telegram.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const TOKEN = '110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';

describe('telegramChannel', () => {
  it('should keep the bot token secret and send to the API base URL', () => {
    expect(telegramChannel.secretFields).toEqual(['botToken']);
    expect(telegramChannel.urlField).toBe('apiBaseUrl');
  });

  describe('validate', () => {
    it('should default the API base URL to api.telegram.org', () => {
      expect(telegramChannel.validate({ botToken: TOKEN, chatId: '-1001234567890' })).toEqual({
        ok: true,
        config: {
          botToken: TOKEN,
          chatId: '-1001234567890',
          apiBaseUrl: 'https://api.telegram.org',
        },
      });
    });

    it('should accept a channel username and a mirror', () => {
      expect(
        telegramChannel.validate({
          botToken: TOKEN,
          chatId: '@switchyard_alerts',
          apiBaseUrl: 'http://127.0.0.1:8081',
        }),
      ).toMatchObject({ ok: true, config: { apiBaseUrl: 'http://127.0.0.1:8081' } });
    });

    it('should name every bad field without echoing the token', () => {
      const check = telegramChannel.validate({
        botToken: 'not-a-token',
        chatId: 'general',
        apiBaseUrl: 'file:///etc/passwd',
      });
      expect(check).toEqual({
        ok: false,
        errors: [
          'botToken must look like 123456789:AA… (from @BotFather)',
          'chatId must be a numeric chat id or @channelusername',
          'apiBaseUrl must be an http(s) URL',
        ],
      });
      expect(JSON.stringify(check)).not.toContain('not-a-token');
    });

    it('should require the token and the chat', () => {
      expect(telegramChannel.validate({})).toEqual({
        ok: false,
        errors: ['botToken is required', 'chatId is required'],
      });
    });
  });

  describe('build', () => {
    it('should post sendMessage in HTML with every <, > and & escaped', () => {
      const delivery = telegramChannel.build(
        notificationMessage(),
        { botToken: TOKEN, chatId: '-100123', apiBaseUrl: 'https://api.telegram.org/' },
        0,
      );

      expect(delivery.url).toBe(`https://api.telegram.org/bot${TOKEN}/sendMessage`);
      expect(delivery.method).toBe('POST');
      expect(delivery.headers).toEqual({ 'content-type': 'application/json' });
      expect(jsonBody(delivery.body)).toEqual({
        chat_id: '-100123',
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        text: [
          '<b>[Critical] Account "team&lt;1&gt;" failed authentication</b>',
          'Upstream answered 401 &amp; the token was refused. *Check* _it_ &lt;@everyone&gt;',
          [
            '<b>account</b>: team&lt;1&gt; (acc-1)',
            '<b>status</b>: 401',
            '<b>reason</b>: invalid_grant &amp; revoked',
            '<b>platform</b>: claude',
            '<b>until</b>: -',
          ].join('\n'),
          '<i>account.auth_failed · 2026-01-02T03:04:05.000Z</i>',
        ].join('\n\n'),
      });
    });

    it('should keep the text within 4096 characters for a very long message', () => {
      const delivery = telegramChannel.build(
        notificationMessage({ message: '<'.repeat(5000) }),
        { botToken: TOKEN, chatId: '1', apiBaseUrl: 'https://api.telegram.org' },
        0,
      );
      const text = jsonBody(delivery.body).text as string;
      // What Telegram counts: the text after its entities are parsed.
      const visible = text
        .replace(/<\/?[bi]>/g, '')
        .replace(/&lt;/g, '<')
        .replace(/&amp;/g, '&');
      expect(visible.length).toBeLessThanOrEqual(4096);
      expect(text).toContain(`${'&lt;'.repeat(1199)}…\n\n<b>account</b>`);
    });
  });

  describe('escapeTelegramHtml', () => {
    it('should escape & before < and > so entities are not double-read', () => {
      expect(escapeTelegramHtml('a<b>&amp;')).toBe('a&lt;b&gt;&amp;amp;');
    });
  });

  describe('verdict', () => {
    it('should accept {"ok":true}', () => {
      expect(telegramChannel.verdict(200, '{"ok":true,"result":{"message_id":1}}')).toEqual({
        ok: true,
      });
    });

    it('should retry 429 and say when', () => {
      expect(
        telegramChannel.verdict(
          429,
          '{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}',
        ),
      ).toEqual({
        ok: false,
        error: 'Telegram 429: Too Many Requests: retry after 7 (retry after 7s)',
        retryable: true,
      });
      expect(telegramChannel.verdict(502, '<html>Bad Gateway</html>')).toMatchObject({
        ok: false,
        retryable: true,
      });
    });

    it('should not retry a bad token, an unknown chat or a blocked bot', () => {
      expect(
        telegramChannel.verdict(401, '{"ok":false,"error_code":401,"description":"Unauthorized"}'),
      ).toEqual({ ok: false, error: 'Telegram 401: Unauthorized', retryable: false });
      expect(
        telegramChannel.verdict(
          400,
          '{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}',
        ),
      ).toEqual({
        ok: false,
        error: 'Telegram 400: Bad Request: chat not found',
        retryable: false,
      });
      expect(
        telegramChannel.verdict(
          403,
          '{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}',
        ),
      ).toMatchObject({ retryable: false });
    });
  });
});
