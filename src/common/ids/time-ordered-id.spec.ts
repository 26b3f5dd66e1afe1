import type { timeOrderedId as TimeOrderedId } from './time-ordered-id';

let timeOrderedId: typeof TimeOrderedId;

// The counter is module state: each test starts from a fresh module, as a fresh process would.
beforeEach(() => {
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ({ timeOrderedId } = require('./time-ordered-id') as { timeOrderedId: typeof TimeOrderedId });
  });
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function millisOf(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

describe('timeOrderedId', () => {
  it('should be a version 7 UUID whose first 48 bits are the given milliseconds', () => {
    const now = Date.parse('2026-11-22T19:58:15.062Z');

    const id = timeOrderedId(now);

    expect(id).toMatch(UUID_V7);
    expect(millisOf(id)).toBe(now);
  });

  it('should sort ids of later milliseconds after earlier ones', () => {
    const start = Date.parse('2025-01-01T00:00:00Z');
    const ids = Array.from({ length: 2000 }, (_, i) => timeOrderedId(start + i * 37));

    expect([...ids].sort()).toEqual(ids);
  });

  it('should not repeat an id within one millisecond across many draws', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 100_000 }, () => timeOrderedId(now)));

    expect(ids.size).toBe(100_000);
    for (const id of [...ids].slice(0, 1000)) expect(id).toMatch(UUID_V7);
  });

  it('should sort ids made within one millisecond in the order they were made', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    const ids = Array.from({ length: 5000 }, () => timeOrderedId(now));

    expect([...ids].sort()).toEqual(ids);
    expect(millisOf(ids[0] ?? '')).toBe(now);
    // Past 4,096 in one millisecond the next millisecond is borrowed.
    expect(millisOf(ids[4999] ?? '')).toBe(now + 1);
  });

  it('should keep the order when the clock steps back', () => {
    const now = Date.parse('2031-01-01T00:00:00Z');
    const first = timeOrderedId(now);
    const second = timeOrderedId(now - 10_000);

    expect(second > first).toBe(true);
  });

  it('should use the current time when none is given', () => {
    const before = Date.now();
    const id = timeOrderedId();

    expect(millisOf(id)).toBeGreaterThanOrEqual(before);
    expect(millisOf(id)).toBeLessThanOrEqual(Date.now());
  });
});
