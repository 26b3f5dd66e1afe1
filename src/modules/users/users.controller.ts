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
  CreateUserRequestDto,
  ListUsersQueryDto,
  ResetPasswordRequestDto,
  UpdateUserRequestDto,
  type UserListResponseDto,
  type UserResponseDto,
  type UserWithPasswordResponseDto,
} from './dto/user.dto';
import { UsersService } from './users.service';

/** Admin API for users. Never returns a password hash; a generated password only once. */
@Controller('admin/api/users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Roles('admin', 'viewer')
  @Get()
  list(@Query() query: ListUsersQueryDto): Promise<UserListResponseDto> {
    return this.users.list(query);
  }

  @Roles('admin', 'viewer')
  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<UserResponseDto> {
    return this.users.get(id);
  }

  @Roles('admin')
  @Post()
  create(@Body() body: CreateUserRequestDto): Promise<UserWithPasswordResponseDto> {
    return this.users.create(body);
  }

  @Roles('admin')
  @Patch(':id')
  update(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: UpdateUserRequestDto,
  ): Promise<UserResponseDto> {
    return this.users.update(id, body);
  }

  @Roles('admin')
  @Post(':id/reset-password')
  @HttpCode(200)
  resetPassword(
    @Param('id', ParseUUIDPipe) id: string,
    @Body() body: ResetPasswordRequestDto,
  ): Promise<UserWithPasswordResponseDto> {
    return this.users.resetPasswordOf(id, body.password);
  }

  @Roles('admin')
  @Delete(':id')
  @HttpCode(204)
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.users.remove(id);
  }
}
