import { randomFillSync } from 'node:crypto';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
/** rand_b (62 bits) rounded up to whole bytes; rand_a holds the in-millisecond counter. */
const RANDOM_BYTES_PER_ID = 8;
/** Random bytes are drawn in blocks, as randomUUID() does, not one system call per id. */
const POOL_SIZE = RANDOM_BYTES_PER_ID * 512;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;
let lastMs = -1;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, a 12-bit counter (`rand_a`, RFC 9562
 * method 1), then 62 random bits. Ids made later sort later, and within one millisecond in the
 * order this process made them: a table keyed by them (the request log, account health events)
 * appends at the end of its primary-key index instead of writing a random page of it per row.
 * A clock that steps back keeps the last millisecond, so the order still holds.
 */
export function timeOrderedId(now: number = Date.now()): string {
  let ms = Math.max(0, Math.min(Math.floor(now), 0xffff_ffff_ffff));
  if (ms <= lastMs) {
    ms = lastMs;
    sequence += 1;
    if (sequence > 0xfff) {
      // 4,096 ids in one millisecond: borrow the next one rather than lose the order.
      lastMs += 1;
      ms = lastMs;
      sequence = 0;
    }
  } else {
    lastMs = ms;
    sequence = 0;
  }
  if (offset + RANDOM_BYTES_PER_ID > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const r = offset;
  offset += RANDOM_BYTES_PER_ID;
  const high = Math.floor(ms / 0x1_0000);
  const low = ms % 0x1_0000;
  return (
    HEX[(high >>> 24) & 0xff] +
    HEX[(high >>> 16) & 0xff] +
    HEX[(high >>> 8) & 0xff] +
    HEX[high & 0xff] +
    '-' +
    HEX[low >>> 8] +
    HEX[low & 0xff] +
    '-' +
    HEX[0x70 | (sequence >>> 8)] +
    HEX[sequence & 0xff] +
    '-' +
    HEX[0x80 | (pool[r] & 0x3f)] +
    HEX[pool[r + 1]] +
    '-' +
    HEX[pool[r + 2]] +
    HEX[pool[r + 3]] +
    HEX[pool[r + 4]] +
    HEX[pool[r + 5]] +
    HEX[pool[r + 6]] +
    HEX[pool[r + 7]]
  );
}
