import { createHmac } from 'node:crypto';
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
  truncate,
} from './channel-support';

/**
 * DingTalk custom robot (自定义机器人): `https://oapi.dingtalk.com/robot/send?access_token=…`.
 * The access token is in the URL, so the whole URL is a secret, as is the optional signing
 * secret (加签, shown as `SEC…`).
 *
 * Signature (DingTalk "自定义机器人安全设置", 加签, with its Java and Python samples):
 * `sign = urlencode(base64(HMAC-SHA256(key = secret, "<timestamp>\n<secret>")))`, timestamp in
 * milliseconds within an hour of DingTalk's clock; `timestamp` and `sign` are appended to the
 * webhook URL's query. (Note the key differs from Feishu's: here the secret is the key and the
 * string is the message.)
 *
 * Body: `{msgtype: 'markdown', markdown: {title, text}}`; `title` is what the notification
 * preview shows. DingTalk's markdown subset documents no escape, so `<`/`>` in data are
 * replaced with look-alikes to keep them from being read as tags.
 *
 * Answers are HTTP 200 with `{errcode, errmsg}`: 0 delivered; 130101 ("send too fast, exceed 20
 * times per minute") and 410100 are rate limits and -1 is "system busy" (all retried); 310000
 * (keyword, signature or IP allow-list mismatch), 300001 / 300005 / 400101 (token does not
 * exist), 400102 (robot stopped) and the rest are configuration faults (not retried).
 */
export type DingTalkConfig = { webhookUrl: string; secret: string };

export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`).digest('base64');
}

const RETRYABLE = new Set([130101, 410100, -1]);
const TEXT_MAX = 15000;

export const dingtalkChannel: HttpChannel<DingTalkConfig> = {
  kind: 'dingtalk',
  secretFields: ['webhookUrl', 'secret'],
  urlField: 'webhookUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const webhookUrl = reader.url('webhookUrl', { required: true });
    const secret = reader.string('secret');
    return reader.result({ webhookUrl, secret });
  },

  build(message: NotificationMessage, config: DingTalkConfig, now: number) {
    const safe = neutraliseAngleBrackets;
    const title = `[${SEVERITY_LABEL[message.severity]}] ${safe(message.title)}`;
    const facts = messageFacts(message)
      .map((fact) => `- **${safe(fact.label)}**: ${safe(fact.value)}`)
      .join('\n');
    const text = truncate(
      `### ${title}\n\n${safe(message.message)}\n\n${facts}\n\n> ${safe(messageFooter(message))}`,
      TEXT_MAX,
    );
    let url = config.webhookUrl;
    if (config.secret) {
      const separator = url.includes('?') ? '&' : '?';
      // encodeURIComponent turns base64's `+`, `/` and `=` into %2B, %2F and %3D, as the
      // samples' URLEncoder.encode / quote_plus do.
      const sign = encodeURIComponent(dingtalkSign(now, config.secret));
      url = `${url}${separator}timestamp=${now}&sign=${sign}`;
    }
    return {
      url,
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ msgtype: 'markdown', markdown: { title, text } }),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const answer = parseJsonObject(body);
    const code = answer?.errcode;
    if (typeof code === 'number' && code !== 0) {
      const msg = typeof answer?.errmsg === 'string' ? `: ${excerpt(answer.errmsg)}` : '';
      const retryable = RETRYABLE.has(code) || status === 429 || status >= 500;
      return { ok: false, error: `DingTalk errcode ${code}${msg}`, retryable };
    }
    return statusVerdict('DingTalk', status, body);
  },
};
