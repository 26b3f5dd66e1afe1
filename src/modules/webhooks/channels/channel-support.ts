import type { NotificationSeverity } from 'src/infra/outbox/outbox.types';
import type { ConfigCheck, DeliveryVerdict, NotificationMessage } from './channel.types';

/**
 * What the chat and push channels share: reading a target's configuration with one error per
 * bad field, the facts of a message as label/value pairs, severity colours, and the verdict for
 * an HTTP status. Pure functions; no platform is named here.
 */

/** Reads a configuration object field by field, collecting one error per bad field. */
export class ConfigReader {
  readonly errors: string[] = [];
  private readonly source: Record<string, unknown>;

  constructor(config: unknown) {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      this.errors.push('config must be an object');
      this.source = {};
    } else {
      this.source = config as Record<string, unknown>;
    }
  }

  /** A trimmed string; '' when absent and optional. */
  string(field: string, options: { required?: boolean; pattern?: RegExp; hint?: string } = {}) {
    const raw = this.source[field];
    if (raw === undefined || raw === null || raw === '') {
      if (options.required) this.errors.push(`${field} is required`);
      return '';
    }
    if (typeof raw !== 'string') {
      this.errors.push(`${field} must be a string`);
      return '';
    }
    const value = raw.trim();
    if (value === '' && options.required) {
      this.errors.push(`${field} is required`);
      return '';
    }
    if (value !== '' && options.pattern && !options.pattern.test(value)) {
      // The value itself is never echoed: several fields are secrets.
      this.errors.push(`${field} ${options.hint ?? 'has the wrong format'}`);
      return '';
    }
    return value;
  }

  /** An http(s) URL (default when absent); the dispatcher's host policy checks the host later. */
  url(field: string, options: { required?: boolean; fallback?: string } = {}) {
    const value = this.string(field, { required: options.required && !options.fallback });
    if (value === '') return options.fallback ?? '';
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      this.errors.push(`${field} must be an http(s) URL`);
      return '';
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      this.errors.push(`${field} must be an http(s) URL`);
      return '';
    }
    if (parsed.username || parsed.password) {
      this.errors.push(`${field} must not carry a user name or password`);
      return '';
    }
    return value;
  }

  result<Config>(config: Config): ConfigCheck<Config> {
    return this.errors.length > 0 ? { ok: false, errors: this.errors } : { ok: true, config };
  }
}

/** Without a trailing slash, so paths can be appended. */
export function trimTrailingSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export const SEVERITY_LABEL: Record<NotificationSeverity, string> = {
  info: 'Info',
  warning: 'Warning',
  critical: 'Critical',
};

/** One colour scheme for every platform that takes an RGB colour. */
export const SEVERITY_RGB: Record<NotificationSeverity, number> = {
  info: 0x2f80ed,
  warning: 0xf2a900,
  critical: 0xd93025,
};

export function rgbHex(rgb: number): string {
  return `#${rgb.toString(16).padStart(6, '0')}`;
}

/** A label/value pair shown under the message. */
export interface Fact {
  label: string;
  value: string;
}

function factValue(value: string | number | boolean | null): string {
  if (value === null) return '-';
  return String(value);
}

/** The subject and the event's flat data, in insertion order, as people read them. */
export function messageFacts(message: NotificationMessage, max = 12): Fact[] {
  const subject = message.subject;
  const facts: Fact[] = [
    {
      label: subject.kind.replace('_', ' '),
      value: subject.name ? `${subject.name} (${subject.id})` : subject.id,
    },
  ];
  for (const [label, value] of Object.entries(message.data)) {
    if (facts.length >= max) break;
    facts.push({ label, value: factValue(value) });
  }
  return facts;
}

/** `account.auth_failed · 2026-01-02T03:04:05.000Z` */
export function messageFooter(message: NotificationMessage): string {
  return `${message.type} · ${message.occurredAt}`;
}

/** Cuts `text` to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Cuts `text` so its UTF-8 form fits in `maxBytes` (WeCom counts bytes, not characters). */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let end = text.length;
  while (end > 0 && Buffer.byteLength(text.slice(0, end), 'utf8') > maxBytes - 3) end -= 1;
  // Do not split a surrogate pair.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** A short, single-line excerpt of a platform's answer for the delivery log. */
export function excerpt(body: string, max = 200): string {
  return truncate(body.replace(/\s+/g, ' ').trim(), max);
}

/** The body as a JSON object, or null when it is not one. */
export function parseJsonObject(body: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

/**
 * The verdict from the HTTP status alone: 2xx delivered; 408, 425, 429 and 5xx worth retrying;
 * any other 4xx (bad request, bad token, gone webhook) is not, since resending the same request
 * gets the same answer. Network faults never reach a verdict: the dispatcher retries them.
 */
export function statusVerdict(platform: string, status: number, body: string): DeliveryVerdict {
  if (status >= 200 && status < 300) return { ok: true };
  const retryable = status === 408 || status === 425 || status === 429 || status >= 500;
  const detail = excerpt(body);
  return {
    ok: false,
    error: `${platform} answered HTTP ${status}${detail ? `: ${detail}` : ''}`,
    retryable,
  };
}

/** Neutralises `<` and `>` for markdown dialects without a documented escape (DingTalk, WeCom). */
export function neutraliseAngleBrackets(text: string): string {
  return text.replace(/</g, '‹').replace(/>/g, '›');
}
