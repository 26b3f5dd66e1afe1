import { createTransport } from 'nodemailer';
import { isLoopbackHost, type UpstreamHostPolicy } from 'src/infra/http/upstream-host-policy';
import type { ConfigCheck, NotificationMessage } from './channel.types';

export interface EmailConfig {
  host: string;
  port: number;
  /** TLS from the first byte (SMTPS, usually port 465). */
  secure: boolean;
  /** Require STARTTLS on a plain connection (usually port 587); refused when the server lacks it. */
  starttls: boolean;
  username?: string;
  /** A secret. */
  password?: string;
  from: string;
  to: string[];
}

export const EMAIL_SECRET_FIELDS: readonly string[] = ['password'];

const EMAIL = /^[^\s@<>]+@[^\s@<>]+$/;
const FIELDS = new Set([
  'host',
  'port',
  'secure',
  'starttls',
  'username',
  'password',
  'from',
  'to',
]);

/** Checks an email target's configuration; each error names its field. */
export function validateEmailConfig(config: unknown): ConfigCheck<EmailConfig> {
  const c = (typeof config === 'object' && config !== null ? config : {}) as Record<
    string,
    unknown
  >;
  const errors: string[] = [];
  if (typeof c.host !== 'string' || !/^[A-Za-z0-9.:[\]-]+$/.test(c.host)) {
    errors.push('host must be a hostname or IP address');
  }
  const port = c.port ?? 587;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    errors.push('port must be an integer from 1 to 65535');
  }
  for (const flag of ['secure', 'starttls'] as const) {
    if (c[flag] !== undefined && typeof c[flag] !== 'boolean')
      errors.push(`${flag} must be a boolean`);
  }
  if (c.username !== undefined && typeof c.username !== 'string') {
    errors.push('username must be a string');
  }
  if (c.password !== undefined && typeof c.password !== 'string') {
    errors.push('password must be a string');
  }
  if (typeof c.username === 'string' && c.username !== '' && typeof c.password !== 'string') {
    errors.push('password is required with username');
  }
  if (typeof c.from !== 'string' || !EMAIL.test(c.from.replace(/^.*<([^>]+)>\s*$/, '$1'))) {
    errors.push('from must be an email address');
  }
  if (
    !Array.isArray(c.to) ||
    c.to.length === 0 ||
    c.to.length > 50 ||
    !c.to.every((to) => typeof to === 'string' && EMAIL.test(to))
  ) {
    errors.push('to must be a list of 1 to 50 email addresses');
  }
  for (const key of Object.keys(c))
    if (!FIELDS.has(key)) errors.push(`${key} is not an email setting`);
  if (errors.length > 0) return { ok: false, errors };
  const username = typeof c.username === 'string' && c.username !== '' ? c.username : undefined;
  return {
    ok: true,
    config: {
      host: c.host as string,
      port: port as number,
      secure: c.secure === true,
      starttls: c.starttls === true,
      ...(username !== undefined && { username, password: c.password as string }),
      from: c.from as string,
      to: c.to as string[],
    },
  };
}

/**
 * Why the SMTP server may not be used, or null: the upstream host policy's allowlist, and no
 * password over a connection that is never encrypted unless the server is on loopback or
 * ALLOW_INSECURE_UPSTREAMS is set (as for account base URLs).
 */
export function emailRefusal(config: EmailConfig, policy: UpstreamHostPolicy): string | null {
  if (!policy.hostAllowed(config.host)) {
    return `host ${config.host} is not in UPSTREAM_HOST_ALLOWLIST`;
  }
  const encrypted = config.secure || config.starttls;
  if (
    !encrypted &&
    config.username !== undefined &&
    !policy.allowsInsecure &&
    !isLoopbackHost(config.host)
  ) {
    return (
      `host ${config.host} would receive the password unencrypted; set secure or starttls ` +
      '(or ALLOW_INSECURE_UPSTREAMS=true)'
    );
  }
  return null;
}

/** The plain-text mail of a notification: the message, then its facts one per line. */
export function emailText(message: NotificationMessage): string {
  const facts = Object.entries(message.data).map(([key, value]) => `${key}: ${String(value)}`);
  return [
    message.message,
    '',
    `event: ${message.type}`,
    `severity: ${message.severity}`,
    `subject: ${message.subject.kind} ${message.subject.name ?? message.subject.id}`,
    ...facts,
    `occurred at: ${message.occurredAt}`,
    `event id: ${message.eventId}`,
  ].join('\n');
}

/** Sends one notification by SMTP; rejects with the failure (never carrying the password). */
export async function sendEmail(
  message: NotificationMessage,
  config: EmailConfig,
  timeoutMs: number,
): Promise<void> {
  const transport = createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: config.starttls,
    // Without starttls, a server that offers STARTTLS is still used with it (nodemailer's default).
    auth:
      config.username === undefined
        ? undefined
        : { user: config.username, pass: config.password ?? '' },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  try {
    await transport.sendMail({
      from: config.from,
      to: config.to,
      subject: message.title,
      text: emailText(message),
      headers: { 'x-switchyard-event': message.type, 'x-switchyard-delivery': message.eventId },
    });
  } finally {
    transport.close();
  }
}
