import { Counter, Histogram, Registry } from 'prom-client';
import { LocalCounter, LocalHistogram } from './local-metrics';

/** The exposition lines, label order normalised (prom-client prints `le` first). */
async function lines(registry: Registry): Promise<string[]> {
  const text = await registry.metrics();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) =>
      line.replace(/\{([^}]*)\}/, (_, inner: string) => `{${inner.split(',').sort().join(',')}}`),
    )
    .sort();
}

describe('local metrics', () => {
  it('should print what prom-client prints for the same counter increments', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const options = { name: 'c_total', help: 'a counter', labelNames: ['a', 'b'] as const };
    const counter = new Counter({ ...options, registers: [theirs] });
    const local = new LocalCounter({ ...options, registers: [ours] });
    counter.inc({ a: 'x', b: 'y' });
    counter.inc({ a: 'x', b: 'y' }, 2.5);
    counter.inc({ a: 'z', b: 'y' });
    local.labels({ a: 'x', b: 'y' }).inc();
    local.labels({ a: 'x', b: 'y' }).inc(2.5);
    local.labels({ a: 'z', b: 'y' }).inc();
    expect(await lines(ours)).toEqual(await lines(theirs));
  });

  it('should print what prom-client prints for the same histogram observations', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const options = {
      name: 'h_seconds',
      help: 'a histogram',
      labelNames: ['a'] as const,
      buckets: [0.1, 1, 10],
    };
    const histogram = new Histogram({ ...options, registers: [theirs] });
    const local = new LocalHistogram({ ...options, registers: [ours] });
    for (const value of [0.05, 0.1, 0.5, 1, 3, 10, 11, 100]) {
      histogram.observe({ a: 'x' }, value);
      local.labels({ a: 'x' }).observe(value);
    }
    histogram.observe({ a: 'y' }, 0.2);
    local.labels({ a: 'y' }).observe(0.2);
    expect(await lines(ours)).toEqual(await lines(theirs));
  });

  it('should print HELP and TYPE of a metric without series, and drop a removed series', async () => {
    const registry = new Registry();
    const counter = new LocalCounter({
      name: 'r_total',
      help: 'removable',
      labelNames: ['a'] as const,
      registers: [registry],
    });
    expect(await registry.metrics()).toContain('# HELP r_total removable\n# TYPE r_total counter');
    counter.labels({ a: 'x' }).inc();
    counter.remove({ a: 'x' });
    expect(await registry.metrics()).not.toContain('r_total{');
  });
});
