import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { timeOrderedId } from 'src/common/ids/time-ordered-id';
import type { NotificationMessage } from './channels/channel.types';
import type {
  NotificationDeliveryListResponseDto,
  NotificationDeliveryResponseDto,
} from './dto/notification-delivery.dto';
import type { ListDeliveriesQueryDto } from './dto/notification-delivery.dto';
import type {
  CreateNotificationTargetDto,
  NotificationTargetResponseDto,
  NotificationTestResponseDto,
  UpdateNotificationTargetDto,
} from './dto/notification-target.dto';
import {
  NotificationDeliveriesRepository,
  type NotificationDeliveryRecord,
} from './notification-deliveries.repository';
import { NotificationSender } from './notification-sender';
import {
  NotificationTargetsRepository,
  type NotificationTargetRecord,
} from './notification-targets.repository';
import { targetKindSpec, type TargetKindSpec } from './target-kinds';
import { WebhooksException, WebhooksExceptionCode } from './webhooks.exception';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function parseObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The message the test button sends. */
export function testMessage(targetName: string, now: number): NotificationMessage {
  return {
    eventId: timeOrderedId(now),
    type: 'notification.test',
    occurredAt: new Date(now).toISOString(),
    severity: 'info',
    title: `Switchyard test notification for "${targetName}"`,
    message: 'This target is set up correctly: Switchyard can reach it.',
    subject: { kind: 'platform', id: 'switchyard', name: 'Switchyard' },
    data: { test: true },
  };
}

/** Notification targets (create, edit, test) and the delivery log, for the admin API. */
@Injectable()
export class NotificationsService {
  constructor(
    private readonly targets: NotificationTargetsRepository,
    private readonly deliveries: NotificationDeliveriesRepository,
    private readonly sender: NotificationSender,
  ) {}

  async listTargets(): Promise<NotificationTargetResponseDto[]> {
    return (await this.targets.list()).map((record) => this.toResponse(record));
  }

  async getTarget(id: string): Promise<NotificationTargetResponseDto> {
    return this.toResponse(await this.require(id));
  }

  async createTarget(body: CreateNotificationTargetDto): Promise<NotificationTargetResponseDto> {
    const spec = this.specOf(body.kind);
    await this.assertNameFree(body.name);
    const id = randomUUID();
    const { config, secrets } = this.checked(spec, stripNulls(body.config));
    const now = Date.now();
    const record: NotificationTargetRecord = {
      id,
      name: body.name,
      kind: spec.kind,
      enabled: body.enabled === false ? 0 : 1,
      events:
        body.events === undefined || body.events === null ? null : JSON.stringify(body.events),
      config: JSON.stringify(config),
      secrets: this.sender.sealSecrets(id, secrets),
      created_at: now,
      updated_at: now,
    };
    await this.targets.insert(record);
    return this.toResponse(record);
  }

  async updateTarget(
    id: string,
    body: UpdateNotificationTargetDto,
  ): Promise<NotificationTargetResponseDto> {
    const record = await this.require(id);
    const spec = this.specOf(record.kind);
    const changes: Partial<NotificationTargetRecord> = {};
    if (body.name !== undefined && body.name !== record.name) {
      await this.assertNameFree(body.name);
      changes.name = body.name;
    }
    if (body.enabled !== undefined) changes.enabled = body.enabled ? 1 : 0;
    if (body.events !== undefined) {
      changes.events = body.events === null ? null : JSON.stringify(body.events);
    }
    if (body.config !== undefined) {
      const config = body.config;
      const stored = this.sender.openSecrets(record);
      if (stored === null && spec.secretFields.some((field) => !(field in config))) {
        throw new WebhooksException(
          WebhooksExceptionCode.SECRETS_UNREADABLE,
          'the stored secrets of this target cannot be decrypted; send every secret field again',
        );
      }
      const merged: Record<string, unknown> = {
        ...parseObject(record.config),
        ...(stored ?? {}),
      };
      for (const [key, value] of Object.entries(config)) {
        if (value === null) delete merged[key];
        else merged[key] = value;
      }
      const checked = this.checked(spec, merged);
      changes.config = JSON.stringify(checked.config);
      changes.secrets = this.sender.sealSecrets(id, checked.secrets);
    }
    if (Object.keys(changes).length > 0) {
      changes.updated_at = Date.now();
      await this.targets.update(id, changes);
    }
    return this.toResponse({ ...record, ...changes });
  }

  async deleteTarget(id: string): Promise<void> {
    if (!(await this.targets.delete(id))) throw this.notFound(id);
  }

  /**
   * Sends a `notification.test` message now, whether the target is enabled or not, and records
   * it in the delivery log (one attempt, no retries).
   */
  async testTarget(id: string): Promise<NotificationTestResponseDto> {
    const record = await this.require(id);
    const now = Date.now();
    const message = testMessage(record.name, now);
    const outcome = await this.sender.send(record, message, now);
    const done = Date.now();
    const deliveryId = timeOrderedId(now);
    await this.deliveries.insertMany([
      {
        id: deliveryId,
        event_id: message.eventId,
        target_id: id,
        event_type: message.type,
        message: JSON.stringify(message),
        status: outcome.ok ? 'delivered' : 'failed',
        attempts: 1,
        next_attempt_at: null,
        last_status: outcome.status,
        last_error: outcome.error,
        last_duration_ms: outcome.durationMs,
        delivered_at: outcome.ok ? done : null,
        created_at: now,
        updated_at: done,
      },
    ]);
    return {
      ok: outcome.ok,
      status: outcome.status,
      error: outcome.error,
      durationMs: outcome.durationMs,
      deliveryId,
    };
  }

  async listDeliveries(
    query: ListDeliveriesQueryDto,
  ): Promise<NotificationDeliveryListResponseDto> {
    const { records, total } = await this.deliveries.list({
      targetId: query.targetId,
      status: query.status,
      eventType: query.eventType,
      page: query.page,
      pageSize: query.pageSize,
    });
    return {
      items: records.map((record) => this.toDeliveryResponse(record)),
      total,
      page: query.page,
      pageSize: query.pageSize,
    };
  }

  /** Puts a delivery that gave up back in the queue; the dispatcher sends it at its next tick. */
  async retryDelivery(id: string): Promise<NotificationDeliveryResponseDto> {
    const record = await this.deliveries.findById(id);
    if (record === undefined) {
      throw new WebhooksException(WebhooksExceptionCode.DELIVERY_NOT_FOUND, `no delivery ${id}`);
    }
    if (!(await this.deliveries.retry(id, Date.now()))) {
      throw new WebhooksException(
        WebhooksExceptionCode.DELIVERY_NOT_RETRYABLE,
        `delivery ${id} is ${record.status}; only a failed delivery can be retried`,
      );
    }
    const updated = await this.deliveries.findById(id);
    return this.toDeliveryResponse(updated ?? record);
  }

  toResponse(record: NotificationTargetRecord): NotificationTargetResponseDto {
    const spec = targetKindSpec(record.kind);
    const secrets = this.sender.openSecrets(record);
    const secretsSet =
      secrets === null ? [] : (spec?.secretFields ?? []).filter((field) => secrets[field] != null);
    return {
      id: record.id,
      name: record.name,
      kind: record.kind,
      enabled: record.enabled === 1,
      events: record.events === null ? null : (JSON.parse(record.events) as string[]),
      config: parseObject(record.config),
      secretsSet,
      hasSecret: record.secrets !== null,
      secretsReadable: secrets !== null,
      createdAt: new Date(record.created_at).toISOString(),
      updatedAt: new Date(record.updated_at).toISOString(),
    };
  }

  private toDeliveryResponse(record: NotificationDeliveryRecord): NotificationDeliveryResponseDto {
    const message = parseObject(record.message);
    return {
      id: record.id,
      eventId: record.event_id,
      targetId: record.target_id,
      eventType: record.event_type,
      title: typeof message.title === 'string' ? message.title : '',
      status: record.status,
      attempts: record.attempts,
      nextAttemptAt: iso(record.next_attempt_at),
      lastStatus: record.last_status,
      lastError: record.last_error,
      lastDurationMs: record.last_duration_ms,
      deliveredAt: iso(record.delivered_at),
      createdAt: new Date(record.created_at).toISOString(),
      updatedAt: new Date(record.updated_at).toISOString(),
    };
  }

  /** Validates the whole configuration with the kind's channel and the host policy, then splits it. */
  private checked(
    spec: TargetKindSpec,
    input: Record<string, unknown>,
  ): { config: Record<string, unknown>; secrets: Record<string, unknown> } {
    const check = spec.validate(input);
    if (!check.ok) {
      throw new WebhooksException(
        WebhooksExceptionCode.INVALID_TARGET_CONFIG,
        `invalid ${spec.kind} configuration: ${check.errors.join('; ')}`,
        { errors: check.errors },
      );
    }
    const refusal = spec.refusal(check.config, this.sender.hostPolicy);
    if (refusal !== null) {
      throw new WebhooksException(WebhooksExceptionCode.TARGET_NOT_ALLOWED, refusal);
    }
    const config: Record<string, unknown> = {};
    const secrets: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(check.config as Record<string, unknown>)) {
      if (value === undefined) continue;
      if (spec.secretFields.includes(key)) secrets[key] = value;
      else config[key] = value;
    }
    return { config, secrets };
  }

  private specOf(kind: string): TargetKindSpec {
    const spec = targetKindSpec(kind);
    if (spec === undefined) {
      throw new WebhooksException(
        WebhooksExceptionCode.UNKNOWN_TARGET_KIND,
        `no notification channel for kind ${kind}`,
      );
    }
    return spec;
  }

  private async require(id: string): Promise<NotificationTargetRecord> {
    const record = await this.targets.findById(id);
    if (record === undefined) throw this.notFound(id);
    return record;
  }

  private notFound(id: string): WebhooksException {
    return new WebhooksException(
      WebhooksExceptionCode.TARGET_NOT_FOUND,
      `no notification target ${id}`,
    );
  }

  private async assertNameFree(name: string): Promise<void> {
    if ((await this.targets.findByName(name)) !== undefined) {
      throw new WebhooksException(
        WebhooksExceptionCode.TARGET_NAME_TAKEN,
        `a notification target named ${name} exists`,
      );
    }
  }
}

function stripNulls(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== null));
}
