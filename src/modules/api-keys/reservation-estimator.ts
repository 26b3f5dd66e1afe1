/**
 * The `estimate` reservation policy: a key reserves the share of a request's worst case that its
 * recent requests actually cost, instead of the whole worst case.
 *
 * Kept per key, in process: an exponentially weighted average of actual / worst-case cost over
 * the key's finished requests (each instance learns from the requests it serves). A key with no
 * history yet starts from PRIOR_RATIO.
 *
 * The bound: every admitted request still fits its reservation under the cap, and a request can
 * cost at most its worst case, so recorded spend exceeds a cap by at most the sum, over the
 * requests in flight when the cap is reached, of (worst case - reservation): less than one
 * worst-case request per request in flight. A concurrency limit on the key bounds that number.
 */

/** Weight of the newest request in the average: about the last ten requests count. */
export const ESTIMATE_ALPHA = 0.2;
/**
 * Share of the worst case reserved before a key has history. Claude Code asks for 32k-64k
 * max_tokens and typically uses a few hundred to a few thousand, with most of its prompt read
 * from the cache: half of the worst case is generous for it and lets a $1 key serve a $1.73
 * worst-case request.
 */
export const PRIOR_RATIO = 0.5;
/** Keys remembered; beyond, the least recently updated are forgotten (they restart at the prior). */
const MAX_KEYS = 10_000;

export class ReservationEstimator {
  private readonly ratios = new Map<string, number>();

  constructor(private readonly maxKeys = MAX_KEYS) {}

  /** The current actual/worst ratio of a key, PRIOR_RATIO without history. */
  ratio(keyId: string): number {
    return this.ratios.get(keyId) ?? PRIOR_RATIO;
  }

  /** Micro-dollars to reserve for a request whose worst case is `worstMicros`. */
  reserve(keyId: string, worstMicros: number): number {
    if (!(worstMicros > 0)) return 0;
    return Math.min(worstMicros, Math.max(1, Math.ceil(worstMicros * this.ratio(keyId))));
  }

  /** Learns from a finished request that reached an upstream. */
  observe(keyId: string, worstMicros: number, actualMicros: number): void {
    if (!(worstMicros > 0) || !Number.isFinite(actualMicros) || actualMicros < 0) return;
    const sample = Math.min(1, actualMicros / worstMicros);
    const previous = this.ratios.get(keyId);
    const next = (previous ?? PRIOR_RATIO) + ESTIMATE_ALPHA * (sample - (previous ?? PRIOR_RATIO));
    // Re-inserted so the map's order is least recently updated first.
    this.ratios.delete(keyId);
    this.ratios.set(keyId, next);
    if (this.ratios.size > this.maxKeys) {
      this.ratios.delete(this.ratios.keys().next().value as string);
    }
  }
}
