import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Patch,
  Post,
  Put,
  Query,
} from '@nestjs/common';
import { AdminOnly } from 'src/common/auth/route-access.decorator';
import { AccountGroupsService } from './account-groups.service';
import {
  AccountGroupListResponseDto,
  AccountGroupResponseDto,
  CreateAccountGroupDto,
  ListAccountGroupsQueryDto,
  SetGroupMembersDto,
  UpdateAccountGroupDto,
} from './dto/account-group.dto';

@Controller('admin/api/account-groups')
export class AccountGroupsController {
  constructor(private readonly groups: AccountGroupsService) {}

  @AdminOnly()
  @Post()
  create(@Body() body: CreateAccountGroupDto): Promise<AccountGroupResponseDto> {
    return this.groups.create(body);
  }

  @AdminOnly()
  @Get()
  async list(@Query() query: ListAccountGroupsQueryDto): Promise<AccountGroupListResponseDto> {
    return { items: await this.groups.list(query.platform) };
  }

  @AdminOnly()
  @Get(':id')
  get(@Param('id') id: string): Promise<AccountGroupResponseDto> {
    return this.groups.get(id);
  }

  @AdminOnly()
  @Patch(':id')
  update(
    @Param('id') id: string,
    @Body() body: UpdateAccountGroupDto,
  ): Promise<AccountGroupResponseDto> {
    return this.groups.update(id, body);
  }

  @AdminOnly()
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): Promise<void> {
    return this.groups.delete(id);
  }

  /** Replaces the members with exactly these accounts. */
  @AdminOnly()
  @Put(':id/members')
  setMembers(
    @Param('id') id: string,
    @Body() body: SetGroupMembersDto,
  ): Promise<AccountGroupResponseDto> {
    return this.groups.setMembers(id, body.accountIds);
  }
}
