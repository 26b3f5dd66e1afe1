/**
 * Limits one instance applies to requests before their bodies are read: a budget of body bytes
 * being read, parsed and admitted at once (a burst of large bodies cannot exhaust memory), and
 * each key's concurrency limit counted locally (a key cannot hold more bodies in memory here
 * than it may have requests in flight anywhere). Both are plain counters on the event loop.
 */
export class InboundLimits {
  private bodyBytes = 0;
  private peak = 0;
  private readonly keys = new Map<string, number>();

  constructor(readonly maxBodyBytes: number) {}

  /** Bytes of request bodies held by requests not yet admitted. */
  get inFlightBodyBytes(): number {
    return this.bodyBytes;
  }

  /** The most body bytes held at once since start or resetPeak() (tests and diagnostics). */
  get peakBodyBytes(): number {
    return this.peak;
  }

  resetPeak(): void {
    this.peak = this.bodyBytes;
  }

  /** Requests of this key between authentication and their end, on this instance. */
  activeOf(keyId: string): number {
    return this.keys.get(keyId) ?? 0;
  }

  tryReserveBody(bytes: number): boolean {
    if (this.bodyBytes + bytes > this.maxBodyBytes) return false;
    this.bodyBytes += bytes;
    if (this.bodyBytes > this.peak) this.peak = this.bodyBytes;
    return true;
  }

  releaseBody(bytes: number): void {
    this.bodyBytes = Math.max(0, this.bodyBytes - bytes);
  }

  tryEnterKey(keyId: string, limit: number): boolean {
    const active = this.keys.get(keyId) ?? 0;
    if (active >= limit) return false;
    this.keys.set(keyId, active + 1);
    return true;
  }

  leaveKey(keyId: string): void {
    const active = this.keys.get(keyId) ?? 0;
    // Entries go when they reach zero, so the map holds only keys with requests in flight.
    if (active <= 1) this.keys.delete(keyId);
    else this.keys.set(keyId, active - 1);
  }
}
