import {
  bucketCount,
  bucketStart,
  bucketStarts,
  DAY_MS,
  HOUR_MS,
  retentionHorizon,
  splitRange,
  splitRetained,
  type TimeRange,
} from './usage-range';

const t = (iso: string): number => Date.parse(iso);

/** Total milliseconds covered by a split, to check that the pieces tile the range exactly. */
function covered(split: ReturnType<typeof splitRange>): number {
  const pieces: TimeRange[] = [...split.hours, ...split.raw];
  if (split.days !== null) pieces.push(split.days);
  return pieces.reduce((sum, r) => sum + (r.to - r.from), 0);
}

describe('usage-range', () => {
  describe(bucketStart.name, () => {
    it('should floor to the UTC hour when the bucket is hour', () => {
      expect(bucketStart(t('2025-03-09T13:59:59.999Z'), 'hour')).toBe(t('2025-03-09T13:00:00Z'));
      expect(bucketStart(t('2025-03-09T13:00:00Z'), 'hour')).toBe(t('2025-03-09T13:00:00Z'));
    });

    it('should floor to UTC midnight when the bucket is day', () => {
      expect(bucketStart(t('2025-03-09T23:59:59.999Z'), 'day')).toBe(t('2025-03-09T00:00:00Z'));
      expect(bucketStart(t('2025-03-10T00:00:00Z'), 'day')).toBe(t('2025-03-10T00:00:00Z'));
    });
  });

  describe(splitRange.name, () => {
    it('should answer a sub-hour range from the request log only when it fills no whole hour', () => {
      const range = { from: t('2025-03-09T13:10:00Z'), to: t('2025-03-09T13:50:00Z') };
      expect(splitRange(range)).toEqual({ days: null, hours: [], raw: [range] });
    });

    it('should use hours and raw edges when the range fills whole hours but no whole day', () => {
      const split = splitRange({ from: t('2025-03-09T10:30:00Z'), to: t('2025-03-09T14:15:00Z') });
      expect(split).toEqual({
        days: null,
        hours: [{ from: t('2025-03-09T11:00:00Z'), to: t('2025-03-09T14:00:00Z') }],
        raw: [
          { from: t('2025-03-09T10:30:00Z'), to: t('2025-03-09T11:00:00Z') },
          { from: t('2025-03-09T14:00:00Z'), to: t('2025-03-09T14:15:00Z') },
        ],
      });
    });

    it('should use days in the middle, hours and minutes at the edges when the range spans days', () => {
      const range = { from: t('2025-03-07T22:45:00Z'), to: t('2025-03-10T02:20:00Z') };
      const split = splitRange(range);
      expect(split.days).toEqual({
        from: t('2025-03-08T00:00:00Z'),
        to: t('2025-03-10T00:00:00Z'),
      });
      expect(split.hours).toEqual([
        { from: t('2025-03-07T23:00:00Z'), to: t('2025-03-08T00:00:00Z') },
        { from: t('2025-03-10T00:00:00Z'), to: t('2025-03-10T02:00:00Z') },
      ]);
      expect(split.raw).toEqual([
        { from: t('2025-03-07T22:45:00Z'), to: t('2025-03-07T23:00:00Z') },
        { from: t('2025-03-10T02:00:00Z'), to: t('2025-03-10T02:20:00Z') },
      ]);
      expect(covered(split)).toBe(range.to - range.from);
    });

    it('should use only day buckets when the range is whole UTC days', () => {
      const range = { from: t('2025-03-01T00:00:00Z'), to: t('2025-04-01T00:00:00Z') };
      expect(splitRange(range)).toEqual({ days: range, hours: [], raw: [] });
    });

    it('should tile arbitrary ranges exactly when edges fall anywhere', () => {
      const start = t('2025-01-01T00:00:00Z');
      for (let i = 0; i < 200; i++) {
        const from = start + ((i * 7_919_777) % (5 * DAY_MS));
        const to = from + ((i * 104_729_351) % (9 * DAY_MS)) + 1;
        const split = splitRange({ from, to });
        expect(covered(split)).toBe(to - from);
        for (const h of split.hours) expect(h.from % HOUR_MS).toBe(0);
        if (split.days !== null) expect(split.days.from % DAY_MS).toBe(0);
      }
    });

    it('should return nothing when the range is empty', () => {
      expect(splitRange({ from: 10, to: 10 })).toEqual({ days: null, hours: [], raw: [] });
    });
  });

  describe(bucketStarts.name, () => {
    it('should list every bucket overlapping the range when its edges are unaligned', () => {
      const range = { from: t('2025-03-09T10:30:00Z'), to: t('2025-03-09T12:00:00Z') };
      expect(bucketStarts(range, 'hour')).toEqual([
        t('2025-03-09T10:00:00Z'),
        t('2025-03-09T11:00:00Z'),
      ]);
      expect(bucketCount(range, 'hour')).toBe(2);
      expect(bucketCount(range, 'day')).toBe(1);
    });
  });

  describe('retentionHorizon', () => {
    it('should be the UTC day start N days before today, and nothing for 0 days', () => {
      const now = t('2026-12-02T15:30:00Z');
      expect(retentionHorizon(now, 90)).toBe(t('2026-09-03T00:00:00Z'));
      expect(retentionHorizon(now, 0)).toBe(Number.NEGATIVE_INFINITY);
    });
  });

  describe('splitRetained', () => {
    const horizon = t('2026-03-10T00:00:00Z');

    it('should answer edge minutes before the horizon by their whole hour', () => {
      const range = { from: t('2026-03-08T10:20:00Z'), to: t('2026-03-10T05:40:00Z') };
      const { split, range: answered } = splitRetained(range, horizon);
      expect(answered).toEqual({ from: t('2026-03-08T10:00:00Z'), to: range.to });
      expect(split.raw).toEqual([{ from: t('2026-03-10T05:00:00Z'), to: range.to }]);
      expect(split.hours).toContainEqual({
        from: t('2026-03-08T10:00:00Z'),
        to: t('2026-03-08T11:00:00Z'),
      });
    });

    it('should widen a range inside one hour before the horizon to that hour', () => {
      const range = { from: t('2026-03-01T07:05:00Z'), to: t('2026-03-01T07:25:00Z') };
      const { split, range: answered } = splitRetained(range, horizon);
      expect(answered).toEqual({ from: t('2026-03-01T07:00:00Z'), to: t('2026-03-01T08:00:00Z') });
      expect(split).toEqual({ days: null, hours: [answered], raw: [] });
    });

    it('should change nothing after the horizon', () => {
      const range = { from: t('2026-03-11T07:05:00Z'), to: t('2026-03-12T09:25:00Z') };
      expect(splitRetained(range, horizon)).toEqual({ split: splitRange(range), range });
    });
  });
});
