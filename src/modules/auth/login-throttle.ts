import { Injectable, Optional } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { BackgroundNotifier } from 'src/infra/outbox/background-notifier';
import { NotificationOutbox } from 'src/infra/outbox/notification-outbox';
import { AuthException, AuthExceptionCode } from './auth.exception';

/** Failures are counted in fixed windows of this length. */
export const LOGIN_WINDOW_MS = 60_000;
/** The first lockout lasts a window; each further one within STRIKE_MEMORY_MS doubles it. */
const MAX_LOCK_MS = 15 * 60_000;
const STRIKE_MEMORY_MS = 24 * 60 * 60_000;
/**
 * Answers to wrong passwords wait 100 ms, doubled for each earlier failure in the window, up to
 * 3 s; refusals (locked, busy) wait 1 s. Waiting costs a timer, not CPU, and holds a client that
 * loops on the answer to one try per wait: 8 such loops answered at once (cheap as a refusal is)
 * still kept the process busy enough to slow relayed requests 20-fold.
 */
const FAILURE_DELAY_MS = 100;
const MAX_FAILURE_DELAY_MS = 3_000;
export const REFUSAL_DELAY_MS = 1_000;

/** One admitted password check: report how it ended exactly once. */
export interface LoginAttempt {
  /** The password was right: the failure reserved for this attempt is given back. */
  succeeded(): Promise<void>;
  /** The password was wrong: the failure stays counted; a full window locks the subject. */
  failed(): Promise<void>;
  /** The check itself broke (database down): counts as neither. */
  abandoned(): Promise<void>;
}

interface Subject {
  /** `u:<digest>` or `a:<digest>`: what the coordination keys carry. */
  id: string;
  kind: 'username' | 'address';
  limit: number;
}

/**
 * Throttles admin login per username and per source address, with state in the Coordinator so
 * it holds across instances with Redis (and in the in-process coordinator's expiring maps on the
 * embedded default), and caps the password checks running at once on this instance.
 *
 * Each attempt reserves one failure in both windows before the password is checked, in one
 * atomic admit, so parallel guesses cannot overshoot the limit; a right password gives its
 * reservation back. The failure that fills a window locks its subject: for one window the first
 * time, twice as long each further time within a day, up to 15 minutes. While locked, every
 * attempt (the right password too) answers 429 with the time left, without a password check.
 */
@Injectable()
export class LoginThrottle {
  private checksInFlight = 0;
  private readonly notifier: BackgroundNotifier;

  constructor(
    private readonly config: ConfigService,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    /** Raises `auth.login_locked` (absent in unit-built throttles). */
    @Optional() notifications?: NotificationOutbox,
  ) {
    this.notifier = new BackgroundNotifier(notifications);
  }

  /** Admits one password check, or throws LOGIN_THROTTLED (429) / LOGIN_BUSY (503). */
  async begin(username: string, address: string, now = Date.now()): Promise<LoginAttempt> {
    if (this.checksInFlight >= this.config.env.LOGIN_CONCURRENT_CHECKS) {
      await sleep(REFUSAL_DELAY_MS);
      throw new AuthException(
        AuthExceptionCode.LOGIN_BUSY,
        'too many logins are being checked right now; retry shortly',
        { retryAfterSeconds: 1 },
      );
    }
    this.checksInFlight += 1;
    let admitted = false;
    try {
      const attempt = await this.admit(username, address, now);
      admitted = true;
      return attempt;
    } finally {
      if (!admitted) this.checksInFlight -= 1;
    }
  }

  private async admit(username: string, address: string, now: number): Promise<LoginAttempt> {
    const subjects: Subject[] = [
      {
        id: `u:${digest(username)}`,
        kind: 'username',
        limit: this.config.env.LOGIN_MAX_FAILURES_PER_USERNAME,
      },
      {
        id: `a:${digest(addressBlock(address))}`,
        kind: 'address',
        limit: this.config.env.LOGIN_MAX_FAILURES_PER_ADDRESS,
      },
    ];
    const locks = await this.coordinator.getValues(
      subjects.map((subject) => coordinationKeys.loginLock(subject.id)),
    );
    const lockedUntil = Math.max(0, ...locks.map((value) => Number(value ?? 0) || 0));
    if (lockedUntil > now) await this.throttled(username, address, lockedUntil - now);

    const result = await this.coordinator.admit({
      counters: subjects.map((subject) => ({
        key: coordinationKeys.loginFailures(subject.id),
        amount: 1,
        limit: subject.limit,
        ttlMs: LOGIN_WINDOW_MS,
      })),
    });
    if (!result.ok) {
      const rejection = result.rejection;
      const resetAtMs =
        rejection?.kind === 'counter' && rejection.resetAtMs !== null
          ? rejection.resetAtMs
          : now + LOGIN_WINDOW_MS;
      await this.throttled(username, address, resetAtMs - now);
    }

    let settled = false;
    const finish = async (outcome: 'succeeded' | 'failed' | 'abandoned'): Promise<void> => {
      if (settled) return;
      settled = true;
      this.checksInFlight -= 1;
      try {
        if (outcome === 'failed') {
          appLogger.warn({ username, address }, 'admin login failed: wrong password');
          const full = subjects.filter(
            (subject, index) => (result.values[index] ?? 0) >= subject.limit,
          );
          await Promise.all(full.map((subject) => this.lock(subject, username, address)));
          const failures = Math.max(...result.values);
          await sleep(
            Math.min(MAX_FAILURE_DELAY_MS, FAILURE_DELAY_MS * 2 ** Math.min(failures - 1, 10)),
          );
          return;
        }
        // Give the reservation back. The TTL keeps a window that expired meanwhile from turning
        // into a lasting -1.
        await this.coordinator.settle({
          counters: subjects.map((subject) => ({
            key: coordinationKeys.loginFailures(subject.id),
            amount: -1,
            ttlMs: LOGIN_WINDOW_MS,
          })),
        });
      } catch (error) {
        // The answer to this attempt stands; the window still counts its reservation.
        appLogger.warn({ err: error, outcome }, 'recording a login attempt failed');
      }
    };
    return {
      succeeded: () => finish('succeeded'),
      failed: () => finish('failed'),
      abandoned: () => finish('abandoned'),
    };
  }

  /** The failure that filled a window: lock the subject, longer for each repeat within a day. */
  private async lock(subject: Subject, username: string, address: string): Promise<void> {
    const strikes = await this.coordinator.admit({
      counters: [
        { key: coordinationKeys.loginStrikes(subject.id), amount: 1, ttlMs: STRIKE_MEMORY_MS },
      ],
    });
    const strike = Math.max(1, strikes.values[0] ?? 1);
    const lockMs = Math.min(MAX_LOCK_MS, LOGIN_WINDOW_MS * 2 ** Math.min(strike - 1, 10));
    const until = Date.now() + lockMs;
    await this.coordinator.setValue(coordinationKeys.loginLock(subject.id), String(until), lockMs);
    appLogger.warn(
      { username, address, by: subject.kind, lockSeconds: Math.ceil(lockMs / 1000), strike },
      'admin login locked after repeated wrong passwords',
    );
    void this.notifyLocked(subject, username, address, lockMs, strike, until);
  }

  /**
   * `auth.login_locked`, once per lock episode: the dedupe key carries the login window the lock
   * began in, and a lock lasts at least a window, so the next episode of the same subject starts
   * in a later one. Written in the background; the attempted password is never part of it.
   */
  private notifyLocked(
    subject: Subject,
    username: string,
    address: string,
    lockMs: number,
    strike: number,
    until: number,
  ): Promise<void> {
    const now = until - lockMs;
    const shownName = username.length > 128 ? `${username.slice(0, 128)}…` : username;
    const minutes = Math.max(1, Math.round(lockMs / 60_000));
    const byAddress = subject.kind === 'address';
    return this.notifier.emit({
      type: 'auth.login_locked',
      dedupeKey: `auth.login_locked:${subject.id}:${Math.floor(now / LOGIN_WINDOW_MS)}`,
      at: now,
      severity: strike > 1 ? 'critical' : 'warning',
      title: byAddress
        ? `Logins from ${address} locked after repeated wrong passwords`
        : `Login "${shownName}" locked after repeated wrong passwords`,
      message:
        `${subject.limit} wrong passwords within a minute locked ` +
        `${byAddress ? `every login from ${addressBlock(address)}` : `the username "${shownName}"`} ` +
        `for ${minutes} min (lockout ${strike} within a day). If this was not a person mistyping, ` +
        'someone may be guessing passwords.',
      subject: { kind: 'user', id: shownName, name: shownName },
      data: {
        lockedBy: subject.kind,
        username: shownName,
        address,
        failures: subject.limit,
        lockSeconds: Math.ceil(lockMs / 1000),
        lockedUntil: new Date(until).toISOString(),
        strike,
      },
    });
  }

  private async throttled(username: string, address: string, waitMs: number): Promise<never> {
    await sleep(REFUSAL_DELAY_MS);
    const retryAfterSeconds = Math.max(1, Math.ceil((waitMs - REFUSAL_DELAY_MS) / 1000));
    // Every attempt while locked lands here; the lock itself was logged at warn once.
    appLogger.debug({ username, address, retryAfterSeconds }, 'admin login throttled');
    throw new AuthException(
      AuthExceptionCode.LOGIN_THROTTLED,
      `too many failed logins; retry in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 32);
}

/**
 * The unit an address is throttled by: the IPv4 address, or the /64 of an IPv6 one (one host
 * commonly holds a whole /64, so single IPv6 addresses would cost an attacker nothing).
 */
export function addressBlock(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return mapped[1];
  if (!isIPv6(address)) return address;
  const [head, tail] = address.toLowerCase().split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0');
  const groups = tail === undefined ? left : [...left, ...zeros, ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
