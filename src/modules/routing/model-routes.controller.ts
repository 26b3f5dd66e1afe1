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
import {
  CreateModelRouteDto,
  ListModelRoutesQueryDto,
  ResolveModelRouteQueryDto,
  UpdateModelRouteDto,
  type ModelRouteListResponseDto,
  type ModelRouteResolutionDto,
  type ModelRouteResponseDto,
} from './dto/model-route.dto';
import { ModelRoutesService } from './model-routes.service';

/** Admin API for model routes: which platform serves a model name. Changes apply at once. */
@Controller('admin/api/model-routes')
export class ModelRoutesController {
  constructor(private readonly routes: ModelRoutesService) {}

  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(@Query() query: ListModelRoutesQueryDto): ModelRouteListResponseDto {
    return this.routes.list(query);
  }

  /** Where a request for `?model=` would go now. */
  @Roles('admin', 'operator', 'viewer')
  @Get('resolve')
  resolve(@Query() query: ResolveModelRouteQueryDto): ModelRouteResolutionDto {
    return this.routes.resolve(query.model);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<ModelRouteResponseDto> {
    return this.routes.get(id);
  }

  @Roles('admin', 'operator')
  @Post()
  create(@Body() body: CreateModelRouteDto): Promise<ModelRouteResponseDto> {
    return this.routes.create(body);
  }

  @Roles('admin', 'operator')
  @Patch(':id')
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateModelRouteDto,
  ): Promise<ModelRouteResponseDto> {
    return this.routes.update(id, body);
  }

  @Roles('admin', 'operator')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.routes.delete(id);
  }
}
