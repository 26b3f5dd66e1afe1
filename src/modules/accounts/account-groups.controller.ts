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
import { Roles } from 'src/common/auth/route-access.decorator';
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

  @Roles('admin', 'operator')
  @Post()
  create(@Body() body: CreateAccountGroupDto): Promise<AccountGroupResponseDto> {
    return this.groups.create(body);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(@Query() query: ListAccountGroupsQueryDto): Promise<AccountGroupListResponseDto> {
    return this.groups.page(query);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get(':id')
  get(@Param('id') id: string): Promise<AccountGroupResponseDto> {
    return this.groups.get(id);
  }

  @Roles('admin', 'operator')
  @Patch(':id')
  update(
    @Param('id') id: string,
    @Body() body: UpdateAccountGroupDto,
  ): Promise<AccountGroupResponseDto> {
    return this.groups.update(id, body);
  }

  @Roles('admin', 'operator')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): Promise<void> {
    return this.groups.delete(id);
  }

  /** Replaces the members with exactly these accounts. */
  @Roles('admin', 'operator')
  @Put(':id/members')
  setMembers(
    @Param('id') id: string,
    @Body() body: SetGroupMembersDto,
  ): Promise<AccountGroupResponseDto> {
    return this.groups.setMembers(id, body.accountIds);
  }
}
