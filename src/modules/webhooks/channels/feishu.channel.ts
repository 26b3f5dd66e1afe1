import { createHmac } from 'node:crypto';
import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_LABEL,
  excerpt,
  messageFacts,
  messageFooter,
  parseJsonObject,
  statusVerdict,
  truncate,
} from './channel-support';

/**
 * Feishu / Lark custom bot (群机器人 → 自定义机器人):
 * `https://open.feishu.cn/open-apis/bot/v2/hook/<token>` (Lark:
 * `https://open.larksuite.com/open-apis/bot/v2/hook/<token>`). The token is in the URL, so the
 * whole URL is a secret, as is the optional signing secret (签名校验).
 *
 * Signature (Feishu "自定义机器人使用指南", 签名校验, and its Python sample): the string
 * `"<timestamp>\n<secret>"` is the HMAC-SHA256 **key** over an empty message, base64-encoded;
 * `timestamp` (seconds, within an hour of Feishu's clock) and `sign` go in the JSON body.
 *
 * Body: `msg_type: 'interactive'` with a card whose header template colours the severity;
 * every text is `plain_text`, so nothing in the data can inject lark_md markup.
 *
 * Answers are HTTP 200 (sometimes 400) with `{code, msg}` (older endpoints
 * `{StatusCode, StatusMessage}`): 0 delivered; 11232 is the message rate limit (retried);
 * 19001 invalid token, 19021 bad signature or stale timestamp, 19024 keyword check and 9499 bad
 * request are configuration faults (not retried).
 */
export type FeishuConfig = { webhookUrl: string; secret: string };

export function feishuSign(timestampSeconds: number, secret: string): string {
  return createHmac('sha256', `${timestampSeconds}\n${secret}`).update('').digest('base64');
}

const TEMPLATE = { info: 'blue', warning: 'orange', critical: 'red' } as const;
const RATE_LIMITED = new Set([11232]);
const TEXT_MAX = 8000;

export const feishuChannel: HttpChannel<FeishuConfig> = {
  kind: 'feishu',
  secretFields: ['webhookUrl', 'secret'],
  urlField: 'webhookUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const webhookUrl = reader.url('webhookUrl', { required: true });
    const secret = reader.string('secret');
    return reader.result({ webhookUrl, secret });
  },

  build(message: NotificationMessage, config: FeishuConfig, now: number) {
    const plain = (content: string) => ({ tag: 'plain_text', content });
    const card = {
      config: { wide_screen_mode: true },
      header: {
        template: TEMPLATE[message.severity],
        title: plain(`[${SEVERITY_LABEL[message.severity]}] ${message.title}`),
      },
      elements: [
        { tag: 'div', text: plain(truncate(message.message, TEXT_MAX)) },
        {
          tag: 'div',
          fields: messageFacts(message).map((fact) => ({
            is_short: true,
            text: plain(`${fact.label}: ${fact.value}`),
          })),
        },
        { tag: 'note', elements: [plain(messageFooter(message))] },
      ],
    };
    const signature: Record<string, string> = {};
    if (config.secret) {
      const timestamp = Math.floor(now / 1000);
      signature.timestamp = String(timestamp);
      signature.sign = feishuSign(timestamp, config.secret);
    }
    return {
      url: config.webhookUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...signature, msg_type: 'interactive', card }),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const answer = parseJsonObject(body);
    const code = answer ? (answer.code ?? answer.StatusCode) : undefined;
    if (typeof code === 'number' && code !== 0) {
      const msg = answer?.msg ?? answer?.StatusMessage;
      const error = `Feishu code ${code}${typeof msg === 'string' ? `: ${excerpt(msg)}` : ''}`;
      const retryable = RATE_LIMITED.has(code) || status === 429 || status >= 500;
      return { ok: false, error, retryable };
    }
    return statusVerdict('Feishu', status, body);
  },
};
