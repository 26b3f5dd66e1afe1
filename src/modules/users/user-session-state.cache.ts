import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { appLogger } from 'src/common/logging/app-logger';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { UsersRepository } from './users.repository';

/** What an admin session is checked against on every admin request. */
export interface UserSessionState {
  id: string;
  username: string;
  role: string;
  disabled: boolean;
  tokenVersion: number;
}

/**
 * Safety net only: changes made on any instance drop the entry at once through pub/sub. It bounds
 * staleness when a message is lost, and on the embedded default when the CLI (another process with
 * its own in-process coordinator) resets a password.
 */
const TTL_MS = 5_000;
const MAX_ENTRIES = 1_000;
const SUBSCRIBE_RETRY_MS = 5_000;
/** A message that drops every entry (sent after this instance missed messages). */
const INVALIDATE_ALL = '*';

interface Entry {
  state: UserSessionState | null;
  expiresAtMs: number;
}

/**
 * The session-relevant state of users (token version, disabled, role), cached briefly so admin
 * requests do not read SQL each time, and dropped on every instance when a user changes.
 */
@Injectable()
export class UserSessionStateCache implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, Entry>();
  /** Bumped by every invalidation; a read that raced one is returned but not cached. */
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | undefined;
  private subscribeTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly users: UsersRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.subscribeTimer);
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    await unsubscribe?.().catch(() => undefined);
  }

  /** The user's current session state, or null when the user no longer exists. */
  async get(id: string, now = Date.now()): Promise<UserSessionState | null> {
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.expiresAtMs > now) return entry.state;
    const generation = this.generation;
    const record = await this.users.findById(id);
    const state =
      record === undefined
        ? null
        : {
            id: record.id,
            username: record.username,
            role: record.role,
            disabled: record.disabled === 1,
            tokenVersion: Number(record.token_version),
          };
    if (generation === this.generation) {
      this.entries.delete(id);
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(id, { state, expiresAtMs: now + TTL_MS });
    }
    return state;
  }

  /**
   * Drops the user here at once and tells the other instances. A failed publish is logged: the
   * others then see the change within the TTL.
   */
  async changed(id: string): Promise<void> {
    this.invalidate(id);
    await this.coordinator
      .publish(coordinationKeys.channels.userInvalidation, id)
      .catch((error: unknown) => {
        appLogger.warn({ err: error, userId: id }, 'publishing a user change failed');
      });
  }

  private invalidate(id: string): void {
    this.generation += 1;
    if (id === INVALIDATE_ALL) this.entries.clear();
    else this.entries.delete(id);
  }

  /** As the API key cache: an instance that cannot subscribe at start keeps retrying. */
  private async subscribe(retry = false): Promise<void> {
    try {
      this.unsubscribe = await this.coordinator.subscribe(
        coordinationKeys.channels.userInvalidation,
        (message) => this.invalidate(message),
      );
      if (retry) this.invalidate(INVALIDATE_ALL);
    } catch (error) {
      appLogger.warn({ err: error }, 'subscribing to user invalidations failed; retrying');
      if (this.stopped) return;
      this.subscribeTimer = setTimeout(() => void this.subscribe(true), SUBSCRIBE_RETRY_MS);
      this.subscribeTimer.unref();
    }
  }
}
