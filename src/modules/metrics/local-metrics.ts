import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the hot path, registered in the prom-client registry and printed
 * by it like its own. Why not prom-client's: its labelled children (`counter.labels(...)`) still
 * validate and hash their labels on every `inc()` / `observe()`; measured here, about a
 * microsecond per call, several per relayed request. A series of these is a plain object the
 * caller resolves once and keeps: recording is an addition (and, for a histogram, a scan of a
 * dozen bounds). Values are read only when Prometheus scrapes.
 *
 * Label values are the caller's to bound, as with prom-client.
 */
interface LocalMetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  registers: Registry[];
}

type Labels<L extends string> = Record<L, string>;

/** What the registry prints: prom-client's metric object shape (its typings name it otherwise). */
export interface LocalMetricSnapshot {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { metricName?: string; labels: Record<string, string | number>; value: number }[];
}

abstract class LocalMetric<L extends string, S extends { labels: Labels<L> }> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  abstract readonly type: 'counter' | 'histogram';
  private readonly labelNames: readonly L[];
  /** Label values joined by NUL -> series. */
  protected readonly series = new Map<string, S>();

  constructor(options: LocalMetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    // The registry reads name, help, type and get() (and reset()): the Metric interface's part
    // it uses.
    for (const registry of options.registers) registry.registerMetric(this as unknown as Metric);
  }

  /** The series of these labels, created on first use; keep it and record into it. */
  labels(labels: Labels<L>): S {
    const key = this.key(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = this.create({ ...labels });
      this.series.set(key, series);
    }
    return series;
  }

  /** Drops a series from the output (a deleted account's, say). */
  remove(labels: Labels<L>): void {
    this.series.delete(this.key(labels));
  }

  /** Zeroes every series in place (children held by callers stay valid). */
  abstract reset(): void;

  abstract get(): Promise<LocalMetricSnapshot>;

  protected abstract create(labels: Labels<L>): S;

  private key(labels: Labels<L>): string {
    let key = '';
    for (const name of this.labelNames) {
      const value = labels[name];
      if (typeof value !== 'string') throw new Error(`${this.name}: label ${name} is missing`);
      key += `${value}\u0000`;
    }
    return key;
  }
}

export class LocalCounterSeries<L extends string> {
  value = 0;

  constructor(readonly labels: Labels<L>) {}

  inc(amount = 1): void {
    this.value += amount;
  }
}

/** A monotonic counter; `inc` takes non-negative amounts (the caller's contract, not checked). */
export class LocalCounter<L extends string> extends LocalMetric<L, LocalCounterSeries<L>> {
  readonly type = 'counter' as const;

  reset(): void {
    for (const series of this.series.values()) series.value = 0;
  }

  get(): Promise<LocalMetricSnapshot> {
    const values: LocalMetricSnapshot['values'] = [];
    for (const series of this.series.values()) {
      values.push({ value: series.value, labels: series.labels });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'counter',
      aggregator: 'sum',
      values,
    });
  }

  protected create(labels: Labels<L>): LocalCounterSeries<L> {
    return new LocalCounterSeries(labels);
  }
}

export class LocalHistogramSeries<L extends string> {
  /** Observations per bucket (not cumulative); the last slot is above the largest bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels<L>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i] = this.counts[i] + 1;
    this.sum += value;
    this.count += 1;
  }
}

export class LocalHistogram<L extends string> extends LocalMetric<L, LocalHistogramSeries<L>> {
  readonly type = 'histogram' as const;
  private readonly bounds: readonly number[];

  constructor(options: LocalMetricOptions<L> & { buckets: readonly number[] }) {
    super(options);
    this.bounds = [...options.buckets].sort((a, b) => a - b);
  }

  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }

  get(): Promise<LocalMetricSnapshot> {
    const values: LocalMetricSnapshot['values'] = [];
    const bucket = `${this.name}_bucket`;
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += series.counts[i];
        values.push({ metricName: bucket, labels: { ...series.labels, le }, value: cumulative });
      });
      values.push(
        { metricName: bucket, labels: { ...series.labels, le: '+Inf' }, value: series.count },
        { metricName: `${this.name}_sum`, labels: series.labels, value: series.sum },
        { metricName: `${this.name}_count`, labels: series.labels, value: series.count },
      );
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: 'histogram',
      aggregator: 'sum',
      values,
    });
  }

  protected create(labels: Labels<L>): LocalHistogramSeries<L> {
    return new LocalHistogramSeries(labels, this.bounds);
  }
}
