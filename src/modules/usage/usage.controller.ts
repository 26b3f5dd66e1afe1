import { Controller, Get, Query } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import {
  RequestLogQueryDto,
  UsageBreakdownQueryDto,
  UsageSummaryQueryDto,
  UsageTimeseriesQueryDto,
} from './dto/usage-query.dto';
import type {
  RequestLogPageDto,
  UsageBreakdownDto,
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

  @Get('requests')
  requests(@Query() query: RequestLogQueryDto): Promise<RequestLogPageDto> {
    return this.stats.requests(query);
  }
}
