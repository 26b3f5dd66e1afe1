import { CoordinationException, CoordinationExceptionCode } from './coordination.exception';
import type { AdmitRequest, SettleRequest } from './coordinator.port';

/**
 * Argument checks shared by both implementations, so a bad request fails the same way in
 * process as it would in Redis (INCRBY and PX accept only integers) and never half-applies.
 */

function invalid(message: string): CoordinationException {
  return new CoordinationException(CoordinationExceptionCode.INVALID_ARGUMENT, message);
}

export function assertInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw invalid(`${what} must be a safe integer, got ${value}`);
  }
}

export function assertTtl(ttlMs: number, what = 'ttlMs'): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw invalid(`${what} must be a positive integer, got ${ttlMs}`);
  }
}

/** What Redis Cluster hashes: the first non-empty `{...}` of a key, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

/**
 * The keys of one atomic call must hash to one Redis Cluster slot. Checked everywhere (in
 * process and on a single Redis too), so a call that would fail only in a Cluster fails in every
 * test run instead.
 */
function assertOneSlot(keys: string[], what: string): void {
  const tags = new Set(keys.map(hashTagOf));
  if (tags.size > 1) {
    throw invalid(
      `${what} keys must share one hash tag ({...}) to stay in one Redis Cluster slot, got ` +
        keys.join(', '),
    );
  }
}

export function assertAdmitRequest(request: AdmitRequest): void {
  request.counters.forEach((counter, i) => {
    assertInteger(counter.amount, `counters[${i}].amount`);
    if (counter.limit !== undefined) assertInteger(counter.limit, `counters[${i}].limit`);
    if (counter.ttlMs !== undefined) assertTtl(counter.ttlMs, `counters[${i}].ttlMs`);
  });
  if (request.lease) {
    if (!Number.isSafeInteger(request.lease.limit) || request.lease.limit < 0) {
      throw invalid(`lease.limit must be a non-negative integer, got ${request.lease.limit}`);
    }
    assertTtl(request.lease.ttlMs, 'lease.ttlMs');
  }
  if (request.touch) assertTtl(request.touch.ttlMs, 'touch.ttlMs');
  const keys = request.counters.map((counter) => counter.key);
  if (request.lease) keys.push(request.lease.key);
  if (request.touch) keys.push(request.touch.key);
  assertOneSlot(keys, 'admit');
}

export function assertSettleRequest(request: SettleRequest): void {
  request.counters.forEach((counter, i) => {
    assertInteger(counter.amount, `counters[${i}].amount`);
    if (counter.ttlMs !== undefined) assertTtl(counter.ttlMs, `counters[${i}].ttlMs`);
    if (counter.generation !== undefined) {
      assertInteger(counter.unreserved ?? Number.NaN, `counters[${i}].unreserved`);
    }
  });
  const keys = request.counters.map((counter) => counter.key);
  if (request.lease) keys.push(request.lease.key);
  assertOneSlot(keys, 'settle');
}
