/**
 * A value read for a scrape, kept for `ttlMs` and shared by concurrent scrapes, so gauges that
 * ask SQL or Redis cost at most one query per TTL however often (and by however many scrapers)
 * `/metrics` is read. A failed read keeps the last value; `read` should not throw for a failure
 * it can report itself (dependency up/down).
 */
export class ScrapeCache<T> {
  private value: T;
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<T> | null = null;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly ttlMs: number,
    initial: T,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.value = initial;
  }

  get(): Promise<T> {
    if (this.now() - this.readAt < this.ttlMs) return Promise.resolve(this.value);
    this.reading ??= this.read()
      .then(
        (value) => {
          this.value = value;
          return value;
        },
        () => this.value,
      )
      .finally(() => {
        this.readAt = this.now();
        this.reading = null;
      });
    return this.reading;
  }
}
