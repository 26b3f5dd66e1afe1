import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Counter } from 'prom-client';
import { appLogger } from 'src/common/logging/app-logger';
import { ConfigService } from 'src/config/config.service';
import { coordinationKeys } from 'src/infra/coordination/coordination.keys';
import { InjectCoordinator } from 'src/infra/coordination/coordination.module';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import type { OutboxEvent } from 'src/infra/outbox/outbox.types';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import {
  BROKER_CONNECT,
  brokerLabel,
  type BrokerChannel,
  type BrokerConnect,
  type BrokerConnection,
  type BrokerPublishOptions,
} from './broker.port';

export const BILLING_STREAM_LOCK = coordinationKeys.lock('job:billing-stream');
/** The lock outlives a pass by far: a pass stops itself after PASS_BUDGET_MS plus one batch. */
const LOCK_TTL_MS = 60_000;
const PASS_BUDGET_MS = 10_000;
/** A batch whose confirms take longer than this is given up (the connection is dropped). */
export const CONFIRM_TIMEOUT_MS = 15_000;
const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 5_000;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;
const OUTAGE_LOG_EVERY_MS = 60_000;
/** Ids remembered as published-but-unconfirmed; beyond this the memory is dropped (best effort). */
const UNCONFIRMED_MEMORY = 10_000;

/** Header set on a message published again after an earlier publish of it went unconfirmed. */
export const REPUBLISHED_HEADER = 'x-switchyard-republished';
export const API_KEY_HEADER = 'x-api-key-id';

const ERROR_REASONS = ['connect', 'confirm', 'store'] as const;
type PublishErrorReason = (typeof ERROR_REASONS)[number];

/**
 * disabled: no AMQP_URL. standby: another instance holds the publisher lock. connected /
 * disconnected: this instance publishes, and the broker answers or not.
 */
export type BillingStreamState = 'disabled' | 'standby' | 'connected' | 'disconnected';

export interface BillingStreamStatus {
  state: BillingStreamState;
  /** The broker without credentials, e.g. amqp://rabbit:5672. */
  broker: string | null;
  exchange: string;
  /** The last broker or outbox error, while it lasts. */
  lastError: string | null;
  /** Epoch ms of the last confirmed publish by this instance. */
  lastPublishedAt: number | null;
}

class PublishError extends Error {
  constructor(
    readonly reason: PublishErrorReason,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

async function stage<T>(reason: PublishErrorReason, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw error instanceof PublishError ? error : new PublishError(reason, error);
  }
}

/** Rejects after ms; a late result of `promise` is handed to `late` (to close a late connection). */
async function within<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  late?: (value: T) => void,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new Error(`${what} took longer than ${ms} ms`));
    }, ms);
  });
  void promise.then(
    (value) => {
      if (timedOut) late?.(value);
    },
    () => undefined,
  );
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function retryDelay(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, failures - 1));
}

/** `usage.<platform>`, each part limited to what a topic routing-key word may safely hold. */
export function routingKeyOf(payload: unknown): string {
  const platform = (payload as { platform?: unknown } | null)?.platform;
  const word = typeof platform === 'string' ? platform.replace(/[^A-Za-z0-9_-]/g, '_') : '';
  return `usage.${word.length > 0 ? word : 'unknown'}`;
}

/**
 * Publishes the `usage` outbox (billing events written with their usage batch, see
 * UsageRepository.writeBatch) to RabbitMQ, off the request path, on one instance at a time (a
 * coordinator lock per pass).
 *
 * A pass reads the oldest pending events (outbox id order, which is request order), publishes
 * them on a confirm channel as persistent messages, waits for the broker's confirms and marks
 * processed the confirmed prefix of the batch only: so an event is never marked before the
 * broker has it, and a later event is never marked while an earlier one of the batch is not
 * (order per key holds across retries). The first failure drops the connection; the loop
 * reconnects with exponential backoff (0.5 s doubling to 30 s) and starts again from the oldest
 * pending event. Nothing is lost while the broker is down: the events wait in SQL.
 *
 * At least once: when a connection dies after the broker stored a message but before its
 * confirm arrived, that message is published again. Publishing stops as soon as the connection
 * or channel reports closing, which keeps that window to the messages already on the wire; a copy
 * this process publishes again carries `x-switchyard-republished: true`. Consumers deduplicate on
 * the message id (the request id).
 */
@Injectable()
export class BillingPublisher implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly url: string | undefined;
  private readonly exchange: string;
  private readonly batchSize: number;
  private readonly intervalMs: number;
  private readonly connectionName: string;

  private connection: BrokerConnection | null = null;
  private channel: BrokerChannel | null = null;
  /** True while the channel may be published on; false from the first sign of it closing. */
  private open = false;
  /** Wakes a publish waiting for `drain` when the channel closes instead. */
  private onClosed: (() => void) | null = null;
  /** Events published without a confirm (yet): a next publish of one is a possible duplicate. */
  private readonly unconfirmed = new Set<string>();

  private state: BillingStreamState;
  private lastError: string | null = null;
  private lastPublishedAt: number | null = null;
  private failures = 0;
  private outageStartedAt: number | null = null;
  private lastOutageLogAt = 0;

  private stopping = false;
  private running: Promise<void> | null = null;
  private sleepTimer: NodeJS.Timeout | null = null;
  private wakeSleep: (() => void) | null = null;

  private readonly publishedTotal: Counter;
  private readonly errorsTotal: Counter<'reason'>;

  constructor(
    config: ConfigService,
    metrics: MetricsService,
    private readonly outbox: OutboxRepository,
    @InjectCoordinator() private readonly coordinator: Coordinator,
    @Inject(BROKER_CONNECT) private readonly connectBroker: BrokerConnect,
  ) {
    const env = config.env;
    this.url = env.AMQP_URL;
    this.exchange = env.AMQP_EXCHANGE;
    this.batchSize = env.AMQP_PUBLISH_BATCH_SIZE;
    this.intervalMs = env.AMQP_PUBLISH_INTERVAL_MS;
    this.connectionName = `switchyard ${config.instanceId}`;
    this.state = this.url === undefined ? 'disabled' : 'standby';
    const registers = [metrics.registry];
    this.publishedTotal = new Counter({
      name: 'switchyard_billing_published_total',
      help: 'Billing events the broker confirmed (AMQP_URL); a republished event counts again',
      registers,
    });
    this.errorsTotal = new Counter({
      name: 'switchyard_billing_publish_errors_total',
      help: 'Failed billing-stream passes: connect (broker unreachable or exchange refused), confirm (refused or unconfirmed, connection lost), store (the outbox database or the coordinator lock)',
      labelNames: ['reason'] as const,
      registers,
    });
    for (const reason of ERROR_REASONS) this.errorsTotal.inc({ reason }, 0);
  }

  get enabled(): boolean {
    return this.url !== undefined;
  }

  status(): BillingStreamStatus {
    return {
      state: this.state,
      broker: this.url === undefined ? null : brokerLabel(this.url),
      exchange: this.exchange,
      lastError: this.lastError,
      lastPublishedAt: this.lastPublishedAt,
    };
  }

  onApplicationBootstrap(): void {
    if (this.url === undefined) return;
    this.running = this.loop(this.url);
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.wakeSleep?.();
    if (this.running !== null) {
      // A pass in progress ends after its batch's confirms (bounded); what is left stays pending.
      await within(
        this.running,
        CONFIRM_TIMEOUT_MS + CLOSE_TIMEOUT_MS,
        'billing stream stop',
      ).catch(() => undefined);
    }
    await this.disconnect();
  }

  private async loop(url: string): Promise<void> {
    while (!this.stopping) {
      let delay = this.intervalMs;
      try {
        const more = await this.pass(url);
        this.recovered();
        if (more) delay = 0;
      } catch (error) {
        this.failures += 1;
        delay = retryDelay(this.failures);
        this.failed(error, delay);
        await this.disconnect();
      }
      if (!this.stopping) await this.sleep(delay);
    }
  }

  /**
   * One pass under the lock: publish until nothing is pending (false) or the pass budget is
   * spent (true: go again at once). Throws a PublishError on the first failure.
   */
  async pass(url: string): Promise<boolean> {
    const lock = await stage('store', () =>
      this.coordinator.acquireLock(BILLING_STREAM_LOCK, LOCK_TTL_MS),
    );
    if (lock === null) {
      // Another instance publishes; this one holds no connection meanwhile.
      await this.disconnect();
      this.state = 'standby';
      return false;
    }
    try {
      return await this.drain(url);
    } finally {
      await this.coordinator.releaseLock(lock).catch(() => undefined);
    }
  }

  private async drain(url: string): Promise<boolean> {
    const started = Date.now();
    for (;;) {
      // Connected before reading, so a broker that is down shows (log, readiness) even when idle.
      const channel = await stage('connect', () => this.ensureChannel(url));
      const events = await stage('store', () => this.outbox.pending('usage', this.batchSize));
      if (events.length === 0) return false;
      const confirmed = await this.publishBatch(channel, events);
      if (confirmed > 0) {
        const ids = events.slice(0, confirmed).map((event) => event.id);
        await stage('store', () => this.outbox.markProcessed(ids));
        for (const id of ids) this.unconfirmed.delete(id);
        this.publishedTotal.inc(confirmed);
        this.lastPublishedAt = Date.now();
      }
      if (confirmed < events.length) {
        // Stopping: the rest waits in the outbox for the next start (or another instance).
        if (this.stopping) return false;
        throw new PublishError(
          'confirm',
          `${events.length - confirmed} of ${events.length} events not confirmed by the broker`,
        );
      }
      if (events.length < this.batchSize || this.stopping) return false;
      if (Date.now() - started > PASS_BUDGET_MS) return true;
    }
  }

  /**
   * Publishes the events in order and waits for their confirms; returns how many from the start
   * of the batch the broker confirmed (the rest are published again by a later pass). Stops
   * publishing at the first sign of the channel closing.
   */
  async publishBatch(channel: BrokerChannel, events: readonly OutboxEvent[]): Promise<number> {
    const outcomes: (boolean | undefined)[] = [];
    const confirms: Promise<void>[] = [];
    if (this.unconfirmed.size > UNCONFIRMED_MEMORY) this.unconfirmed.clear();
    for (let i = 0; i < events.length && this.open && !this.stopping; i++) {
      const event = events[i];
      let confirm!: (ok: boolean) => void;
      confirms.push(
        new Promise<boolean>((resolve) => (confirm = resolve)).then((ok) => {
          outcomes[i] = ok;
        }),
      );
      let writable: boolean;
      try {
        writable = channel.publish(
          this.exchange,
          routingKeyOf(event.payload),
          Buffer.from(JSON.stringify(event.payload)),
          this.publishOptions(event),
          (err) => confirm(err === null || err === undefined),
        );
      } catch (error) {
        // amqplib throws once the channel is closed: nothing more goes out on it.
        this.open = false;
        this.lastError = errorMessage(error);
        confirm(false);
        break;
      }
      this.unconfirmed.add(event.id);
      if (!writable) await this.drained(channel);
    }
    await within(Promise.all(confirms), CONFIRM_TIMEOUT_MS, 'broker confirms').catch(() => {
      // Whatever is unconfirmed by now is published again after a reconnect.
      this.open = false;
    });
    let confirmed = 0;
    while (confirmed < events.length && outcomes[confirmed] === true) confirmed += 1;
    return confirmed;
  }

  private publishOptions(event: OutboxEvent): BrokerPublishOptions {
    const headers: BrokerPublishOptions['headers'] = {};
    if (event.partitionKey !== null) headers[API_KEY_HEADER] = event.partitionKey;
    if (this.unconfirmed.has(event.id)) headers[REPUBLISHED_HEADER] = true;
    const payload = event.payload as { id?: unknown } | null;
    return {
      persistent: true,
      messageId: typeof payload?.id === 'string' ? payload.id : event.id,
      type: event.type,
      timestamp: Math.floor(event.createdAt / 1000),
      contentType: 'application/json',
      appId: 'switchyard',
      headers,
    };
  }

  /** Resolves once the channel can take more, or has closed. */
  private drained(channel: BrokerChannel): Promise<void> {
    return new Promise<void>((resolve) => {
      this.onClosed = resolve;
      channel.once('drain', resolve);
    }).finally(() => {
      this.onClosed = null;
    });
  }

  private async ensureChannel(url: string): Promise<BrokerChannel> {
    if (this.channel !== null && this.open) return this.channel;
    await this.disconnect();
    const connection = await within(
      this.connectBroker(url, {
        timeoutMs: CONNECT_TIMEOUT_MS,
        connectionName: this.connectionName,
      }),
      CONNECT_TIMEOUT_MS,
      'broker connect',
      (late) => void late.close().catch(() => undefined),
    );
    this.connection = connection;
    const closed = (): void => {
      if (this.connection !== connection) return;
      this.open = false;
      this.state = 'disconnected';
      this.onClosed?.();
    };
    // An 'error' is always followed by 'close'; without a listener it would crash the process.
    connection.on('error', (err) => (this.lastError = errorMessage(err)));
    connection.on('close', closed);
    connection.on('blocked', (reason) =>
      appLogger.warn({ reason }, 'billing stream: the broker blocked publishing (resource alarm)'),
    );
    connection.on('unblocked', () => appLogger.info('billing stream: the broker unblocked'));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (err) => (this.lastError = errorMessage(err)));
      channel.on('close', closed);
      await channel.assertExchange(this.exchange, 'topic', { durable: true });
      this.channel = channel;
      this.open = true;
      this.state = 'connected';
      appLogger.info(
        { broker: brokerLabel(url), exchange: this.exchange },
        'billing stream connected to the broker',
      );
      return channel;
    } catch (error) {
      await this.disconnect();
      throw error;
    }
  }

  private async disconnect(): Promise<void> {
    this.open = false;
    this.onClosed?.();
    const connection = this.connection;
    this.connection = null;
    this.channel = null;
    if (this.state === 'connected') this.state = 'disconnected';
    if (connection === null) return;
    await within(connection.close(), CLOSE_TIMEOUT_MS, 'broker close').catch(() => undefined);
  }

  private failed(error: unknown, retryInMs: number): void {
    const reason = error instanceof PublishError ? error.reason : 'store';
    this.errorsTotal.inc({ reason });
    this.lastError = errorMessage(error);
    if (this.state !== 'standby') this.state = 'disconnected';
    const now = Date.now();
    if (this.outageStartedAt === null) {
      this.outageStartedAt = now;
      this.lastOutageLogAt = now;
      appLogger.warn(
        { reason, err: this.lastError, retryInMs },
        'billing stream: publishing failed; events wait in the outbox and are published once it works again',
      );
    } else if (now - this.lastOutageLogAt >= OUTAGE_LOG_EVERY_MS) {
      this.lastOutageLogAt = now;
      appLogger.warn(
        { reason, err: this.lastError, failures: this.failures, retryInMs },
        'billing stream: still failing',
      );
    }
  }

  private recovered(): void {
    this.failures = 0;
    if (this.outageStartedAt === null) return;
    appLogger.info(
      { outageMs: Date.now() - this.outageStartedAt },
      'billing stream: publishing again',
    );
    this.outageStartedAt = null;
    this.lastError = null;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        if (this.sleepTimer !== null) clearTimeout(this.sleepTimer);
        this.sleepTimer = null;
        this.wakeSleep = null;
        resolve();
      };
      this.wakeSleep = done;
      this.sleepTimer = setTimeout(done, ms);
      this.sleepTimer.unref();
    });
  }
}

function errorMessage(error: unknown): string {
  // amqplib's messages name hosts and reply codes, never the URL's credentials.
  return error instanceof Error ? error.message : String(error);
}
