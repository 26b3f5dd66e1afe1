import { escapeSlack, slackChannel } from './slack.channel';
import { jsonBody, notificationMessage } from './testing/notification-message.fixture';

const URL = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';

describe('slackChannel', () => {
  it('should keep the whole webhook URL secret and send to it', () => {
    expect(slackChannel.secretFields).toEqual(['webhookUrl']);
    expect(slackChannel.urlField).toBe('webhookUrl');
  });

  describe('validate', () => {
    it('should accept an https webhook URL', () => {
      expect(slackChannel.validate({ webhookUrl: ` ${URL} ` })).toEqual({
        ok: true,
        config: { webhookUrl: URL },
      });
    });

    it('should name the field when the URL is missing or not http(s)', () => {
      expect(slackChannel.validate({})).toEqual({ ok: false, errors: ['webhookUrl is required'] });
      expect(slackChannel.validate({ webhookUrl: 'ftp://hooks.slack.com/x' })).toEqual({
        ok: false,
        errors: ['webhookUrl must be an http(s) URL'],
      });
      expect(slackChannel.validate(null)).toEqual({
        ok: false,
        errors: ['config must be an object', 'webhookUrl is required'],
      });
    });
  });

  describe('build', () => {
    it('should post the exact Block Kit attachment coloured by severity with mrkdwn escaped', () => {
      const delivery = slackChannel.build(notificationMessage(), { webhookUrl: URL }, 0);

      expect(delivery.url).toBe(URL);
      expect(delivery.method).toBe('POST');
      expect(delivery.headers).toEqual({ 'content-type': 'application/json' });
      expect(jsonBody(delivery.body)).toEqual({
        text: '[Critical] Account "team&lt;1&gt;" failed authentication',
        attachments: [
          {
            color: '#d93025',
            blocks: [
              {
                type: 'section',
                text: {
                  type: 'mrkdwn',
                  text:
                    '*Account "team&lt;1&gt;" failed authentication*\n' +
                    'Upstream answered 401 &amp; the token was refused. *Check* _it_ &lt;@everyone&gt;',
                },
              },
              {
                type: 'section',
                fields: [
                  { type: 'mrkdwn', text: '*account*\nteam&lt;1&gt; (acc-1)' },
                  { type: 'mrkdwn', text: '*status*\n401' },
                  { type: 'mrkdwn', text: '*reason*\ninvalid_grant &amp; revoked' },
                  { type: 'mrkdwn', text: '*platform*\nclaude' },
                  { type: 'mrkdwn', text: '*until*\n-' },
                ],
              },
              {
                type: 'context',
                elements: [
                  { type: 'mrkdwn', text: 'account.auth_failed · 2026-01-02T03:04:05.000Z' },
                ],
              },
            ],
          },
        ],
      });
    });

    it('should colour warnings amber and info blue', () => {
      const colour = (severity: 'info' | 'warning') => {
        const body = jsonBody(
          slackChannel.build(notificationMessage({ severity }), { webhookUrl: URL }, 0).body,
        );
        return (body.attachments as Array<{ color: string }>)[0].color;
      };
      expect(colour('warning')).toBe('#f2a900');
      expect(colour('info')).toBe('#2f80ed');
    });
  });

  describe('escapeSlack', () => {
    it('should turn &, < and > into entities so no link or mention can be injected', () => {
      expect(escapeSlack('<!channel> & <https://x|y>')).toBe(
        '&lt;!channel&gt; &amp; &lt;https://x|y&gt;',
      );
    });
  });

  describe('verdict', () => {
    it('should accept 200 ok', () => {
      expect(slackChannel.verdict(200, 'ok')).toEqual({ ok: true });
    });

    it('should retry rate limits and server errors', () => {
      expect(slackChannel.verdict(429, 'rate_limited')).toEqual({
        ok: false,
        error: 'Slack answered HTTP 429: rate_limited',
        retryable: true,
      });
      expect(slackChannel.verdict(500, 'rollup_error')).toMatchObject({ retryable: true });
    });

    it('should not retry a bad payload, a revoked URL or an archived channel', () => {
      for (const [status, body] of [
        [400, 'invalid_payload'],
        [403, 'action_prohibited'],
        [404, 'no_service'],
        [410, 'channel_is_archived'],
      ] as const) {
        expect(slackChannel.verdict(status, body)).toEqual({
          ok: false,
          error: `Slack answered HTTP ${status}: ${body}`,
          retryable: false,
        });
      }
    });
  });
});
