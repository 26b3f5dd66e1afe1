import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { Agent, request } from 'undici';
import { ConfigService } from 'src/config/config.service';
import { secretContext, SecretBox } from 'src/infra/crypto/secret-box';
import {
  upstreamHostPolicyFrom,
  type UpstreamHostPolicy,
} from 'src/infra/http/upstream-host-policy';
import type { NotificationMessage } from './channels/channel.types';
import { sendEmail, type EmailConfig } from './channels/email.sender';
import type { NotificationTargetRecord } from './notification-targets.repository';
import { targetKindSpec, type TargetKindSpec } from './target-kinds';

/** The outcome of one attempt; `error` never holds a secret or a target URL. */
export interface AttemptOutcome {
  ok: boolean;
  /** The HTTP status answered; null without an answer and for email. */
  status: number | null;
  error: string | null;
  /** Whether trying again later may help. */
  retryable: boolean;
  durationMs: number;
}

/** Read of a platform's answer: enough for its verdict, never a whole page. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function targetSecretContext(targetId: string): string {
  return secretContext('notification_targets', targetId, 'secrets');
}

/** Replaces secret values and URLs in a message meant for the delivery log. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, '<url>').slice(0, 500);
}

/** A transport failure as a short, safe phrase (undici and SMTP errors carry codes). */
function describeFailure(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (error.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT') return 'timed out';
    if (code === 'UND_ERR_BODY_TIMEOUT' || code === 'ETIMEDOUT') return 'timed out';
    // The code alone: transport messages name the address, and say nothing more.
    if (typeof code === 'string') return `connection failed (${code})`;
    return error.message;
  }
  return String(error);
}

type Opened =
  | { ok: true; spec: TargetKindSpec; config: unknown; secrets: string[] }
  | { ok: false; error: string };

/**
 * Sends one message to one target, whatever its kind: opens its sealed secrets, validates the
 * whole configuration with its channel, checks the destination against the upstream host policy
 * (as for account URLs, again at send time), then POSTs with undici (no redirects followed,
 * bounded by NOTIFY_TIMEOUT_MS) or mails with nodemailer. Never rejects.
 */
@Injectable()
export class NotificationSender implements OnModuleDestroy {
  private readonly agent: Agent;
  private readonly timeoutMs: number;
  readonly hostPolicy: UpstreamHostPolicy;

  constructor(
    config: ConfigService,
    private readonly secretBox: SecretBox,
  ) {
    this.timeoutMs = config.env.NOTIFY_TIMEOUT_MS;
    this.hostPolicy = upstreamHostPolicyFrom(config);
    this.agent = new Agent({
      connectTimeout: this.timeoutMs,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
      connections: 8,
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.agent.close().catch(() => undefined);
  }

  /** The stored secrets of a target, or null when they cannot be decrypted. */
  openSecrets(record: NotificationTargetRecord): Record<string, unknown> | null {
    if (record.secrets === null) return {};
    try {
      const parsed = JSON.parse(
        this.secretBox.decrypt(record.secrets, targetSecretContext(record.id)),
      ) as unknown;
      return typeof parsed === 'object' && parsed !== null
        ? (parsed as Record<string, unknown>)
        : null;
    } catch {
      return null;
    }
  }

  sealSecrets(targetId: string, secrets: Record<string, unknown>): string | null {
    if (Object.keys(secrets).length === 0) return null;
    return this.secretBox.encrypt(JSON.stringify(secrets), targetSecretContext(targetId));
  }

  private open(record: NotificationTargetRecord): Opened {
    const spec = targetKindSpec(record.kind);
    if (spec === undefined) return { ok: false, error: `no channel for kind ${record.kind}` };
    const secrets = this.openSecrets(record);
    if (secrets === null) return { ok: false, error: 'the target secrets cannot be decrypted' };
    let config: Record<string, unknown>;
    try {
      config = { ...(JSON.parse(record.config) as Record<string, unknown>), ...secrets };
    } catch {
      return { ok: false, error: 'the target configuration is unreadable' };
    }
    const secretValues = Object.values(secrets).filter((v): v is string => typeof v === 'string');
    const check = spec.validate(config);
    if (!check.ok) {
      return {
        ok: false,
        error: redact(`invalid configuration: ${check.errors.join('; ')}`, secretValues),
      };
    }
    const refusal = spec.refusal(check.config, this.hostPolicy);
    if (refusal !== null) return { ok: false, error: `refused by policy: ${refusal}` };
    // URL-valued secret fields (a chat webhook URL is its token) are redacted as secrets too.
    return { ok: true, spec, config: check.config, secrets: secretValues };
  }

  async send(
    record: NotificationTargetRecord,
    message: NotificationMessage,
    now: number = Date.now(),
  ): Promise<AttemptOutcome> {
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    const opened = this.open(record);
    if (!opened.ok) {
      return {
        ok: false,
        status: null,
        error: opened.error,
        retryable: false,
        durationMs: elapsed(),
      };
    }
    const { spec, config, secrets } = opened;
    try {
      if (spec.channel === undefined) {
        await sendEmail(message, config as EmailConfig, this.timeoutMs);
        return { ok: true, status: null, error: null, retryable: false, durationMs: elapsed() };
      }
      const delivery = spec.channel.build(message, config, now);
      const response = await request(delivery.url, {
        method: delivery.method,
        headers: delivery.headers,
        body: delivery.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readBounded(response.body);
      const verdict = spec.channel.verdict(response.statusCode, text);
      return verdict.ok
        ? {
            ok: true,
            status: response.statusCode,
            error: null,
            retryable: false,
            durationMs: elapsed(),
          }
        : {
            ok: false,
            status: response.statusCode,
            error: redact(verdict.error, secrets),
            retryable: verdict.retryable,
            durationMs: elapsed(),
          };
    } catch (error) {
      return {
        ok: false,
        status: null,
        error: redact(describeFailure(error), secrets),
        retryable: true,
        durationMs: elapsed(),
      };
    }
  }
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_ANSWER_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_ANSWER_BYTES);
}
