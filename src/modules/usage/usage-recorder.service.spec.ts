import { appLogger } from 'src/common/logging/app-logger';
import { loadEnvironment } from 'src/config/config.loader';
import { ConfigService } from 'src/config/config.service';
import { MetricsService } from 'src/modules/metrics/metrics.service';
import { emptyUsage } from './pricing/token-usage';
import { UsageRecorder } from './usage-recorder.service';
import type { UsageBatchWriter } from './usage.repository';
import type { UsageEvent } from './usage.types';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

/** Stands in for the database: stores batches, or fails while `down` / for poisoned ids. */
class FakeWriter implements UsageBatchWriter {
  readonly stored: UsageEvent[] = [];
  readonly batchSizes: number[] = [];
  readonly attemptsAt: number[] = [];
  down = false;
  /** Answers pings but refuses writes: disk full, or read-only after a failover. */
  refusingWrites = false;
  readonly poisoned = new Set<string>();

  async writeBatch(events: readonly UsageEvent[]): Promise<number> {
    this.attemptsAt.push(Date.now());
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (this.refusingWrites) throw new Error('could not extend file: No space left on device');
    if (events.some((e) => this.poisoned.has(e.requestId))) throw new Error('value too long');
    this.batchSizes.push(events.length);
    this.stored.push(...events);
    return events.length;
  }

  async ping(): Promise<void> {
    if (this.down) throw new Error('connect ECONNREFUSED');
  }

  ids(): string[] {
    return this.stored.map((e) => e.requestId);
  }
}

function event(i: number): UsageEvent {
  return {
    requestId: `req-${i}`,
    at: Date.now(),
    apiKeyId: 'key-a',
    accountId: 'acct-1',
    platform: 'claude',
    model: 'claude-sonnet-4',
    status: 200,
    outcome: 'ok',
    stream: false,
    usage: { ...emptyUsage(), inputTokens: 1, outputTokens: 1 },
    costMicros: 1,
    priceKnown: true,
    latencyMs: 1,
    ttfbMs: null,
    attempts: 1,
    errorCode: null,
  };
}

const ids = (from: number, to: number): string[] =>
  Array.from({ length: to - from }, (_, i) => `req-${from + i}`);

function setup(env: Record<string, string> = {}) {
  const config = new ConfigService(
    loadEnvironment({
      USAGE_BATCH_SIZE: '10',
      USAGE_FLUSH_INTERVAL_MS: '1000',
      USAGE_QUEUE_MAX: '100',
      SHUTDOWN_TIMEOUT_MS: '3000',
      ...env,
    }),
  );
  const metrics = new MetricsService();
  const writer = new FakeWriter();
  const recorder = new UsageRecorder(config, metrics, writer, new FixedRuntimeSettings(config.env));
  const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
    const found = metrics.registry.getSingleMetric(name);
    if (found === undefined) throw new Error(`no metric ${name}`);
    const { values } = await found.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
      .reduce((sum, v) => sum + v.value, 0);
  };
  return { recorder, writer, metric };
}

describe(UsageRecorder.name, () => {
  let warn: jest.SpyInstance;
  let error: jest.SpyInstance;

  beforeEach(() => {
    jest.useFakeTimers({ now: Date.parse('2025-03-09T10:00:00Z') });
    // The recorder's log lines are part of what is asserted; keep them off the test output.
    warn = jest.spyOn(appLogger, 'warn').mockImplementation(() => undefined);
    error = jest.spyOn(appLogger, 'error').mockImplementation(() => undefined);
    jest.spyOn(appLogger, 'info').mockImplementation(() => undefined);
  });
  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  describe('record', () => {
    it('should return before any write when a batch fills, and write it on the next turn', async () => {
      const { recorder, writer } = setup();
      for (let i = 0; i < 10; i++) recorder.record(event(i));
      expect(writer.attemptsAt).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(0);
      expect(writer.batchSizes).toEqual([10]);
      expect(writer.ids()).toEqual(ids(0, 10));
    });

    it("should keep the first waiting event's deadline when a full batch is written meanwhile", async () => {
      const { recorder, writer } = setup();
      recorder.record(event(0));
      await jest.advanceTimersByTimeAsync(600);
      for (let i = 1; i < 13; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(0);
      expect(writer.batchSizes).toEqual([10]);
      await jest.advanceTimersByTimeAsync(400);
      expect(writer.batchSizes).toEqual([10, 3]);
    });

    it('should write a partial batch when the flush interval has passed', async () => {
      const { recorder, writer } = setup();
      for (let i = 0; i < 3; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(999);
      expect(writer.stored).toHaveLength(0);
      await jest.advanceTimersByTimeAsync(1);
      expect(writer.batchSizes).toEqual([3]);
    });

    it('should not throw when the database is down', async () => {
      const { recorder, writer } = setup();
      writer.down = true;
      for (let i = 0; i < 30; i++) expect(() => recorder.record(event(i))).not.toThrow();
      await jest.advanceTimersByTimeAsync(10_000);
      expect(recorder.pending).toBe(30);
    });

    it('should keep events through an outage and write them in order when it ends', async () => {
      const { recorder, writer, metric } = setup();
      writer.down = true;
      for (let i = 0; i < 25; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(3000);
      expect(writer.stored).toHaveLength(0);
      expect(await metric('switchyard_usage_queue_depth')).toBe(25);
      writer.down = false;
      await jest.advanceTimersByTimeAsync(5000);
      expect(writer.ids()).toEqual(ids(0, 25));
      expect(recorder.pending).toBe(0);
      expect(await metric('switchyard_usage_events_written_total')).toBe(25);
      expect(await metric('switchyard_usage_events_dropped_total')).toBe(0);
    });

    it('should retry with doubling delays capped at 5 s when writes keep failing', async () => {
      const { recorder, writer } = setup();
      writer.down = true;
      recorder.record(event(0));
      await jest.advanceTimersByTimeAsync(30_000);
      const gaps = writer.attemptsAt.slice(1).map((at, i) => at - writer.attemptsAt[i]);
      expect(gaps.slice(0, 7)).toEqual([200, 400, 800, 1600, 3200, 5000, 5000]);
    });

    it('should drop the oldest events, count and log them once when the queue overflows', async () => {
      const { recorder, writer, metric } = setup();
      writer.down = true;
      for (let i = 0; i < 150; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(1000);
      expect(recorder.pending).toBe(100);
      expect(await metric('switchyard_usage_events_dropped_total', { reason: 'queue_full' })).toBe(
        50,
      );
      const dropLines = warn.mock.calls.filter((c) =>
        String(c[1]).includes('oldest events dropped'),
      );
      expect(dropLines).toHaveLength(1);
      writer.down = false;
      await jest.advanceTimersByTimeAsync(5000);
      expect(writer.ids()).toEqual(ids(50, 150));
    });

    it('should write the other events and drop only the refused one when a batch holds a bad event', async () => {
      const { recorder, writer, metric } = setup();
      writer.poisoned.add('req-4');
      for (let i = 0; i < 10; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(2000);
      expect(writer.ids()).toEqual(ids(0, 10).filter((id) => id !== 'req-4'));
      expect(await metric('switchyard_usage_events_dropped_total', { reason: 'rejected' })).toBe(1);
      recorder.record(event(10));
      await jest.advanceTimersByTimeAsync(1000);
      expect(writer.ids()).toContain('req-10');
    });
  });

  describe('record when the database refuses every write', () => {
    it('should keep every event when the database answers pings but stores nothing', async () => {
      const { recorder, writer, metric } = setup();
      writer.refusingWrites = true;
      for (let i = 0; i < 25; i++) recorder.record(event(i));
      await jest.advanceTimersByTimeAsync(30_000);
      expect(recorder.pending).toBe(25);
      expect(await metric('switchyard_usage_events_dropped_total')).toBe(0);
      writer.refusingWrites = false;
      await jest.advanceTimersByTimeAsync(5000);
      expect(writer.ids()).toEqual(ids(0, 25));
    });
  });

  describe('flush', () => {
    it('should write everything queued in batches of at most the batch size', async () => {
      const { recorder, writer } = setup({ USAGE_FLUSH_INTERVAL_MS: '60000' });
      for (let i = 0; i < 25; i++) recorder.record(event(i));
      await recorder.flush();
      expect(writer.ids()).toEqual(ids(0, 25));
      expect(writer.batchSizes.every((n) => n <= 10)).toBe(true);
    });

    it('should reject and keep the events when the database is down', async () => {
      const { recorder, writer } = setup();
      writer.down = true;
      recorder.record(event(0));
      await expect(recorder.flush()).rejects.toThrow('ECONNREFUSED');
      expect(recorder.pending).toBe(1);
    });
  });

  describe('onApplicationShutdown', () => {
    it('should write every queued event when the application shuts down', async () => {
      const { recorder, writer } = setup({ USAGE_FLUSH_INTERVAL_MS: '60000' });
      for (let i = 0; i < 95; i++) recorder.record(event(i));
      await recorder.onApplicationShutdown();
      expect(writer.ids()).toEqual(ids(0, 95));
    });

    it('should keep retrying during shutdown when the database comes back before the deadline', async () => {
      const { recorder, writer } = setup();
      writer.down = true;
      for (let i = 0; i < 5; i++) recorder.record(event(i));
      const done = recorder.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(1000);
      writer.down = false;
      await jest.advanceTimersByTimeAsync(1000);
      await done;
      expect(writer.ids()).toEqual(ids(0, 5));
    });

    it('should give up at SHUTDOWN_TIMEOUT_MS and count the lost events when the database stays down', async () => {
      const { recorder, writer, metric } = setup();
      writer.down = true;
      for (let i = 0; i < 5; i++) recorder.record(event(i));
      const done = recorder.onApplicationShutdown();
      await jest.advanceTimersByTimeAsync(3000);
      await done;
      expect(await metric('switchyard_usage_events_dropped_total', { reason: 'shutdown' })).toBe(5);
      expect(error).toHaveBeenCalledWith(
        expect.objectContaining({ lost: 5 }),
        expect.stringContaining('lost'),
      );
    });

    it('should still write an event recorded after the drain when the database is up', async () => {
      const { recorder, writer } = setup();
      await recorder.onApplicationShutdown();
      recorder.record(event(1));
      await jest.advanceTimersByTimeAsync(0);
      expect(writer.ids()).toEqual(['req-1']);
    });
  });
});
