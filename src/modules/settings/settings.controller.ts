import { Body, Controller, Delete, Get, Param, Put } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
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
 * Admins and viewers read them; only admins change them.
 */
@Controller('admin/api/settings')
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Roles('admin', 'viewer')
  @Get()
  list(): SettingListResponseDto {
    return this.settings.list();
  }

  @Roles('admin', 'viewer')
  @Get(':key')
  show(@Param('key') key: string): SettingResponseDto {
    return this.settings.show(key);
  }

  @Roles('admin')
  @Put()
  update(@Body() body: UpdateSettingsDto): Promise<SettingsUpdateResponseDto> {
    return this.settings.update(body.values);
  }

  @Roles('admin')
  @Delete(':key')
  reset(@Param('key') key: string): Promise<SettingsUpdateResponseDto> {
    return this.settings.reset(key);
  }
}
