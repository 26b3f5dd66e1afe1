import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { Roles } from 'src/common/auth/route-access.decorator';
import { AccountTestService } from './account-test.service';
import { AccountsService } from './accounts.service';
import {
  AccountDetailResponseDto,
  AccountListResponseDto,
  AccountResponseDto,
  AccountTestResponseDto,
  HealthHistoryResponseDto,
} from './dto/account.response.dto';
import { CreateAccountDto } from './dto/create-account.dto';
import { HealthHistoryQueryDto, ListAccountsQueryDto } from './dto/list-accounts.query.dto';
import { UpdateAccountDto } from './dto/update-account.dto';

@Controller('admin/api/accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly testing: AccountTestService,
  ) {}

  @Roles('admin', 'operator')
  @Post()
  create(@Body() body: CreateAccountDto): Promise<AccountResponseDto> {
    return this.accounts.create(body);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get()
  list(@Query() query: ListAccountsQueryDto): Promise<AccountListResponseDto> {
    return this.accounts.list(query);
  }

  /** The account with its current health states and latest transitions. */
  @Roles('admin', 'operator', 'viewer')
  @Get(':id')
  get(@Param('id') id: string): Promise<AccountDetailResponseDto> {
    return this.accounts.get(id);
  }

  @Roles('admin', 'operator')
  @Patch(':id')
  update(@Param('id') id: string, @Body() body: UpdateAccountDto): Promise<AccountResponseDto> {
    return this.accounts.update(id, body);
  }

  @Roles('admin', 'operator')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id') id: string): Promise<void> {
    return this.accounts.delete(id);
  }

  @Roles('admin', 'operator')
  @Post(':id/enable')
  @HttpCode(200)
  enable(@Param('id') id: string): Promise<AccountResponseDto> {
    return this.accounts.setEnabled(id, true);
  }

  @Roles('admin', 'operator')
  @Post(':id/disable')
  @HttpCode(200)
  disable(@Param('id') id: string): Promise<AccountResponseDto> {
    return this.accounts.setEnabled(id, false);
  }

  @Roles('admin', 'operator')
  @Post(':id/reset-health')
  @HttpCode(200)
  resetHealth(@Param('id') id: string): Promise<AccountDetailResponseDto> {
    return this.accounts.resetHealth(id);
  }

  @Roles('admin', 'operator', 'viewer')
  @Get(':id/health-history')
  async healthHistory(
    @Param('id') id: string,
    @Query() query: HealthHistoryQueryDto,
  ): Promise<HealthHistoryResponseDto> {
    return { items: await this.accounts.healthHistory(id, query.limit ?? 50) };
  }

  /** One small real request through the account; 200 with ok: false when the upstream refuses. */
  @Roles('admin', 'operator')
  @Post(':id/test')
  @HttpCode(200)
  test(@Param('id') id: string): Promise<AccountTestResponseDto> {
    return this.testing.test(id);
  }
}
