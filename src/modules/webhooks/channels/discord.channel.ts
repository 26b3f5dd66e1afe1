import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_RGB,
  messageFacts,
  parseJsonObject,
  statusVerdict,
  truncate,
} from './channel-support';

/**
 * Discord channel webhook (https://discord.com/api/webhooks/<id>/<token>): the token is in the
 * URL, so the whole URL is a secret. Body: one embed (title, description, colour as a decimal
 * RGB integer, inline fields, ISO timestamp, footer) and `allowed_mentions: {parse: []}` so no
 * text in a notification can ping @everyone or a role.
 *
 * Answers (Discord "Execute Webhook"): 204 No Content (200 with `?wait=true`); 400 Invalid Form
 * Body (code 50035) or empty message (50006); 401 Invalid Webhook Token (50027); 404 Unknown
 * Webhook (10015); 429 with `retry_after`; 5xx. Only 429 and 5xx are retried.
 */
export type DiscordConfig = { webhookUrl: string };

/** Backslash-escapes Discord markdown so data reads literally (`*`, `_`, `~`, `` ` ``, `|`, …). */
export function escapeDiscord(text: string): string {
  return text.replace(/[\\*_~`|>#[\]()<]/g, (char) => `\\${char}`);
}

// Embed limits: title 256, description 4096, 25 fields (name 256, value 1024).
const TITLE_MAX = 256;
const DESCRIPTION_MAX = 4096;
const FIELDS_MAX = 25;
const FIELD_NAME_MAX = 256;
const FIELD_VALUE_MAX = 1024;

export const discordChannel: HttpChannel<DiscordConfig> = {
  kind: 'discord',
  secretFields: ['webhookUrl'],
  urlField: 'webhookUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const webhookUrl = reader.url('webhookUrl', { required: true });
    return reader.result({ webhookUrl });
  },

  build(message: NotificationMessage, config: DiscordConfig) {
    const body = {
      embeds: [
        {
          // Embed titles are not markdown-rendered, so they are only cut to length.
          title: truncate(message.title, TITLE_MAX),
          description: truncate(escapeDiscord(message.message), DESCRIPTION_MAX),
          color: SEVERITY_RGB[message.severity],
          fields: messageFacts(message, FIELDS_MAX).map((fact) => ({
            name: truncate(fact.label, FIELD_NAME_MAX),
            value: truncate(escapeDiscord(fact.value), FIELD_VALUE_MAX),
            inline: true,
          })),
          footer: { text: `${message.type} · ${message.severity}` },
          timestamp: message.occurredAt,
        },
      ],
      allowed_mentions: { parse: [] },
    };
    return {
      url: config.webhookUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const verdict = statusVerdict('Discord', status, body);
    if (verdict.ok || status !== 429) return verdict;
    const retryAfter = parseJsonObject(body)?.retry_after;
    return typeof retryAfter === 'number'
      ? { ...verdict, error: `Discord rate limit: retry after ${retryAfter}s` }
      : verdict;
  },
};
