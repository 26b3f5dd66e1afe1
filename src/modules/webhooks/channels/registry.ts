import type { ChannelKind, HttpChannel, HttpChannelKind } from './channel.types';
import { CHAT_CHANNELS } from './chat-channels';
import { WEBHOOK_CHANNEL } from './webhook.channel';

/**
 * Every HTTP channel by kind. The dispatcher, the admin API and validation work for any channel
 * listed here; nothing else names a platform.
 */
// Channels are heterogeneous in their Config; each is only ever handed a config it validated.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const HTTP_CHANNELS: readonly HttpChannel<any>[] = [
  WEBHOOK_CHANNEL,
  // Slack, Discord, Telegram, Feishu, DingTalk, WeCom, Bark.
  ...CHAT_CHANNELS,
];

const BY_KIND = new Map<string, HttpChannel<unknown>>(
  HTTP_CHANNELS.map((channel) => [channel.kind, channel as HttpChannel<unknown>]),
);

/** The HTTP channel of a kind, undefined for email and unknown kinds. */
export function httpChannelOf(kind: string): HttpChannel<unknown> | undefined {
  return BY_KIND.get(kind);
}

/** The target kinds this build can deliver to: its HTTP channels and email. */
export function targetKinds(): ChannelKind[] {
  return [...(BY_KIND.keys() as IterableIterator<HttpChannelKind>), 'email'];
}
