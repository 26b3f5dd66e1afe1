import type { DeliveryVerdict, HttpChannel, NotificationMessage } from './channel.types';
import {
  ConfigReader,
  SEVERITY_LABEL,
  excerpt,
  messageFacts,
  messageFooter,
  parseJsonObject,
  statusVerdict,
  trimTrailingSlash,
  truncate,
} from './channel-support';

/**
 * Bark iOS push (bark-server API V2, docs/API_V2.md; route_push.go): `POST <serverUrl>/push`
 * with JSON `{device_key, title, body, group, level, …}`. The device key (the path segment of
 * the app's test URL) is the secret; the server is `https://api.day.app` unless self-hosted.
 *
 * `level`: `critical` rings even when muted, `timeSensitive` breaks through Focus, `active` is the
 * default — mapped from critical / warning / info.
 *
 * Answers `{code, message, timestamp}`: code 200 delivered; HTTP 400 (unknown device key, bad
 * body) is not retried; HTTP 500 ("push failed", APNs trouble) is.
 */
export type BarkConfig = { serverUrl: string; deviceKey: string; group: string };

export const BARK_SERVER_URL = 'https://api.day.app';

const LEVEL = { info: 'active', warning: 'timeSensitive', critical: 'critical' } as const;
const BODY_MAX = 3000;

export const barkChannel: HttpChannel<BarkConfig> = {
  kind: 'bark',
  secretFields: ['deviceKey'],
  urlField: 'serverUrl',

  validate(config: unknown) {
    const reader = new ConfigReader(config);
    const serverUrl = reader.url('serverUrl', { fallback: BARK_SERVER_URL });
    const deviceKey = reader.string('deviceKey', {
      required: true,
      pattern: /^[A-Za-z0-9_-]{4,}$/,
      hint: 'must be the key from the Bark app (letters, digits, - and _)',
    });
    const group = reader.string('group') || 'Switchyard';
    return reader.result({ serverUrl, deviceKey, group });
  },

  build(message: NotificationMessage, config: BarkConfig) {
    const facts = messageFacts(message)
      .map((fact) => `${fact.label}: ${fact.value}`)
      .join('\n');
    const body = {
      device_key: config.deviceKey,
      title: `[${SEVERITY_LABEL[message.severity]}] ${message.title}`,
      body: truncate(`${message.message}\n${facts}\n${messageFooter(message)}`, BODY_MAX),
      group: config.group,
      level: LEVEL[message.severity],
    };
    return {
      url: `${trimTrailingSlash(config.serverUrl)}/push`,
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify(body),
    };
  },

  verdict(status: number, body: string): DeliveryVerdict {
    const answer = parseJsonObject(body);
    const code = answer?.code;
    if (status >= 200 && status < 300 && typeof code === 'number' && code !== 200) {
      const msg = typeof answer?.message === 'string' ? `: ${excerpt(answer.message)}` : '';
      return {
        ok: false,
        error: `Bark code ${code}${msg}`,
        retryable: code === 429 || code >= 500,
      };
    }
    return statusVerdict('Bark', status, body);
  },
};
