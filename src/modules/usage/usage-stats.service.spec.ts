import { EnvironmentSchema } from 'src/config/environment.schema';
import type { UsageStatsRepository } from './usage-stats.repository';
import { MAX_SERIES_POINTS, UsageStatsService } from './usage-stats.service';
import { UsageExceptionCode } from './usage.exception';
import { FixedRuntimeSettings } from 'src/modules/settings/testing/fixed-runtime-settings';

const DAY0 = Date.parse('2025-03-08T00:00:00Z');
const HOUR = 3_600_000;

/** Records what the service asks for; answers with no data. */
function fakeRepository() {
  return {
    aggregateTotals: jest.fn().mockResolvedValue([]),
    requestLogTotals: jest.fn().mockResolvedValue([]),
    series: jest.fn().mockResolvedValue([]),
    listRequests: jest.fn().mockResolvedValue({ rows: [], total: 0 }),
  };
}

function service() {
  const repository = fakeRepository();
  return {
    stats: new UsageStatsService(
      repository as unknown as UsageStatsRepository,
      // These ranges lie in 2025: keep every request-log row.
      new FixedRuntimeSettings(new EnvironmentSchema(), { requestLogRetentionDays: 0 }),
    ),
    repository,
  };
}

describe(UsageStatsService.name, () => {
  describe('summary', () => {
    it('should read whole days and hours from aggregates and only the edges from the log', async () => {
      const { stats, repository } = service();
      await stats.summary({ from: DAY0 - 90 * 60_000, to: DAY0 + 2 * 86_400_000 + 30 * 60_000 });
      expect(repository.aggregateTotals).toHaveBeenCalledWith({
        dim: 'all',
        dimId: '*',
        days: { from: DAY0, to: DAY0 + 2 * 86_400_000 },
        hours: [{ from: DAY0 - HOUR, to: DAY0 }],
      });
      expect(repository.requestLogTotals).toHaveBeenCalledWith(
        [
          { from: DAY0 - 90 * 60_000, to: DAY0 - HOUR },
          { from: DAY0 + 2 * 86_400_000, to: DAY0 + 2 * 86_400_000 + 30 * 60_000 },
        ],
        expect.anything(),
        undefined,
      );
    });

    it('should sum the request log alone when two dimensions are filtered', async () => {
      const { stats, repository } = service();
      await stats.summary({ from: DAY0, to: DAY0 + 86_400_000, keyId: 'k', model: 'm' });
      expect(repository.aggregateTotals).not.toHaveBeenCalled();
      expect(repository.requestLogTotals).toHaveBeenCalledWith(
        [{ from: DAY0, to: DAY0 + 86_400_000 }],
        { keyId: 'k', accountId: undefined, model: 'm' },
        undefined,
      );
    });

    it('should answer INVALID_RANGE when from is not before to', async () => {
      const { stats } = service();
      await expect(stats.summary({ from: DAY0, to: DAY0 })).rejects.toMatchObject({
        code: UsageExceptionCode.INVALID_RANGE,
        status: 400,
      });
    });
  });

  describe('timeseries', () => {
    it('should answer DIM_ID_REQUIRED when a dimension other than all has no id', async () => {
      const { stats } = service();
      await expect(stats.timeseries({ dim: 'key' })).rejects.toMatchObject({
        code: UsageExceptionCode.DIM_ID_REQUIRED,
      });
    });

    it('should answer RANGE_TOO_LARGE when the series would have too many points', async () => {
      const { stats } = service();
      const to = DAY0 + (MAX_SERIES_POINTS + 1) * HOUR;
      await expect(stats.timeseries({ from: DAY0, to, bucket: 'hour' })).rejects.toMatchObject({
        code: UsageExceptionCode.RANGE_TOO_LARGE,
      });
      await expect(stats.timeseries({ from: DAY0, to, bucket: 'day' })).resolves.toBeDefined();
    });
  });

  describe('keyUsage', () => {
    it('should cover the last 30 UTC days, today included, when no range is given', async () => {
      const { stats } = service();
      const now = DAY0 + 5 * HOUR;
      const usage = await stats.keyUsage('key-a', { to: now });
      expect(usage.daily).toHaveLength(30);
      expect(usage.from).toBe(new Date(DAY0 - 29 * 86_400_000).toISOString());
      expect(usage.daily[29].start).toBe(new Date(DAY0).toISOString());
    });
  });
});
