import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_LABEL,
  messageFacts,
  messageFooter,
  parseJsonObject,
  statusVerdict,
  trimTrailingSlash,
  truncate,
} from './channel-support';

/**
 * Telegram Bot API `sendMessage` (core.telegram.org/bots/api#sendmessage):
 * `POST <apiBaseUrl>/bot<token>/sendMessage` with JSON `{chat_id, text, parse_mode: 'HTML'}`.
 * The bot token (from @BotFather, `<digits>:<letters>`) is a secret; it ends up in the request
 * URL, so the dispatcher must never log that URL. `apiBaseUrl` points at a local Bot API server
 * or a test receiver.
 *
 * HTML style ("Formatting options"): every `<`, `>` and `&` that is not part of a tag must be an
 * entity. `text` is 1-4096 characters after entity parsing. Answers are `{ok, result}` or
 * `{ok: false, error_code, description, parameters: {retry_after}}`: 429 is retried, 401 (bad
 * token), 400 (chat not found), 403 (bot blocked / kicked) and 404 are not.
 */
export type TelegramConfig = { botToken: string; chatId: string; apiBaseUrl: string };

export const TELEGRAM_API_BASE_URL = 'https://api.telegram.org';

export function escapeTelegramHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// `text` may hold 4096 characters after entity parsing: a 256-character title, a 1200-character
// message, 12 facts of at most 40 + 150 characters and the footer stay under it.
const TITLE_MAX = 256;
const MESSAGE_MAX = 1200;
const LABEL_MAX = 40;
const FACT_MAX = 150;

/** A numeric chat id (negative for groups) or `@channelusername`. */
const CHAT_ID = /^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{3,})$/;
/** `123456789:AA…` as @BotFather issues it. */
const BOT_TOKEN = /^\d{1,20}:[A-Za-z0-9_-]{20,}$/;

export const telegramChannel: HttpChannel<TelegramConfig> = {
  kind: 'telegram',
  secretFields: ['botToken'],
  urlField: 'apiBaseUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const botToken = reader.string('botToken', {
      required: true,
      pattern: BOT_TOKEN,
      hint: 'must look like 123456789:AA… (from @BotFather)',
    });
    const chatId = reader.string('chatId', {
      required: true,
      pattern: CHAT_ID,
      hint: 'must be a numeric chat id or @channelusername',
    });
    const apiBaseUrl = reader.url('apiBaseUrl', { fallback: TELEGRAM_API_BASE_URL });
    return reader.result({ botToken, chatId, apiBaseUrl });
  },

  build(message: NotificationMessage, config: TelegramConfig) {
    // The limit counts characters after entity parsing, so the raw text is cut (cutting the
    // escaped text could split an entity); facts and title are short by construction.
    const facts = messageFacts(message)
      .map(
        (fact) =>
          `<b>${escapeTelegramHtml(truncate(fact.label, LABEL_MAX))}</b>: ${escapeTelegramHtml(truncate(fact.value, FACT_MAX))}`,
      )
      .join('\n');
    const text = [
      `<b>[${SEVERITY_LABEL[message.severity]}] ${escapeTelegramHtml(truncate(message.title, TITLE_MAX))}</b>`,
      escapeTelegramHtml(truncate(message.message, MESSAGE_MAX)),
      facts,
      `<i>${escapeTelegramHtml(messageFooter(message))}</i>`,
    ]
      .filter((part) => part !== '')
      .join('\n\n');
    const body = {
      chat_id: config.chatId,
      text,
      parse_mode: 'HTML',
      link_preview_options: { is_disabled: true },
    };
    return {
      url: `${trimTrailingSlash(config.apiBaseUrl)}/bot${config.botToken}/sendMessage`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const answer = parseJsonObject(body);
    if (status >= 200 && status < 300) {
      if (answer?.ok === false) {
        return { ok: false, error: `Telegram refused: ${describe(answer)}`, retryable: false };
      }
      return { ok: true };
    }
    const verdict = statusVerdict('Telegram', status, '');
    if (verdict.ok || !answer) return statusVerdict('Telegram', status, body);
    const parameters = answer.parameters as { retry_after?: unknown } | undefined;
    const retryAfter =
      typeof parameters?.retry_after === 'number'
        ? ` (retry after ${parameters.retry_after}s)`
        : '';
    return { ...verdict, error: `Telegram ${status}: ${describe(answer)}${retryAfter}` };
  },
};

function describe(answer: Record<string, unknown>): string {
  return typeof answer.description === 'string'
    ? truncate(answer.description, 200)
    : 'no description';
}
