import { appLogger } from 'src/common/logging/app-logger';
import type { NotificationOutbox } from './notification-outbox';
import type { NotificationEventInput } from './outbox.types';

/** Dedupe keys remembered per instance; older ones are forgotten first (SQL still dedupes). */
const REMEMBERED_KEYS = 4096;

/**
 * Raises notification events off the caller's path, for causes that happen on a request path
 * (a refused key, an unroutable platform, a login lockout, a failed token refresh): the write is
 * fire-and-forget, never delays or fails the cause, and a failed write is logged. A dedupe key
 * this instance already stored is not written again, so a burst of the same cause (thousands of
 * refusals a second) costs one SQL insert; across instances the outbox's unique dedupe key keeps
 * it to one event.
 */
export class BackgroundNotifier {
  private readonly stored = new Set<string>();

  /** Without an outbox (unit-built services), nothing is raised. */
  constructor(private readonly outbox: NotificationOutbox | undefined) {}

  /**
   * Starts the write and returns at once. The returned promise never rejects and settles when
   * the write has ended: callers do not await it (tests may).
   */
  emit(event: NotificationEventInput): Promise<void> {
    if (this.outbox === undefined) return Promise.resolve();
    const key = event.dedupeKey;
    if (key !== undefined) {
      if (this.stored.has(key)) return Promise.resolve();
      this.remember(key);
    }
    return this.outbox.emit(event).then(
      () => undefined,
      (error: unknown) => {
        // Forget the key so a later occurrence of the cause tries again.
        if (key !== undefined) this.stored.delete(key);
        appLogger.error(
          { err: error, type: event.type, dedupeKey: key },
          'could not record a notification event',
        );
      },
    );
  }

  private remember(key: string): void {
    if (this.stored.size >= REMEMBERED_KEYS) {
      const oldest = this.stored.values().next().value as string;
      this.stored.delete(oldest);
    }
    this.stored.add(key);
  }
}
