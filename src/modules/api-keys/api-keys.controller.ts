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
import { ApiKeysService } from './api-keys.service';
import type {
  ApiKeyListResponseDto,
  ApiKeyResponseDto,
  BatchCreatedApiKeysResponseDto,
  CreatedApiKeyResponseDto,
} from './dto/api-key-response.dto';
import {
  BatchCreateApiKeysRequestDto,
  CreateApiKeyRequestDto,
  UpdateApiKeyRequestDto,
} from './dto/create-api-key.dto';
import {
  ApiKeyBatchActionRequestDto,
  type ApiKeyBatchActionResponseDto,
} from './dto/api-key-batch-action.dto';
import { ApiKeyBudgetsQueryDto, type ApiKeyBudgetsResponseDto } from './dto/api-key-budgets.dto';
import { ListApiKeysQueryDto } from './dto/list-api-keys.dto';

/** Admin API for Switchyard keys. Responses never carry a digest; secrets only on create/rotate. */
@Controller('admin/api/keys')
export class ApiKeysController {
  constructor(private readonly keys: ApiKeysService) {}

  @Roles('admin', 'operator')
  @Post()
  create(@Body() body: CreateApiKeyRequestDto): Promise<CreatedApiKeyResponseDto> {
    return this.keys.create(body);
  }

  @Roles('admin', 'operator')
  @Post('batch')
  async createBatch(
    @Body() body: BatchCreateApiKeysRequestDto,
  ): Promise<BatchCreatedApiKeysResponseDto> {
    return { items: await this.keys.createBatch(body) };
  }

  /** Enable, disable, delete or restore many keys; each key is changed on its own. */
  @Roles('admin', 'operator')
  @Post('batch-action')
  @HttpCode(200)
  batchAction(@Body() body: ApiKeyBatchActionRequestDto): Promise<ApiKeyBatchActionResponseDto> {
    return this.keys.batchAction(body.action, body.ids);
  }

  /** What is used of each key's limits and budgets now. Declared before `:id`, which it would match. */
  @Roles('admin', 'operator', 'viewer')
  @Get('budgets')
  budgets(@Query() query: ApiKeyBudgetsQueryDto): Promise<ApiKeyBudgetsResponseDto> {
    return this.keys.budgets(query.ids);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(@Query() query: ListApiKeysQueryDto): Promise<ApiKeyListResponseDto> {
    return this.keys.list(query);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyResponseDto> {
    return this.keys.get(id);
  }

  @Roles('admin', 'operator')
  @Patch(':id')
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateApiKeyRequestDto,
  ): Promise<ApiKeyResponseDto> {
    return this.keys.update(id, body);
  }

  @Roles('admin', 'operator')
  @Post(':id/disable')
  @HttpCode(200)
  disable(@Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyResponseDto> {
    return this.keys.setEnabled(id, false);
  }

  @Roles('admin', 'operator')
  @Post(':id/enable')
  @HttpCode(200)
  enable(@Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyResponseDto> {
    return this.keys.setEnabled(id, true);
  }

  @Roles('admin', 'operator')
  @Post(':id/rotate')
  @HttpCode(200)
  rotate(@Param('id', ParseUUIDPipe) id: string): Promise<CreatedApiKeyResponseDto> {
    return this.keys.rotate(id);
  }

  @Roles('admin', 'operator')
  @Delete(':id')
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyResponseDto> {
    return this.keys.remove(id);
  }

  @Roles('admin', 'operator')
  @Post(':id/restore')
  @HttpCode(200)
  restore(@Param('id', ParseUUIDPipe) id: string): Promise<ApiKeyResponseDto> {
    return this.keys.restore(id);
  }
}
