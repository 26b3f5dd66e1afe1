import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_LABEL,
  SEVERITY_RGB,
  messageFacts,
  messageFooter,
  rgbHex,
  statusVerdict,
  truncate,
} from './channel-support';

/**
 * Slack incoming webhook (https://hooks.slack.com/services/T…/B…/…). The URL is the credential,
 * so the whole URL is a secret. Body: `text` (the notification's fallback) plus one attachment
 * whose `color` carries the severity and whose Block Kit blocks carry the message and its facts.
 *
 * Answers (api.slack.com changelog 2016-05-17, "Improving error conditions for Incoming
 * Webhooks"): 200 `ok`; 400 invalid_payload / user_not_found; 403 action_prohibited; 404
 * channel_not_found (and no_service for a revoked URL); 410 channel_is_archived; 429 rate
 * limited; 500 rollup_error. Only 429 and 5xx are worth retrying.
 */
export type SlackConfig = { webhookUrl: string };

/** Slack mrkdwn control characters: `&`, `<` and `>` must be entities (Slack "formatting"). */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// Block Kit limits: section text 3000 characters, at most 10 fields of 2000 characters each.
const SECTION_TEXT_MAX = 3000;
const FIELDS_MAX = 10;
const FIELD_TEXT_MAX = 2000;

export const slackChannel: HttpChannel<SlackConfig> = {
  kind: 'slack',
  secretFields: ['webhookUrl'],
  urlField: 'webhookUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const webhookUrl = reader.url('webhookUrl', { required: true });
    return reader.result({ webhookUrl });
  },

  build(message: NotificationMessage, config: SlackConfig) {
    const title = escapeSlack(message.title);
    const facts = messageFacts(message, FIELDS_MAX).map((fact) => ({
      type: 'mrkdwn',
      text: truncate(`*${escapeSlack(fact.label)}*\n${escapeSlack(fact.value)}`, FIELD_TEXT_MAX),
    }));
    const body = {
      text: `[${SEVERITY_LABEL[message.severity]}] ${title}`,
      attachments: [
        {
          color: rgbHex(SEVERITY_RGB[message.severity]),
          blocks: [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: truncate(`*${title}*\n${escapeSlack(message.message)}`, SECTION_TEXT_MAX),
              },
            },
            { type: 'section', fields: facts },
            {
              type: 'context',
              elements: [{ type: 'mrkdwn', text: escapeSlack(messageFooter(message)) }],
            },
          ],
        },
      ],
    };
    return {
      url: config.webhookUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    return statusVerdict('Slack', status, body);
  },
};
