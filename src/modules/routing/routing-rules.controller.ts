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
} from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import { NotAudited } from 'src/modules/audit/audit.decorators';
import {
  CreateRoutingRuleDto,
  KeyRoutingRulesQueryDto,
  ListRoutingRulesQueryDto,
  ResolveRoutingRuleDto,
  UpdateRoutingRuleDto,
  type RoutingRuleListResponseDto,
  type RoutingRuleResolutionDto,
  type RoutingRuleResponseDto,
} from './dto/routing-rule.dto';
import { RoutingRulesService } from './routing-rules.service';

/** Admin API for routing rules (per key or global, by scenario or model). Changes apply at once. */
@Controller('admin/api/routing-rules')
export class RoutingRulesController {
  constructor(private readonly rules: RoutingRulesService) {}

  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(@Query() query: ListRoutingRulesQueryDto): RoutingRuleListResponseDto {
    return this.rules.list(query);
  }

  /** Which rule (or `provider,model` override) a sample request would take now. */
  @Roles('admin', 'operator', 'viewer')
  @NotAudited()
  @Post('resolve')
  @HttpCode(200)
  resolve(@Body() body: ResolveRoutingRuleDto): RoutingRuleResolutionDto {
    return this.rules.resolve(body);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<RoutingRuleResponseDto> {
    return this.rules.get(id);
  }

  @Roles('admin', 'operator')
  @Post()
  create(@Body() body: CreateRoutingRuleDto): Promise<RoutingRuleResponseDto> {
    return this.rules.create(body);
  }

  @Roles('admin', 'operator')
  @Patch(':id')
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateRoutingRuleDto,
  ): Promise<RoutingRuleResponseDto> {
    return this.rules.update(id, body);
  }

  @Roles('admin', 'operator')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.rules.delete(id);
  }
}

/** A key's routing rules, where an admin looking at the key expects them. */
@Controller('admin/api/keys')
export class KeyRoutingRulesController {
  constructor(private readonly rules: RoutingRulesService) {}

  /** The rules this key's requests are matched against, in evaluation order. */
  @Roles('admin', 'operator', 'viewer')
  @Get(':id/routing-rules')
  list(
    @Param('id', ParseUUIDPipe) id: string,
    @Query() query: KeyRoutingRulesQueryDto,
  ): RoutingRuleListResponseDto {
    return this.rules.list({ ...query, apiKeyId: id });
  }
}
