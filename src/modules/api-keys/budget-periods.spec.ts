import { dailyPeriod, totalPeriod, weeklyPeriod, weekStart } from './budget-periods';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('budget-periods', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  describe('dailyPeriod', () => {
    it('should name the UTC date and reset at the next UTC midnight', () => {
      jest.setSystemTime(new Date('2025-01-31T23:59:59.999Z'));

      expect(dailyPeriod(Date.now())).toEqual({
        period: 'daily',
        id: '2025-01-31',
        startMs: Date.parse('2025-01-31T00:00:00.000Z'),
        resetAtMs: Date.parse('2025-02-01T00:00:00.000Z'),
        ttlMs: 2 * DAY,
      });
    });

    it('should start a new period when the clock passes midnight', () => {
      jest.setSystemTime(new Date('2025-01-31T23:59:59.999Z'));
      const before = dailyPeriod(Date.now()).id;

      jest.advanceTimersByTime(1);

      expect(dailyPeriod(Date.now()).id).not.toBe(before);
      expect(dailyPeriod(Date.now()).id).toBe('2025-02-01');
    });

    it('should give the right period when asked for an earlier day after a later one', () => {
      const later = dailyPeriod(Date.parse('2025-03-10T12:00:00Z'));
      const earlier = dailyPeriod(Date.parse('2025-03-09T12:00:00Z'));

      expect(later.id).toBe('2025-03-10');
      expect(earlier.id).toBe('2025-03-09');
      expect(Object.isFrozen(earlier)).toBe(true);
    });
  });

  describe('weekStart weekday', () => {
    it('should agree with getUTCDay for every day of several years and every reset day', () => {
      for (
        let day = Date.parse('1969-12-20T00:00:00Z');
        day < Date.parse('1973-01-01');
        day += DAY
      ) {
        for (let resetDay = 0; resetDay < 7; resetDay++) {
          const start = weekStart(day + 5 * HOUR, resetDay, 3);
          expect(new Date(start).getUTCDay()).toBe(resetDay);
          expect(day + 5 * HOUR - start).toBeLessThan(7 * DAY);
          expect(day + 5 * HOUR - start).toBeGreaterThanOrEqual(0);
        }
      }
    });
  });

  describe('weeklyPeriod memo', () => {
    it('should keep periods of different reset days and hours apart', () => {
      const now = Date.parse('2025-01-29T12:00:00Z');

      expect(weeklyPeriod(now, 1, 0).id).toBe('2025-01-27T00');
      expect(weeklyPeriod(now, 3, 18).id).toBe('2025-01-22T18');
      expect(weeklyPeriod(now, 1, 0).id).toBe('2025-01-27T00');
      expect(weeklyPeriod(now + 7 * DAY, 1, 0).id).toBe('2025-02-03T00');
    });
  });

  describe('weekStart', () => {
    it('should start weeks on Monday 00:00 UTC when nothing is configured', () => {
      // Friday 2025-01-31.
      jest.setSystemTime(new Date('2025-01-31T12:00:00Z'));

      expect(new Date(weekStart(Date.now())).toISOString()).toBe('2025-01-27T00:00:00.000Z');
    });

    it('should belong to the new week from the reset instant on when it is the reset day', () => {
      jest.setSystemTime(new Date('2025-01-27T00:00:00Z'));

      expect(weekStart(Date.now())).toBe(Date.now());
    });

    it('should count from the previous week when it is the reset day before the reset hour', () => {
      // Sunday reset at 18:00; now is Sunday 17:59.
      jest.setSystemTime(new Date('2025-02-02T17:59:00Z'));

      expect(new Date(weekStart(Date.now(), 0, 18)).toISOString()).toBe('2025-01-26T18:00:00.000Z');

      jest.advanceTimersByTime(60_000);

      expect(new Date(weekStart(Date.now(), 0, 18)).toISOString()).toBe('2025-02-02T18:00:00.000Z');
    });

    it('should never be later than now nor a week or more before it', () => {
      jest.setSystemTime(new Date('2025-03-01T00:00:00Z'));
      for (let step = 0; step < 24 * 15; step += 1) {
        const now = Date.now();
        for (let day = 0; day < 7; day += 1) {
          for (const hour of [0, 9, 23]) {
            const start = weekStart(now, day, hour);
            expect(start).toBeLessThanOrEqual(now);
            expect(now - start).toBeLessThan(7 * DAY);
            expect(new Date(start).getUTCDay()).toBe(day);
            expect(new Date(start).getUTCHours()).toBe(hour);
          }
        }
        jest.advanceTimersByTime(HOUR + 7 * 60_000);
      }
    });
  });

  describe('weeklyPeriod', () => {
    it('should name the week by its start hour and reset seven days later', () => {
      jest.setSystemTime(new Date('2025-01-29T08:30:00Z'));

      expect(weeklyPeriod(Date.now(), 3, 9)).toEqual({
        period: 'weekly',
        id: '2025-01-22T09',
        startMs: Date.parse('2025-01-22T09:00:00Z'),
        resetAtMs: Date.parse('2025-01-29T09:00:00Z'),
        ttlMs: 8 * DAY,
      });
    });
  });

  describe('totalPeriod', () => {
    it('should never reset nor expire', () => {
      expect(totalPeriod()).toEqual({
        period: 'total',
        id: 'all',
        startMs: 0,
        resetAtMs: null,
        ttlMs: undefined,
      });
    });
  });
});
