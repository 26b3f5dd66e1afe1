import { randomBytes } from 'node:crypto';

let lastMs = -1;
let sequence = 0;

/**
 * A UUIDv7-shaped id (36 characters) that sorts by creation time, and within one millisecond by
 * creation order in this process: the 12 `rand_a` bits hold a counter.
 */
export function timeOrderedId(now: number = Date.now()): string {
  let ms = Math.floor(now);
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      // 4096 ids in one millisecond: borrow the next millisecond rather than lose the order.
      lastMs += 1;
      ms = lastMs;
      sequence = 0;
    }
  } else {
    lastMs = ms;
    sequence = 0;
  }
  const hex = ms.toString(16).padStart(12, '0').slice(-12);
  const random = randomBytes(8);
  random[0] = ((random[0] ?? 0) & 0x3f) | 0x80; // RFC 9562 variant
  const tail = random.toString('hex');
  const seq = (0x7000 | sequence).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${seq}-${tail.slice(0, 4)}-${tail.slice(4, 16)}`;
}
