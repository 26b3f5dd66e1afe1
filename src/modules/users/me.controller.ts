import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import type { AdminRequest } from 'src/modules/auth/route-access.guard';
import type {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  CreatedApiKeyResponseDto,
} from 'src/modules/api-keys/dto/api-key-response.dto';
import type {
  RequestLogPageDto,
  UsageSummaryDto,
  UsageTimeseriesDto,
} from 'src/modules/usage/dto/usage-response.dto';
import {
  CreateOwnKeyRequestDto,
  ListOwnKeysQueryDto,
  OwnRequestLogQueryDto,
  OwnUsageSummaryQueryDto,
  OwnUsageTimeseriesQueryDto,
  UpdateOwnKeyRequestDto,
} from './dto/own-key.dto';
import type { UserCapsResponseDto } from './dto/user.dto';
import { SelfServiceService, type SelfServiceCaller } from './self-service.service';

function caller(req: AdminRequest): SelfServiceCaller {
  // Set by the route-access guard on every route that declares roles.
  return req.admin as SelfServiceCaller;
}

/**
 * Self-service: the signed-in user's own keys (within the caps an admin set for them) and their
 * usage. Open to every role; each call only ever reaches the caller's own keys.
 */
@Roles('admin', 'operator', 'viewer', 'user')
@Controller('admin/api/me')
export class MeController {
  constructor(private readonly self: SelfServiceService) {}

  @Get('caps')
  caps(@Req() req: AdminRequest): Promise<UserCapsResponseDto> {
    return this.self.caps(caller(req));
  }

  @Get('keys')
  listKeys(
    @Req() req: AdminRequest,
    @Query() query: ListOwnKeysQueryDto,
  ): Promise<ApiKeyListResponseDto> {
    return this.self.listKeys(caller(req), query);
  }

  @Post('keys')
  createKey(
    @Req() req: AdminRequest,
    @Body() body: CreateOwnKeyRequestDto,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.self.createKey(caller(req), body);
  }

  @Get('keys/:id')
  getKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ApiKeyResponseDto> {
    return this.self.getKey(caller(req), id);
  }

  @Patch('keys/:id')
  updateKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateOwnKeyRequestDto,
  ): Promise<ApiKeyResponseDto> {
    return this.self.updateKey(caller(req), id, body);
  }

  @Post('keys/:id/rotate')
  @HttpCode(200)
  rotateKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<CreatedApiKeyResponseDto> {
    return this.self.rotateKey(caller(req), id);
  }

  @Post('keys/:id/disable')
  @HttpCode(200)
  disableKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ApiKeyResponseDto> {
    return this.self.setKeyEnabled(caller(req), id, false);
  }

  @Post('keys/:id/enable')
  @HttpCode(200)
  enableKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ApiKeyResponseDto> {
    return this.self.setKeyEnabled(caller(req), id, true);
  }

  @Delete('keys/:id')
  removeKey(
    @Req() req: AdminRequest,
    @Param('id', ParseUUIDPipe) id: string,
  ): Promise<ApiKeyResponseDto> {
    return this.self.removeKey(caller(req), id);
  }

  @Get('usage/summary')
  usageSummary(
    @Req() req: AdminRequest,
    @Query() query: OwnUsageSummaryQueryDto,
  ): Promise<UsageSummaryDto> {
    return this.self.usageSummary(caller(req), query);
  }

  @Get('usage/timeseries')
  usageTimeseries(
    @Req() req: AdminRequest,
    @Query() query: OwnUsageTimeseriesQueryDto,
  ): Promise<UsageTimeseriesDto> {
    return this.self.usageTimeseries(caller(req), query);
  }

  @Get('usage/requests')
  requests(
    @Req() req: AdminRequest,
    @Query() query: OwnRequestLogQueryDto,
  ): Promise<RequestLogPageDto> {
    return this.self.requests(caller(req), query);
  }
}
