import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_LABEL,
  excerpt,
  messageFacts,
  messageFooter,
  neutraliseAngleBrackets,
  parseJsonObject,
  statusVerdict,
  truncateBytes,
} from './channel-support';

/**
 * WeCom group robot (企业微信群机器人): `https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…`.
 * The key is in the URL, so the whole URL is a secret; WeCom has no signing.
 *
 * Body (WeCom "群机器人配置说明"): `{msgtype: 'markdown', markdown: {content}}`, content at most
 * 4096 bytes of UTF-8; `<font color="info|comment|warning">` is the one tag its markdown knows
 * (green, grey, orange-red). `<`/`>` in data are replaced with look-alikes so data cannot open a
 * tag (WeCom documents no escape).
 *
 * Answers are HTTP 200 with `{errcode, errmsg}`: 0 delivered; 45009 ("api freq out of limit",
 * 20 messages a minute per robot) and -1 (system busy) are retried; 93000 ("invalid webhook
 * url", the key was deleted) and the rest are not.
 */
export type WeComConfig = { webhookUrl: string };

const COLOUR = { info: 'info', warning: 'warning', critical: 'warning' } as const;
const RETRYABLE = new Set([45009, -1]);
const CONTENT_MAX_BYTES = 4096;

export const wecomChannel: HttpChannel<WeComConfig> = {
  kind: 'wecom',
  secretFields: ['webhookUrl'],
  urlField: 'webhookUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const webhookUrl = reader.url('webhookUrl', { required: true });
    return reader.result({ webhookUrl });
  },

  build(message: NotificationMessage, config: WeComConfig) {
    const safe = neutraliseAngleBrackets;
    const severity = `<font color="${COLOUR[message.severity]}">${SEVERITY_LABEL[message.severity]}</font>`;
    const facts = messageFacts(message)
      .map((fact) => `> ${safe(fact.label)}: <font color="comment">${safe(fact.value)}</font>`)
      .join('\n');
    const content = truncateBytes(
      `### ${severity} ${safe(message.title)}\n${safe(message.message)}\n${facts}\n` +
        `<font color="comment">${safe(messageFooter(message))}</font>`,
      CONTENT_MAX_BYTES,
    );
    return {
      url: config.webhookUrl,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'markdown', markdown: { content } }),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const answer = parseJsonObject(body);
    const code = answer?.errcode;
    if (typeof code === 'number' && code !== 0) {
      const msg = typeof answer?.errmsg === 'string' ? `: ${excerpt(answer.errmsg)}` : '';
      const retryable = RETRYABLE.has(code) || status === 429 || status >= 500;
      return { ok: false, error: `WeCom errcode ${code}${msg}`, retryable };
    }
    return statusVerdict('WeCom', status, body);
  },
};
