import { ScrapeCache } from './scrape-cache';

describe(ScrapeCache.name, () => {
  let now: number;
  let reads: number;
  let next: () => Promise<number>;
  let cache: ScrapeCache<number>;

  beforeEach(() => {
    now = 0;
    reads = 0;
    next = () => Promise.resolve(42);
    cache = new ScrapeCache(
      () => {
        reads += 1;
        return next();
      },
      5000,
      -1,
      () => now,
    );
  });

  describe('get', () => {
    it('should read once for concurrent scrapes and reuse the value within the TTL', async () => {
      const values = await Promise.all([cache.get(), cache.get(), cache.get()]);
      now = 4999;
      expect([...values, await cache.get()]).toEqual([42, 42, 42, 42]);
      expect(reads).toBe(1);
    });

    it('should read again once the TTL has passed', async () => {
      await cache.get();
      now = 5000;
      next = () => Promise.resolve(7);
      expect(await cache.get()).toBe(7);
      expect(reads).toBe(2);
    });

    it('should keep the last value when a read fails', async () => {
      await cache.get();
      now = 6000;
      next = () => Promise.reject(new Error('database down'));
      expect(await cache.get()).toBe(42);
      expect(reads).toBe(2);
    });
  });
});
