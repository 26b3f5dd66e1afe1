import { EventEmitter } from 'node:events';
import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import type { Coordinator } from 'src/infra/coordination/coordinator.port';
import type { OutboxRepository } from 'src/infra/outbox/outbox.repository';
import type { OutboxEvent } from 'src/infra/outbox/outbox.types';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import {
  API_KEY_HEADER,
  BillingPublisher,
  REPUBLISHED_HEADER,
  retryDelay,
  routingKeyOf,
} from './billing-publisher.service';
import type {
  BrokerChannel,
  BrokerConnect,
  BrokerConnection,
  BrokerPublishOptions,
} from './broker.port';

const URL = 'amqp://billing:s3cret@rabbit.internal:5672/prod';

interface Published {
  exchange: string;
  routingKey: string;
  body: any;
  options: BrokerPublishOptions;
}

/** A confirm channel that records publishes and confirms them as `confirmWith` says. */
class FakeChannel extends EventEmitter implements BrokerChannel {
  readonly published: Published[] = [];
  readonly exchanges: { name: string; type: string; durable: boolean }[] = [];
  /** Per publish (0-based over the channel's life): confirm (true), refuse (false), or hold. */
  confirmWith: (index: number) => boolean | 'hold' = () => true;
  /** Close the channel right after this many publishes. */
  closeAfter = Infinity;
  /** publish() answers false (buffer full) for these publish indexes. */
  readonly full = new Set<number>();
  closed = false;
  private readonly held: ((err: unknown) => void)[] = [];

  async assertExchange(name: string, type: string, options: { durable: boolean }) {
    this.exchanges.push({ name, type, durable: options.durable });
    return {};
  }

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: BrokerPublishOptions,
    callback: (err: unknown) => void,
  ): boolean {
    if (this.closed) throw new Error('Channel closed');
    const index = this.published.length;
    this.published.push({ exchange, routingKey, body: JSON.parse(content.toString()), options });
    const outcome = this.confirmWith(index);
    if (outcome === 'hold') this.held.push(callback);
    else void Promise.resolve().then(() => callback(outcome ? null : new Error('message nacked')));
    if (this.published.length >= this.closeAfter) this.closeNow();
    if (this.full.has(index)) {
      setImmediate(() => this.emit('drain'));
      return false;
    }
    return true;
  }

  /** The broker went away: amqplib fails what it had not confirmed, then emits close. */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    for (const callback of this.held.splice(0)) callback(new Error('channel closed'));
    this.emit('close');
  }

  async close(): Promise<void> {
    this.closeNow();
  }
}

class FakeConnection extends EventEmitter implements BrokerConnection {
  readonly channels: FakeChannel[] = [];
  constructor(private readonly makeChannel: () => FakeChannel) {
    super();
  }
  async createConfirmChannel(): Promise<FakeChannel> {
    const channel = this.makeChannel();
    this.channels.push(channel);
    return channel;
  }
  async close(): Promise<void> {
    for (const channel of this.channels) channel.closeNow();
    this.emit('close');
  }
}

class FakeOutbox {
  readonly events: OutboxEvent[] = [];
  readonly marked: string[][] = [];
  failMark = false;

  add(n: number, key = (i: number) => `key-${i % 2}`): void {
    const start = this.events.length;
    for (let i = start; i < start + n; i++) {
      const id = `0190a1b2-0000-7000-8000-${String(i).padStart(12, '0')}`;
      this.events.push({
        id,
        topic: 'usage',
        type: 'usage.recorded',
        partitionKey: key(i),
        dedupeKey: null,
        payload: { id, platform: i % 3 === 0 ? 'gemini' : 'claude', apiKey: { id: key(i) } },
        createdAt: 1_738_326_600_000 + i,
        processedAt: null,
      });
    }
  }

  async pending(_topic: string, limit: number): Promise<OutboxEvent[]> {
    return this.events.filter((e) => e.processedAt === null).slice(0, limit);
  }

  async markProcessed(ids: readonly string[]): Promise<void> {
    if (this.failMark) throw new Error('database is locked');
    this.marked.push([...ids]);
    for (const event of this.events) if (ids.includes(event.id)) event.processedAt = 1;
  }

  pendingIds(): string[] {
    return this.events.filter((e) => e.processedAt === null).map((e) => e.id);
  }
}

function setup(env: Record<string, string> = {}) {
  const config = new ConfigService(
    loadEnvironment({
      AMQP_URL: URL,
      AMQP_EXCHANGE: 'billing.test',
      AMQP_PUBLISH_BATCH_SIZE: '4',
      ...env,
    }),
  );
  const outbox = new FakeOutbox();
  let lockHeldElsewhere = false;
  const coordinator = {
    acquireLock: jest.fn(async (name: string) =>
      lockHeldElsewhere ? null : { name, token: 'token' },
    ),
    releaseLock: jest.fn(async () => undefined),
  };
  const channels: FakeChannel[] = [];
  let nextChannel: (channel: FakeChannel) => void = () => undefined;
  let brokerDown = false;
  const connect = jest.fn<ReturnType<BrokerConnect>, Parameters<BrokerConnect>>(async () => {
    if (brokerDown) throw new Error('connect ECONNREFUSED 10.0.0.5:5672');
    return new FakeConnection(() => {
      const channel = new FakeChannel();
      nextChannel(channel);
      channels.push(channel);
      return channel;
    });
  });
  const metrics = new MetricsService();
  const publisher = new BillingPublisher(
    config,
    metrics,
    outbox as unknown as OutboxRepository,
    coordinator as unknown as Coordinator,
    connect,
  );
  return {
    publisher,
    outbox,
    coordinator,
    connect,
    channels,
    metrics,
    onChannel: (fn: (channel: FakeChannel) => void) => (nextChannel = fn),
    setBrokerDown: (down: boolean) => (brokerDown = down),
    setLockHeldElsewhere: (held: boolean) => (lockHeldElsewhere = held),
    published: () => channels.flatMap((c) => c.published),
  };
}

async function metric(metrics: MetricsService, name: string): Promise<string> {
  return (await metrics.registry.metrics())
    .split('\n')
    .filter((line) => line.startsWith(name))
    .join('\n');
}

describe(BillingPublisher.name, () => {
  beforeEach(() => {
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
    jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());

  describe('pass', () => {
    it('should publish every pending event in order, persistent and confirmed, then mark it', async () => {
      const t = setup();
      t.outbox.add(10);
      expect(await t.publisher.pass(URL)).toBe(false);
      const published = t.published();
      expect(published.map((p) => p.options.messageId)).toEqual(t.outbox.events.map((e) => e.id));
      expect(t.outbox.pendingIds()).toEqual([]);
      // Batches of AMQP_PUBLISH_BATCH_SIZE, each marked after its confirms.
      expect(t.outbox.marked.map((ids) => ids.length)).toEqual([4, 4, 2]);
      expect(t.channels[0].exchanges).toEqual([
        { name: 'billing.test', type: 'topic', durable: true },
      ]);
      expect(published[0]).toEqual({
        exchange: 'billing.test',
        routingKey: 'usage.gemini',
        body: t.outbox.events[0].payload,
        options: {
          persistent: true,
          messageId: t.outbox.events[0].id,
          type: 'usage.recorded',
          timestamp: Math.floor(t.outbox.events[0].createdAt / 1000),
          contentType: 'application/json',
          appId: 'switchyard',
          headers: { [API_KEY_HEADER]: 'key-0' },
        },
      });
      expect(published[1].routingKey).toBe('usage.claude');
      expect(await metric(t.metrics, 'switchyard_billing_published_total')).toContain(
        'switchyard_billing_published_total 10',
      );
      expect(t.connect).toHaveBeenCalledWith(URL, expect.objectContaining({ timeoutMs: 10_000 }));
      expect(t.coordinator.releaseLock).toHaveBeenCalledTimes(1);
      expect(t.publisher.status()).toMatchObject({
        state: 'connected',
        broker: 'amqp://rabbit.internal:5672/prod',
        exchange: 'billing.test',
        lastError: null,
      });
    });

    it('should mark only the confirmed start of a batch when the broker refuses a message', async () => {
      const t = setup();
      t.outbox.add(4);
      t.onChannel((channel) => {
        // The first channel refuses the third message; the next one confirms everything.
        if (t.channels.length === 0) channel.confirmWith = (i) => i !== 2;
      });
      await expect(t.publisher.pass(URL)).rejects.toThrow('2 of 4 events not confirmed');
      expect(t.outbox.pendingIds()).toEqual(t.outbox.events.slice(2).map((e) => e.id));

      // The next pass starts again from the oldest pending event, on a new channel, and says
      // that these may be copies.
      t.channels[0].closeNow();
      expect(await t.publisher.pass(URL)).toBe(false);
      const again = t.channels[1].published;
      expect(again.map((p) => p.options.messageId)).toEqual(
        t.outbox.events.slice(2).map((e) => e.id),
      );
      for (const p of again) expect(p.options.headers[REPUBLISHED_HEADER]).toBe(true);
      expect(t.outbox.pendingIds()).toEqual([]);
    });

    it('should stop publishing as soon as the channel closes and mark none of what it did not confirm', async () => {
      const t = setup({ AMQP_PUBLISH_BATCH_SIZE: '10' });
      t.outbox.add(10);
      t.onChannel((channel) => {
        if (t.channels.length > 0) return;
        // Confirms of the 2nd and 3rd never come: the connection dies after the 3rd publish.
        channel.confirmWith = (i) => (i === 0 ? true : 'hold');
        channel.closeAfter = 3;
      });
      await expect(t.publisher.pass(URL)).rejects.toThrow('9 of 10 events not confirmed');
      expect(t.channels[0].published).toHaveLength(3);
      expect(t.outbox.pendingIds()).toEqual(t.outbox.events.slice(1).map((e) => e.id));
      expect(t.publisher.status().state).toBe('disconnected');

      expect(await t.publisher.pass(URL)).toBe(false);
      const again = t.channels[1].published;
      // The two that were on the wire may be copies; the rest were never sent.
      expect(again.map((p) => p.options.headers[REPUBLISHED_HEADER] === true)).toEqual([
        true,
        true,
        ...Array<boolean>(7).fill(false),
      ]);
      expect(t.outbox.pendingIds()).toEqual([]);
    });

    it('should wait for the channel to drain when its buffer is full', async () => {
      const t = setup();
      t.outbox.add(4);
      t.onChannel((channel) => channel.full.add(1));
      expect(await t.publisher.pass(URL)).toBe(false);
      expect(t.published()).toHaveLength(4);
      expect(t.outbox.pendingIds()).toEqual([]);
    });

    it('should neither connect nor publish while another instance holds the lock', async () => {
      const t = setup();
      t.outbox.add(3);
      t.setLockHeldElsewhere(true);
      expect(await t.publisher.pass(URL)).toBe(false);
      expect(t.connect).not.toHaveBeenCalled();
      expect(t.outbox.pendingIds()).toHaveLength(3);
      expect(t.publisher.status().state).toBe('standby');
    });

    it('should keep every event pending while the broker is down, and catch up once it is back', async () => {
      const t = setup();
      t.outbox.add(6);
      t.setBrokerDown(true);
      await expect(t.publisher.pass(URL)).rejects.toThrow('ECONNREFUSED');
      expect(t.outbox.pendingIds()).toHaveLength(6);
      t.setBrokerDown(false);
      expect(await t.publisher.pass(URL)).toBe(false);
      expect(t.outbox.pendingIds()).toEqual([]);
    });

    it('should publish again what the broker confirmed when marking it failed', async () => {
      const t = setup();
      t.outbox.add(2);
      t.outbox.failMark = true;
      await expect(t.publisher.pass(URL)).rejects.toThrow('database is locked');
      t.outbox.failMark = false;
      expect(await t.publisher.pass(URL)).toBe(false);
      const headers = t.published().map((p) => p.options.headers[REPUBLISHED_HEADER] === true);
      expect(headers).toEqual([false, false, true, true]);
    });
  });

  describe('loop', () => {
    it('should retry with backoff after a failure and log the outage once, then the recovery', async () => {
      jest.useFakeTimers();
      try {
        const warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
        const info = jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
        const t = setup({ AMQP_PUBLISH_INTERVAL_MS: '100' });
        t.outbox.add(2);
        t.setBrokerDown(true);
        t.publisher.onApplicationBootstrap();
        await jest.advanceTimersByTimeAsync(0);
        expect(t.connect).toHaveBeenCalledTimes(1);
        // 0.5 s, then 1 s, then 2 s between attempts.
        await jest.advanceTimersByTimeAsync(499);
        expect(t.connect).toHaveBeenCalledTimes(1);
        await jest.advanceTimersByTimeAsync(1);
        expect(t.connect).toHaveBeenCalledTimes(2);
        await jest.advanceTimersByTimeAsync(1000);
        expect(t.connect).toHaveBeenCalledTimes(3);
        expect(warn).toHaveBeenCalledTimes(1);
        expect(await metric(t.metrics, 'switchyard_billing_publish_errors_total')).toContain(
          'switchyard_billing_publish_errors_total{reason="connect"} 3',
        );
        expect(JSON.stringify(warn.mock.calls)).not.toContain('s3cret');
        t.setBrokerDown(false);
        await jest.advanceTimersByTimeAsync(2500);
        expect(t.outbox.pendingIds()).toEqual([]);
        expect(info.mock.calls.map((c) => c.at(-1))).toContain('billing stream: publishing again');
        await t.publisher.onApplicationShutdown();
      } finally {
        jest.useRealTimers();
      }
    });

    it('should not start without AMQP_URL', () => {
      const t = setup({ AMQP_URL: '' });
      t.publisher.onApplicationBootstrap();
      expect(t.coordinator.acquireLock).not.toHaveBeenCalled();
      expect(t.publisher.status()).toMatchObject({ state: 'disabled', broker: null });
    });
  });
});

describe('retryDelay', () => {
  it('should double from 0.5 s up to 30 s', () => {
    expect([1, 2, 3, 4, 7, 8, 20].map(retryDelay)).toEqual([
      500, 1000, 2000, 4000, 30_000, 30_000, 30_000,
    ]);
  });
});

describe('routingKeyOf', () => {
  it('should route by platform, keeping the key to safe words', () => {
    expect(routingKeyOf({ platform: 'claude' })).toBe('usage.claude');
    expect(routingKeyOf({ platform: 'a.b*#' })).toBe('usage.a_b__');
    expect(routingKeyOf({})).toBe('usage.unknown');
    expect(routingKeyOf(null)).toBe('usage.unknown');
  });
});
