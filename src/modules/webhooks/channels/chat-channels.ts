import { barkChannel } from './bark.channel';
import type { HttpChannel } from './channel.types';
import { dingtalkChannel } from './dingtalk.channel';
import { discordChannel } from './discord.channel';
import { feishuChannel } from './feishu.channel';
import { slackChannel } from './slack.channel';
import { telegramChannel } from './telegram.channel';
import { wecomChannel } from './wecom.channel';

/** The chat and push targets (the custom webhook and email are the dispatcher's own). */
export const CHAT_CHANNELS: HttpChannel[] = [
  slackChannel,
  discordChannel,
  telegramChannel,
  feishuChannel,
  dingtalkChannel,
  wecomChannel,
  barkChannel,
];
