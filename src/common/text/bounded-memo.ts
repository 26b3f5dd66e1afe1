/**
 * A memo for results keyed by client-chosen strings (model names, session ids): bounded by
 * entries and by the characters its keys hold, and keys longer than a limit are never kept, so
 * a stream of distinct or huge strings cannot grow the heap. Full: the oldest entries go first.
 */
export interface BoundedMemoLimits {
  maxEntries: number;
  /** Keys longer than this (UTF-16 code units) are computed every time, never stored. */
  maxKeyLength: number;
  /** Sum of stored key lengths (UTF-16 code units; about twice as many bytes). */
  maxKeyChars: number;
}

export class BoundedMemo<V> {
  private readonly entries = new Map<string, V>();
  private chars = 0;

  constructor(private readonly limits: BoundedMemoLimits) {}

  get size(): number {
    return this.entries.size;
  }

  /** Characters held by the stored keys. */
  get keyChars(): number {
    return this.chars;
  }

  get(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** Returns the stored (or computed) value for key, computing it at most once while kept. */
  getOrCompute(key: string, compute: (key: string) => V): V {
    const known = this.entries.get(key);
    if (known !== undefined || this.entries.has(key)) return known as V;
    const value = compute(key);
    this.set(key, value);
    return value;
  }

  set(key: string, value: V): void {
    const { maxEntries, maxKeyLength, maxKeyChars } = this.limits;
    if (key.length > maxKeyLength || this.entries.has(key)) return;
    while (
      this.entries.size > 0 &&
      (this.entries.size >= maxEntries || this.chars + key.length > maxKeyChars)
    ) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
    this.entries.set(key, value);
    this.chars += key.length;
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }
}
