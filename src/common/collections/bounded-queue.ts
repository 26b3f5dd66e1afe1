/**
 * A FIFO that never holds more than `maxSize` items: adding to a full queue evicts the oldest,
 * and the caller is told how many went. A growable ring buffer, so evicting and taking from the
 * front stay O(1) however long an outage fills it (Array#shift copies the whole array).
 */
export class BoundedQueue<T> {
  private buffer: (T | undefined)[];
  private head = 0;
  private length = 0;

  constructor(readonly maxSize: number) {
    if (!Number.isSafeInteger(maxSize) || maxSize < 1) {
      throw new RangeError(`maxSize must be a positive integer, got ${maxSize}`);
    }
    this.buffer = new Array<T | undefined>(Math.min(maxSize, 1024));
  }

  get size(): number {
    return this.length;
  }

  /** Appends an item; returns how many of the oldest were evicted to make room (0 or 1). */
  push(item: T): number {
    let evicted = 0;
    if (this.length === this.maxSize) {
      this.dropFront(1);
      evicted = 1;
    }
    this.ensureCapacity(this.length + 1);
    this.buffer[(this.head + this.length) % this.buffer.length] = item;
    this.length += 1;
    return evicted;
  }

  /** Removes and returns up to n items from the front, oldest first. */
  take(n: number): T[] {
    const taken: T[] = [];
    const count = Math.min(n, this.length);
    for (let i = 0; i < count; i++) {
      const index = (this.head + i) % this.buffer.length;
      taken.push(this.buffer[index] as T);
      this.buffer[index] = undefined;
    }
    this.head = (this.head + count) % this.buffer.length;
    this.length -= count;
    return taken;
  }

  /**
   * Puts items back at the front in their order (a batch that could not be written). When that
   * overfills the queue the oldest overall are evicted, which are the first of these items.
   * Returns the number evicted.
   */
  putBack(items: readonly T[]): number {
    const evicted = Math.max(0, this.length + items.length - this.maxSize);
    const kept = items.slice(evicted);
    this.ensureCapacity(this.length + kept.length);
    for (let i = kept.length - 1; i >= 0; i--) {
      this.head = (this.head - 1 + this.buffer.length) % this.buffer.length;
      this.buffer[this.head] = kept[i];
      this.length += 1;
    }
    return evicted;
  }

  private dropFront(n: number): void {
    for (let i = 0; i < n; i++) this.buffer[(this.head + i) % this.buffer.length] = undefined;
    this.head = (this.head + n) % this.buffer.length;
    this.length -= n;
  }

  private ensureCapacity(needed: number): void {
    if (needed <= this.buffer.length) return;
    let capacity = this.buffer.length;
    while (capacity < needed) capacity = Math.min(capacity * 2, this.maxSize);
    const next = new Array<T | undefined>(capacity);
    for (let i = 0; i < this.length; i++)
      next[i] = this.buffer[(this.head + i) % this.buffer.length];
    this.buffer = next;
    this.head = 0;
  }
}
