import { Controller, Get, Header, Param, Query, StreamableFile } from '@nestjs/common';
import { Readable } from 'node:stream';
import { Roles } from 'src/common/auth/route-access.decorator';
import {
  RequestIdParamDto,
  RequestLogExportQueryDto,
  RequestLogQueryDto,
  UsageBreakdownQueryDto,
  UsagePerformanceQueryDto,
  UsageSummaryQueryDto,
  UsageTimeseriesQueryDto,
} from './dto/usage-query.dto';
import type {
  RequestLogEntryDto,
  RequestLogPageDto,
  UsageBreakdownDto,
  UsagePerformanceDto,
  UsageSummaryDto,
  UsageTimeseriesDto,
} from './dto/usage-response.dto';
import { UsageStatsService } from './usage-stats.service';

/** Usage statistics for admins. Times are UTC; ranges are half-open `[from, to)`. */
@Roles('admin', 'operator', 'viewer')
@Controller('admin/api/usage')
export class UsageController {
  constructor(private readonly stats: UsageStatsService) {}

  @Get('summary')
  summary(@Query() query: UsageSummaryQueryDto): Promise<UsageSummaryDto> {
    return this.stats.summary(query);
  }

  @Get('timeseries')
  timeseries(@Query() query: UsageTimeseriesQueryDto): Promise<UsageTimeseriesDto> {
    return this.stats.timeseries(query);
  }

  @Get('breakdown')
  breakdown(@Query() query: UsageBreakdownQueryDto): Promise<UsageBreakdownDto> {
    return this.stats.breakdown(query);
  }

  /** Error and failover rates, time-to-first-byte and latency percentiles (request log). */
  @Get('performance')
  performance(@Query() query: UsagePerformanceQueryDto): Promise<UsagePerformanceDto> {
    return this.stats.performance(query);
  }

  @Get('requests')
  requests(@Query() query: RequestLogQueryDto): Promise<RequestLogPageDto> {
    return this.stats.requests(query);
  }

  /**
   * The same filters as the log, every matching row, streamed (declared before `:id`). The CSV
   * headers go with the file only: a refused query is answered as the usual JSON error.
   */
  @Get('requests/export.csv')
  @Header('cache-control', 'no-store')
  export(@Query() query: RequestLogExportQueryDto): StreamableFile {
    return new StreamableFile(Readable.from(this.stats.exportCsv(query)), {
      type: 'text/csv; charset=utf-8',
      disposition: 'attachment; filename="switchyard-requests.csv"',
    });
  }

  @Get('requests/:id')
  request(@Param() params: RequestIdParamDto): Promise<RequestLogEntryDto> {
    return this.stats.request(params.id);
  }
}
