import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { PriceOverrideRequestDto } from './pricing.dto';
import { RequestLogQueryDto, UsageTimeseriesQueryDto } from './usage-query.dto';

/** What the global ValidationPipe does with a query string or body. */
function parse<T extends object>(cls: new () => T, plain: object): { value: T; errors: string[] } {
  const value = plainToInstance(cls, plain);
  const messages = (e: ValidationError): string[] => [
    ...Object.values(e.constraints ?? {}),
    ...(e.children ?? []).flatMap(messages),
  ];
  const errors = validateSync(value, { whitelist: true, forbidNonWhitelisted: true }).flatMap(
    messages,
  );
  return { value, errors };
}

describe(RequestLogQueryDto.name, () => {
  it('should turn ISO times and epoch milliseconds into numbers when both forms are sent', () => {
    const { value, errors } = parse(RequestLogQueryDto, {
      from: '2025-03-08T00:00:00Z',
      to: '1741478400000',
      page: '2',
      pageSize: '25',
      status: '529',
      outcome: 'error',
    });
    expect(errors).toEqual([]);
    expect(value).toMatchObject({
      from: Date.parse('2025-03-08T00:00:00Z'),
      to: 1_741_478_400_000,
      page: 2,
      pageSize: 25,
      status: 529,
    });
  });

  it('should refuse a time that is neither ISO 8601 nor epoch milliseconds', () => {
    const { errors } = parse(RequestLogQueryDto, { from: 'yesterday-ish' });
    expect(errors).toEqual(['from must be an ISO 8601 time or epoch milliseconds']);
  });

  it('should refuse a page size over 500 and an unknown parameter', () => {
    expect(parse(RequestLogQueryDto, { pageSize: '501' }).errors).toHaveLength(1);
    expect(parse(RequestLogQueryDto, { sort: 'asc' }).errors).toHaveLength(1);
  });
});

describe(UsageTimeseriesQueryDto.name, () => {
  it('should refuse a bucket or dimension that does not exist', () => {
    expect(parse(UsageTimeseriesQueryDto, { bucket: 'week' }).errors).toHaveLength(1);
    expect(parse(UsageTimeseriesQueryDto, { dim: 'user' }).errors).toHaveLength(1);
  });
});

describe(PriceOverrideRequestDto.name, () => {
  it('should accept dollars per million tokens and a complete long-context tier', () => {
    const { errors } = parse(PriceOverrideRequestDto, {
      input: 3,
      output: 15,
      longContext: {
        thresholdTokens: 200_000,
        input: 6,
        output: 22.5,
        cacheWrite5m: 7.5,
        cacheWrite1h: 12,
        cacheRead: 0.6,
      },
    });
    expect(errors).toEqual([]);
  });

  it('should refuse negative prices and a tier without its threshold', () => {
    expect(parse(PriceOverrideRequestDto, { input: -1 }).errors).toHaveLength(1);
    const { errors } = parse(PriceOverrideRequestDto, {
      longContext: { input: 6, output: 22.5, cacheWrite5m: 7.5, cacheWrite1h: 12, cacheRead: 0.6 },
    });
    expect(errors).toEqual([
      'thresholdTokens must not be less than 1',
      'thresholdTokens must be an integer number',
    ]);
  });
});
