import { Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { AdminOnly } from 'src/common/auth/route-access.decorator';
import {
  UpdateSettingsDto,
  type SettingListResponseDto,
  type SettingResponseDto,
  type SettingsUpdateResponseDto,
} from './dto/settings.dto';
import { SettingsService } from './settings.service';

/**
 * Admin API for the runtime settings: read every one (value, default, source, bounds), change
 * several at once, or return one to its environment default. Changes apply on every instance
 * without a restart.
 *
 * Reads are meant for admins and viewers, writes for admins only: `@AdminOnly()` until the role
 * decorator (`@Roles('admin', 'viewer')` / `@Roles('admin')`) is on this branch.
 */
@Controller('admin/api/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @AdminOnly()
  @Get()
  list(): SettingListResponseDto {
    return this.settings.list();
  }

  @AdminOnly()
  @Get(':key')
  show(@Param('key') key: string): SettingResponseDto {
    return this.settings.show(key);
  }

  @AdminOnly()
  @Put()
  update(@Body() body: UpdateSettingsDto): Promise<SettingsUpdateResponseDto> {
    return this.settings.update(body.values);
  }

  @AdminOnly()
  @Delete(':key')
  reset(@Param('key') key: string): Promise<SettingsUpdateResponseDto> {
    return this.settings.reset(key);
  }
}
