/**
 * Time ranges and aggregate buckets. Buckets are aligned to UTC: an hour bucket starts at a whole
 * UTC hour, a day bucket at 00:00 UTC. Epoch milliseconds have no leap seconds, so flooring to a
 * multiple of the bucket length is exact.
 */

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const USAGE_BUCKETS = ['hour', 'day'] as const;
export type UsageBucket = (typeof USAGE_BUCKETS)[number];

/** Half-open range of epoch milliseconds: `from <= at < to`. */
export interface TimeRange {
  from: number;
  to: number;
}

export function bucketLength(bucket: UsageBucket): number {
  return bucket === 'hour' ? HOUR_MS : DAY_MS;
}

/** Start of the UTC bucket holding `at`. */
export function bucketStart(at: number, bucket: UsageBucket): number {
  const length = bucketLength(bucket);
  return Math.floor(at / length) * length;
}

function ceilTo(at: number, length: number): number {
  return Math.ceil(at / length) * length;
}

/**
 * A range cut into the pieces that the cheapest exact source can answer: whole UTC days from the
 * day aggregates, whole hours at either side from the hour aggregates, and the minutes at either
 * edge that fill no whole hour from the request log. The pieces are disjoint and cover the range
 * exactly, so totals summed over them equal the request log's for any range.
 */
export interface RangeSplit {
  days: TimeRange | null;
  hours: TimeRange[];
  raw: TimeRange[];
}

export function splitRange({ from, to }: TimeRange): RangeSplit {
  const split: RangeSplit = { days: null, hours: [], raw: [] };
  if (from >= to) return split;
  const hourFrom = ceilTo(from, HOUR_MS);
  const hourTo = bucketStart(to, 'hour');
  if (hourFrom >= hourTo) {
    split.raw.push({ from, to });
    return split;
  }
  if (from < hourFrom) split.raw.push({ from, to: hourFrom });
  if (hourTo < to) split.raw.push({ from: hourTo, to });
  const dayFrom = ceilTo(hourFrom, DAY_MS);
  const dayTo = bucketStart(hourTo, 'day');
  if (dayFrom >= dayTo) {
    split.hours.push({ from: hourFrom, to: hourTo });
    return split;
  }
  split.days = { from: dayFrom, to: dayTo };
  if (hourFrom < dayFrom) split.hours.push({ from: hourFrom, to: dayFrom });
  if (dayTo < hourTo) split.hours.push({ from: dayTo, to: hourTo });
  return split;
}

/** Starts of every bucket overlapping the range, oldest first. */
export function bucketStarts({ from, to }: TimeRange, bucket: UsageBucket): number[] {
  const length = bucketLength(bucket);
  const starts: number[] = [];
  for (let start = bucketStart(from, bucket); start < to; start += length) starts.push(start);
  return starts;
}

/** Number of buckets overlapping the range, without building them (to refuse huge series). */
export function bucketCount({ from, to }: TimeRange, bucket: UsageBucket): number {
  if (from >= to) return 0;
  const length = bucketLength(bucket);
  return (bucketStart(to - 1, bucket) - bucketStart(from, bucket)) / length + 1;
}

/**
 * Start of the period whose request-log rows REQUEST_LOG_RETENTION_DAYS keeps: a UTC day start,
 * `days` whole days before today's. Rows before it may have been pruned (their aggregates stay).
 * Minus infinity when nothing is pruned (0 days).
 */
export function retentionHorizon(now: number, days: number): number {
  return days > 0 ? bucketStart(now, 'day') - days * DAY_MS : Number.NEGATIVE_INFINITY;
}

/**
 * The split of a range when request-log rows before `horizon` (a UTC day start, see
 * retentionHorizon) may have been pruned. A minutes piece before the horizon cannot be read from
 * the log any more: it is answered by its whole hour from the hour aggregates, so the range
 * answered widens to that hour; `range` is the range the pieces cover. Pieces never straddle the
 * horizon: a minutes piece lies inside one hour and the horizon is a whole hour. Whether the rows
 * were pruned yet or not, the answer is the same.
 */
export function splitRetained(
  range: TimeRange,
  horizon: number,
): { split: RangeSplit; range: TimeRange } {
  const split = splitRange(range);
  if (split.raw.every((piece) => piece.from >= horizon)) return { split, range };
  const answered = { ...range };
  const raw: TimeRange[] = [];
  for (const piece of split.raw) {
    if (piece.from >= horizon) {
      raw.push(piece);
      continue;
    }
    const hour = bucketStart(piece.from, 'hour');
    split.hours.push({ from: hour, to: hour + HOUR_MS });
    answered.from = Math.min(answered.from, hour);
    answered.to = Math.max(answered.to, hour + HOUR_MS);
  }
  split.raw = raw;
  return { split, range: answered };
}
