import { Injectable } from '@nestjs/common';
import { OutboxRepository, type OutboxExecutor } from './outbox.repository';
import type { NotificationEventInput, NotificationPayload } from './outbox.types';

/**
 * What features call to raise a notification: appends a `notification` event to the outbox, in
 * the caller's transaction when one is given. Delivery (targets, retries, the delivery log) is the
 * webhooks module's job, off the request path.
 */
@Injectable()
export class NotificationOutbox {
  constructor(private readonly outbox: OutboxRepository) {}

  /** Resolves with false when an event with the same dedupe key was already stored. */
  async emit(event: NotificationEventInput, executor?: OutboxExecutor): Promise<boolean> {
    const { type, dedupeKey, at, ...rest } = event;
    const payload: NotificationPayload = rest;
    const stored = await this.outbox.append(
      [{ topic: 'notification', type, dedupeKey: dedupeKey ?? null, payload, createdAt: at }],
      executor,
    );
    return stored === 1;
  }
}
