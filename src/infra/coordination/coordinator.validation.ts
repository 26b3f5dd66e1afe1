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
}

export function assertSettleRequest(request: SettleRequest): void {
  request.counters.forEach((counter, i) => {
    assertInteger(counter.amount, `counters[${i}].amount`);
    if (counter.ttlMs !== undefined) assertTtl(counter.ttlMs, `counters[${i}].ttlMs`);
    if (counter.generation !== undefined) {
      assertInteger(counter.unreserved ?? Number.NaN, `counters[${i}].unreserved`);
    }
  });
}
