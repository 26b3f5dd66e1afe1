import type { Schemas } from '@/api/client';
import { plainText } from '@/lib/format';

export type Target = Schemas['NotificationTargetResponseDto'];
export type Delivery = Schemas['NotificationDeliveryResponseDto'];
export type EventTypeInfo = Schemas['NotificationEventTypeDto'];
export type TestResult = Schemas['NotificationTestResponseDto'];

/** Every target kind the form offers (docs/notifications.md); the server refuses kinds it lacks. */
export const KINDS = [
  'webhook',
  'email',
  'slack',
  'discord',
  'telegram',
  'feishu',
  'dingtalk',
  'wecom',
  'bark',
] as const;
export type Kind = (typeof KINDS)[number];

/**
 * How a field is entered: `secret` is write-only (never returned; blank on edit keeps the stored
 * value), `list` is addresses one per line or comma-separated, `boolean` a checkbox.
 */
export type FieldType = 'text' | 'url' | 'secret' | 'number' | 'boolean' | 'list';

export const FIELD_KEYS = [
  'url',
  'secret',
  'host',
  'port',
  'secure',
  'starttls',
  'username',
  'password',
  'from',
  'to',
  'webhookUrl',
  'botToken',
  'chatId',
  'apiBaseUrl',
  'deviceKey',
  'serverUrl',
  'group',
] as const;
export type FieldKey = (typeof FIELD_KEYS)[number];

export interface KindField {
  key: FieldKey;
  type: FieldType;
  required?: boolean;
  /** What the form starts with on create. */
  initial?: string | boolean;
  /** Shown as the placeholder: the default the server applies when left empty. */
  placeholder?: string;
}

const CHAT_URL: KindField = { key: 'webhookUrl', type: 'secret', required: true };
const SIGNING_SECRET: KindField = { key: 'secret', type: 'secret' };

export const KIND_FIELDS: Record<Kind, KindField[]> = {
  webhook: [
    {
      key: 'url',
      type: 'url',
      required: true,
      placeholder: 'https://example.com/hooks/switchyard',
    },
    { key: 'secret', type: 'secret', required: true },
  ],
  email: [
    { key: 'host', type: 'text', required: true, placeholder: 'smtp.example.com' },
    { key: 'port', type: 'number', required: true, initial: '587' },
    { key: 'secure', type: 'boolean', initial: false },
    { key: 'starttls', type: 'boolean', initial: true },
    { key: 'username', type: 'text' },
    { key: 'password', type: 'secret' },
    { key: 'from', type: 'text', required: true, placeholder: 'switchyard@example.com' },
    { key: 'to', type: 'list', required: true, placeholder: 'ops@example.com' },
  ],
  slack: [CHAT_URL],
  discord: [CHAT_URL],
  telegram: [
    { key: 'botToken', type: 'secret', required: true },
    { key: 'chatId', type: 'text', required: true, placeholder: '-1001234567890' },
    { key: 'apiBaseUrl', type: 'url', placeholder: 'https://api.telegram.org' },
  ],
  feishu: [CHAT_URL, SIGNING_SECRET],
  dingtalk: [CHAT_URL, SIGNING_SECRET],
  wecom: [CHAT_URL],
  bark: [
    { key: 'deviceKey', type: 'secret', required: true },
    { key: 'serverUrl', type: 'url', placeholder: 'https://api.day.app' },
    { key: 'group', type: 'text', placeholder: 'Switchyard' },
  ],
};

/** The field a host-policy refusal (`TARGET_NOT_ALLOWED`) is about. */
export const DESTINATION_FIELD: Record<Kind, FieldKey> = {
  webhook: 'url',
  email: 'host',
  slack: 'webhookUrl',
  discord: 'webhookUrl',
  telegram: 'apiBaseUrl',
  feishu: 'webhookUrl',
  dingtalk: 'webhookUrl',
  wecom: 'webhookUrl',
  bark: 'serverUrl',
};

export function isKind(kind: string): kind is Kind {
  return (KINDS as readonly string[]).includes(kind);
}

export function fieldsOf(kind: string): KindField[] {
  return isKind(kind) ? KIND_FIELDS[kind] : [];
}

/** The form's values: text as typed, booleans as they are. */
export type ConfigDraft = Record<string, string | boolean>;

/** Secrets the user asked to remove (optional ones only), on edit. */
export type Removals = Record<string, boolean>;

function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) return value.map((item) => plainText(item)).join('\n');
  return plainText(value);
}

/** The draft of a kind's fields: on create their initial values; on edit the stored settings. */
export function draftOf(kind: string, target?: Target): ConfigDraft {
  const draft: ConfigDraft = {};
  for (const field of fieldsOf(kind)) {
    if (field.type === 'boolean') {
      const stored = target?.config[field.key];
      draft[field.key] = typeof stored === 'boolean' ? stored : field.initial === true;
    } else if (field.type === 'secret') {
      draft[field.key] = '';
    } else {
      draft[field.key] = target ? valueText(target.config[field.key]) : String(field.initial ?? '');
    }
  }
  return draft;
}

function parsed(field: KindField, text: string): unknown {
  if (field.type === 'number') return Number(text);
  if (field.type === 'list') {
    return text
      .split(/[\s,;]+/)
      .map((part) => part.trim())
      .filter(Boolean);
  }
  return text;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The `config` to send. Create: every filled field (empty optional ones left out, so the server's
 * defaults apply). Edit: only what changed, as the server merges: a secret only when typed (blank
 * keeps the stored one) or null when its removal was asked; an emptied optional field null; a
 * field as stored left out. Undefined on edit when nothing changed.
 */
export function configOf(
  kind: string,
  draft: ConfigDraft,
  target?: Target,
  removals: Removals = {},
): Record<string, unknown> | undefined {
  const config: Record<string, unknown> = {};
  for (const field of fieldsOf(kind)) {
    const raw = draft[field.key];
    if (field.type === 'boolean') {
      const value = raw === true;
      if (!target || target.config[field.key] !== value) config[field.key] = value;
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (field.type === 'secret') {
      if (text !== '') config[field.key] = text;
      else if (target && removals[field.key]) config[field.key] = null;
      else if (!target && field.required) config[field.key] = '';
      continue;
    }
    if (!target) {
      if (text !== '' || field.required) config[field.key] = text === '' ? '' : parsed(field, text);
      continue;
    }
    const stored = target.config[field.key];
    if (text === '') {
      if (stored !== undefined && stored !== null) config[field.key] = field.required ? '' : null;
      continue;
    }
    const value = parsed(field, text);
    if (!sameValue(value, stored)) config[field.key] = value;
  }
  if (target && Object.keys(config).length === 0) return undefined;
  return config;
}
